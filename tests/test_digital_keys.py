"""The merchant's key pool (issue 13): keys are encrypted the moment they are read, fingerprinted so a
duplicate is refused (in the file, against stored keys, and after a vault key rotation), listed masked,
assigned first in first out, each to exactly one order item unit even under hundreds of concurrent
fulfilments, re-encrypted by rotation, never readable by the analyst role, and nowhere in clear."""
from __future__ import annotations

import json
import logging
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from canary import assert_in_no_column, secret_forms
from cryptography.fernet import Fernet
from order_rows import add_order, add_product, add_store
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

from marketsync.assets.digital.keys import (
    DUPLICATE_IN_FILE,
    DUPLICATE_STORED,
    INVALID,
    NOT_POOL_PRODUCT,
    UNKNOWN_SKU,
    DigitalKeyError,
    assign_pool_key,
    check_pool_levels,
    import_keys,
    list_keys,
    load_key,
    pool_levels,
    store_supplier_key,
)
from marketsync.resources.credentials import DigitalKey
from marketsync.resources.vault import CredentialVault

STORE = "shop"


def _digital(conn, store_id: int, sku: str, sources: str = "pool_then_supplier", threshold: int = 5) -> int:
    product_id = add_product(conn, store_id, sku, title=f"Game {sku}")
    conn.execute(text("""INSERT INTO ops.digital_products (product_id, store_id, supplier_product_id, sources,
                                                           low_pool_threshold)
                         VALUES (:p, :s, CASE WHEN :src = 'pool_only' THEN NULL ELSE 'cws-' || :p END, :src, :t)"""),
                 {"p": product_id, "s": store_id, "src": sources, "t": threshold})
    return product_id


@pytest.fixture
def pool_store(warehouse):
    """Store 'shop' with digital products GAME-A and GAME-B (pool first), SUP-ONLY (supplier only) and a
    physical product MUG."""
    with warehouse.begin() as conn:
        store = add_store(conn, STORE)
        products = {sku: _digital(conn, store[0], sku) for sku in ("GAME-A", "GAME-B")}
        products["SUP-ONLY"] = _digital(conn, store[0], "SUP-ONLY", sources="supplier_only")
        products["MUG"] = add_product(conn, store[0], "MUG")
    return store, products


def _csv(path, rows, header="sku,code,kind,links"):
    with open(path, "w", newline="") as f:
        f.write(header + "\n")
        for row in rows:
            f.write(",".join(f'"{v}"' if "," in v else v for v in row) + "\n")
    return path


def _codes(prefix: str, n: int) -> list[str]:
    return [f"{prefix}-{i:04d}-{secrets.token_hex(4).upper()}" for i in range(n)]


def test_import_encrypts_and_refuses_duplicates_and_unknown_skus(warehouse, vault, pool_store, tmp_path):
    a = _codes("AAAA", 4)
    rows = [("GAME-A", a[0], "text", "https://dl.example/a0 https://help.example/x"),
            ("GAME-A", a[1], "", ""),
            ("NOPE", a[2], "text", ""),              # line 4: unknown SKU
            ("GAME-A", f"  {a[0]} ", "text", ""),     # line 5: the key of line 2 again (blanks do not count)
            ("MUG", a[3], "text", ""),               # line 6: not a digital product
            ("SUP-ONLY", a[3], "text", ""),          # line 7: supplier only
            ("GAME-B", a[2], "image", ""),
            ("GAME-B", "", "text", ""),              # line 9: empty code
            ("GAME-B", a[3], "video", "")]           # line 10: unknown kind
    with warehouse.begin() as conn:
        result = import_keys(conn, vault, STORE, _csv(tmp_path / "keys.csv", rows))
    assert (result.read, result.imported, result.by_sku) == (9, 3, {"GAME-A": 2, "GAME-B": 1})
    assert result.refused == {UNKNOWN_SKU: [4, 6], DUPLICATE_IN_FILE: [5], NOT_POOL_PRODUCT: [7], INVALID: [9, 10]}
    assert result.reasons[5] == "the same key as line 2"
    assert not any(code in json.dumps(result.summary()) for code in a)

    with warehouse.begin() as conn:
        stored = conn.execute(text("SELECT token, key_id, fingerprint, kind FROM ops.digital_keys "
                                   "ORDER BY digital_key_id")).all()
        assert [r.kind for r in stored] == ["text", "text", "image"]
        assert {r.key_id for r in stored} == {vault.primary_key_id}
        first = vault.decrypt_key(stored[0].token)
        assert (first.code, first.kind, first.links) == (a[0], "text", ["https://dl.example/a0",
                                                                         "https://help.example/x"])
        assert a[0] not in repr(first) and a[0] not in str(first) and "dl.example" not in repr(first)
        assert all(a[0].encode() not in bytes(r.token) for r in stored)

    # The same keys again: every one already stored; a new one loads.
    with warehouse.begin() as conn:
        again = import_keys(conn, vault, STORE, _csv(tmp_path / "again.csv", [
            ("GAME-A", a[1]), ("GAME-B", a[2]), ("GAME-B", a[0]), ("GAME-B", "BBBB-NEW-0001")], header="sku,code"))
    assert again.imported == 1 and again.refused == {DUPLICATE_STORED: [2, 3, 4]}


def test_duplicates_stay_refused_across_a_key_rotation(warehouse, vault, secret_key, pool_store, tmp_path):
    codes = _codes("ROT", 5)
    keys_file = _csv(tmp_path / "k.csv", [("GAME-A", c) for c in codes], header="sku,code")
    with warehouse.begin() as conn:
        assert import_keys(conn, vault, STORE, keys_file).imported == 5
        before = dict(conn.execute(text("SELECT digital_key_id, fingerprint FROM ops.digital_keys")).all())

    new_key = Fernet.generate_key().decode()
    rotating = CredentialVault(secret_keys=f"{new_key},{secret_key}")
    # A new key in front, rotation not run yet: the stored fingerprints are under the old key.
    with warehouse.begin() as conn:
        assert import_keys(conn, rotating, STORE, keys_file).refused == {DUPLICATE_STORED: [2, 3, 4, 5, 6]}

    assert rotating.rotate(warehouse.engine, batch_size=2) == 5
    assert rotating.rotate(warehouse.engine) == 0
    only_new = CredentialVault(secret_keys=new_key)
    with warehouse.begin() as conn:
        rows = conn.execute(text("SELECT digital_key_id, key_id, fingerprint, token FROM ops.digital_keys "
                                 "ORDER BY 1")).all()
        assert {r.key_id for r in rows} == {only_new.primary_key_id} != {vault.primary_key_id}
        assert all(before[r.digital_key_id] != r.fingerprint for r in rows)  # re-fingerprinted
        assert [only_new.decrypt_key(r.token).code for r in rows] == codes  # the old key can go
        # After the old key is dropped, the same keys are still refused (and a new one still loads).
        result = import_keys(conn, only_new, STORE, _csv(tmp_path / "k2.csv", [
            *(("GAME-B", c) for c in codes), ("GAME-B", "ROT-NEW-KEY-0001")], header="sku,code"))
    assert result.refused == {DUPLICATE_STORED: [2, 3, 4, 5, 6]} and result.imported == 1


def test_rotation_of_credentials_and_keys_together(warehouse, vault, secret_key, pool_store, tmp_path):
    from marketsync.assets.accounts import upsert_account

    with warehouse.begin() as conn:
        vault.store(conn, upsert_account(conn, STORE, "letzshop").account_id, {"api_key": "k-0123456789"})
        import_keys(conn, vault, STORE, _csv(tmp_path / "k.csv", [("GAME-A", "ONE-KEY-0001")], header="sku,code"))
    rotating = CredentialVault(secret_keys=f"{Fernet.generate_key().decode()},{secret_key}")
    assert rotating.rotate(warehouse.engine) == 2  # one credential, one license key
    with warehouse.begin() as conn:
        assert set(conn.execute(text("SELECT key_id FROM ops.credentials UNION SELECT key_id FROM ops.digital_keys"))
                   .scalars()) == {rotating.primary_key_id}


def test_list_masks_keys_through_the_cli(run_cli, warehouse, pool_store, tmp_path):
    codes = _codes("LIST", 3)
    keys_file = _csv(tmp_path / "k.csv", [("GAME-A", codes[0]), ("GAME-A", codes[1]), ("GAME-B", codes[2]),
                                          ("GAME-B", codes[2]), ("WHAT", "LIST-UNKNOWN-0001")], header="sku,code")
    code, out, err = run_cli("digital", "keys", "import", STORE, str(keys_file))
    assert code == 0, err
    assert "imported 3 of 5" in out and "duplicate_in_file" in out and "line(s) 5" in out and "line 6" in out
    code, out_json, err = run_cli("digital", "keys", "import", STORE, str(keys_file), "--json")
    assert code == 0 and json.loads(out_json)["duplicate_stored"] == {"count": 3, "lines": [2, 3, 4]}

    with warehouse.begin() as conn:
        store_id, product_id = pool_store[0][0], pool_store[1]["GAME-A"]
        _, items = add_order(conn, pool_store[0], {"sku": "GAME-A"})
        assign_pool_key(conn, store_id, product_id, items[0], 1)
    code, listing, _ = run_cli("digital", "keys", "list", STORE)
    assert code == 0
    assert "LIST****" in listing and "assigned" in listing and "in_pool" in listing
    code, listing_json, _ = run_cli("digital", "keys", "list", STORE, "--sku", "GAME-B", "--json")
    rows = json.loads(listing_json)
    assert [(r["sku"], r["state"], r["key"]) for r in rows] == [("GAME-B", "in_pool", "LIST****")]
    for c in codes:
        assert c not in out + out_json + listing + listing_json
    assert run_cli("digital", "keys", "list", "nostore")[0] == 1


def test_pool_is_first_in_first_out_and_idempotent_per_unit(warehouse, vault, pool_store, tmp_path):
    store, products = pool_store
    codes = _codes("FIFO", 3)
    with warehouse.begin() as conn:
        import_keys(conn, vault, STORE, _csv(tmp_path / "a.csv", [("GAME-A", codes[0]), ("GAME-A", codes[1])],
                                             header="sku,code"))
        import_keys(conn, vault, STORE, _csv(tmp_path / "b.csv", [("GAME-A", codes[2])], header="sku,code"))
        _, items = add_order(conn, store, {"sku": "GAME-A"}, {"sku": "GAME-A"})
    taken = []
    with warehouse.begin() as conn:
        for item, unit in ((items[0], 1), (items[0], 2), (items[1], 1), (items[1], 2)):
            taken.append(assign_pool_key(conn, store[0], products["GAME-A"], item, unit))
        assert assign_pool_key(conn, store[0], products["GAME-A"], items[0], 2) == taken[1]  # again: same key
        assert [load_key(conn, vault, k).code for k in taken[:3]] == codes
        conn.execute(text("UPDATE ops.digital_keys SET delivered_at = now(), delivered_via = 'email' "
                          "WHERE digital_key_id = :k"), {"k": taken[0]})
        listed = list_keys(conn, vault, STORE, "GAME-A")
    assert taken[3] is None  # the pool is empty
    assert [(r["state"], r["order_item_id"], r["unit"]) for r in listed] == [
        ("delivered", items[0], 1), ("assigned", items[0], 2), ("assigned", items[1], 1)]
    assert all(r["key"] == "FIFO****" and "token" not in r for r in listed)


def test_a_unit_fulfilled_twice_at_once_keeps_one_key(warehouse, vault, pool_store, tmp_path):
    """The second fulfilment of a unit takes another key while the first is uncommitted; when the first
    commits, the second gives its key back to the pool and returns the first one's."""
    store, products = pool_store
    with warehouse.begin() as conn:
        import_keys(conn, vault, STORE, _csv(tmp_path / "k.csv", [("GAME-A", c) for c in _codes("RACE", 3)],
                                             header="sku,code"))
        _, items = add_order(conn, store, {"sku": "GAME-A"})
    args = (store[0], products["GAME-A"], items[0], 1)
    first_conn = warehouse.engine.connect()
    first_conn.begin()
    first = assign_pool_key(first_conn, *args)
    second: list = []
    racer = threading.Thread(target=lambda: second.append(_assign_committed(warehouse, args)))
    racer.start()
    racer.join(1.0)
    assert racer.is_alive()  # waits on the unit, not on the pool
    first_conn.commit()
    first_conn.close()
    racer.join(10)
    assert second == [first]
    with warehouse.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM ops.digital_keys WHERE order_item_id IS NULL")).scalar() == 2


def _assign_committed(warehouse, args):
    with warehouse.begin() as conn:
        return assign_pool_key(conn, *args)


def test_concurrent_fulfilments_never_share_a_key(warehouse, vault, pool_store, tmp_path):
    store, products = pool_store
    pool, items_n, units = 200, 150, 2  # 300 units wanted, 200 keys
    with warehouse.begin() as conn:
        import_keys(conn, vault, STORE, _csv(tmp_path / "k.csv", [("GAME-A", c) for c in _codes("CONC", pool)],
                                             header="sku,code"))
        _, items = add_order(conn, store, *({"sku": "GAME-A"} for _ in range(items_n)))
    work = [(item, unit) for item in items for unit in range(1, units + 1)]
    work = work + work[::3]  # a third of the units are fulfilled twice, concurrently
    start = threading.Barrier(12)

    def fulfil(chunk):
        start.wait()
        got = []
        for item, unit in chunk:
            with warehouse.begin() as conn:  # each unit in its own transaction, as a fulfilment run does
                got.append(((item, unit), assign_pool_key(conn, store[0], products["GAME-A"], item, unit)))
        return got

    with ThreadPoolExecutor(12) as executor:
        results = [pair for part in executor.map(fulfil, [work[i::12] for i in range(12)]) for pair in part]

    given: dict = {}
    for unit, key in results:
        if key is not None:
            assert given.setdefault(unit, key) == key, "a unit got two keys"
    assert len(set(given.values())) == len(given) == min(pool, items_n * units)
    with warehouse.begin() as conn:
        counts = conn.execute(text("""
            SELECT count(*) FILTER (WHERE order_item_id IS NOT NULL) AS assigned,
                   count(DISTINCT (order_item_id, unit)) FILTER (WHERE order_item_id IS NOT NULL) AS units,
                   count(*) FILTER (WHERE order_item_id IS NULL) AS left_over
            FROM ops.digital_keys""")).one()
        assert (counts.assigned, counts.units, counts.left_over) == (pool, pool, 0)
        twice = conn.execute(text("""SELECT count(*) FROM (SELECT fingerprint FROM ops.digital_keys
                                     WHERE order_item_id IS NOT NULL GROUP BY fingerprint HAVING count(*) > 1) d""")
                             ).scalar_one()
        assert twice == 0
        db_pairs = dict(conn.execute(text("SELECT (order_item_id, unit)::text, digital_key_id FROM ops.digital_keys "
                                          "WHERE order_item_id IS NOT NULL")).all())
    assert sorted(db_pairs.values()) == sorted(given.values())


def test_supplier_keys_are_stored_once(warehouse, vault, pool_store, tmp_path):
    store, products = pool_store
    with warehouse.begin() as conn:
        _, items = add_order(conn, store, {"sku": "GAME-A"})
        purchase = conn.execute(text("""INSERT INTO ops.digital_purchases (store_id, order_item_id, client_order_id,
                                            supplier_product_id, listed_unit_price)
                                        VALUES (:s, :o, 'ms-000000001', 'cws-1', 9.99) RETURNING purchase_id"""),
                                {"s": store[0], "o": items[0]}).scalar_one()
        key = DigitalKey("SUPP-KEY-000000001", "text", ["https://dl.example/s"])
        args = {"store_id": store[0], "product_id": products["GAME-A"], "purchase_id": purchase,
                "order_item_id": items[0], "unit": 1}
        first = store_supplier_key(conn, vault, key=key, **args)
        assert store_supplier_key(conn, vault, key=key, **args) == first
        assert assign_pool_key(conn, store[0], products["GAME-A"], items[0], 1) == first
        assert load_key(conn, vault, first).links == ["https://dl.example/s"]
        # The merchant later tries to load the same key into the pool: refused.
        result = import_keys(conn, vault, STORE, _csv(tmp_path / "k.csv", [("GAME-A", key.code)], header="sku,code"))
        assert result.refused == {DUPLICATE_STORED: [2]}
        other = conn.execute(text("""INSERT INTO ops.digital_purchases (store_id, order_item_id, unit, client_order_id,
                                         supplier_product_id, listed_unit_price)
                                     VALUES (:s, :o, 2, 'ms-000000002', 'cws-1', 9.99) RETURNING purchase_id"""),
                             {"s": store[0], "o": items[0]}).scalar_one()
        with pytest.raises(DigitalKeyError, match="already holds") as refused:
            store_supplier_key(conn, vault, key=key, **{**args, "purchase_id": other, "unit": 2})
        assert key.code not in str(refused.value)


def test_low_pool_alert_opens_once_and_closes_on_refill(warehouse, vault, pool_store, tmp_path):
    store, products = pool_store
    with warehouse.begin() as conn:
        conn.execute(text("UPDATE ops.digital_products SET low_pool_threshold = 2 WHERE product_id = :p"),
                     {"p": products["GAME-B"]})
        import_keys(conn, vault, STORE, _csv(tmp_path / "a.csv", [("GAME-B", "LOW-KEY-00001")], header="sku,code"))
        check_pool_levels(conn, store[0])
        levels = {level.sku: level for level in pool_levels(conn, store[0])}
        assert set(levels) == {"GAME-A", "GAME-B"}  # SUP-ONLY has no pool
        assert (levels["GAME-B"].unassigned, levels["GAME-B"].low, levels["GAME-A"].low) == (1, True, True)
        alerts = conn.execute(text("SELECT source, message FROM ops.alerts WHERE closed_at IS NULL ORDER BY 1")).all()
        assert [a.source for a in alerts] == [f"digital_low_pool:{products['GAME-A']}",
                                              f"digital_low_pool:{products['GAME-B']}"]
        assert "GAME-B is low: 1 unassigned" in alerts[1].message and "LOW-KEY" not in alerts[1].message
        import_keys(conn, vault, STORE, _csv(tmp_path / "b.csv", [("GAME-B", "LOW-KEY-00002")], header="sku,code"))
        still_open = conn.execute(text("SELECT source FROM ops.alerts WHERE closed_at IS NULL")).scalars().all()
        assert still_open == [f"digital_low_pool:{products['GAME-A']}"]




def test_canary_key_never_appears_in_clear(run_cli, warehouse, vault, pool_store, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    store, products = pool_store
    canary = f"CANA+ry/{secrets.token_hex(6)}=&%?#~:;key"
    link = f"https://dl.example/{secrets.token_hex(8)}?token=canary"
    keys_file = _csv(tmp_path / "k.csv", [("GAME-A", canary, "text", link), ("GAME-A", canary, "text", ""),
                                          ("GAME-B", canary, "text", "")])
    outputs = []
    for args in (("digital", "keys", "import", STORE, str(keys_file)),
                 ("digital", "keys", "import", STORE, str(keys_file), "--json"),
                 ("digital", "keys", "list", STORE), ("digital", "keys", "list", STORE, "--json")):
        code, out, err = run_cli(*args)
        assert code == 0, err
        outputs.append(out + err)
    with warehouse.begin() as conn:
        _, items = add_order(conn, store, {"sku": "GAME-A"})
        key_id = assign_pool_key(conn, store[0], products["GAME-A"], items[0], 1)
        key = load_key(conn, vault, key_id)
        logging.getLogger("marketsync.test").info("delivered %s %r", key, key)
        check_pool_levels(conn, store[0])
    assert (key.code, key.links) == (canary, [link])  # the key is there, only never in clear
    outputs.append(run_cli("digital", "keys", "list", STORE)[1])

    captured = "\n".join(outputs) + "\n".join(r.getMessage() for r in caplog.records) + caplog.text
    forms = secret_forms(canary) | secret_forms(link)
    for form in forms:
        assert form not in captured
    with warehouse.engine.connect() as conn:
        columns = conn.execute(text(
            """SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns
               WHERE table_schema IN ('raw', 'core', 'ops')
                 AND data_type IN ('text', 'character varying', 'character', 'json', 'jsonb', 'bytea')""")).all()
        assert any(c.table_name == "digital_keys" and c.column_name == "token" for c in columns)
        assert_in_no_column(conn, forms, columns, "the key")


def test_analyst_cannot_read_keys(warehouse):
    for statement in ("SELECT * FROM ops.digital_keys", "SELECT token FROM ops.digital_keys",
                      "SELECT * FROM ops.digital_products", "SELECT * FROM ops.digital_purchases"):
        with warehouse.engine.connect() as conn:
            conn.execute(text("SET ROLE analyst"))
            with pytest.raises(ProgrammingError, match="permission denied"):
                conn.execute(text(statement))
            conn.rollback()


@pytest.mark.parametrize("args", [["digital", "keys", "list", STORE], ["digital", "keys", "list", STORE, "--json"],
                                  ["digital", "products", "list", STORE], ["digital", "status"]])
def test_key_listing_never_loads_dagster(cli_env, pool_store, args):
    """`digital keys list`, `digital products list` and `digital status` only read the warehouse (and the
    vault): they stay fast, without Dagster."""
    import subprocess
    import sys

    probe = ("import sys; from marketsync.pipelines.cli import main; code = main(sys.argv[1:]); "
             "print('dagster loaded' if 'dagster' in sys.modules else 'no dagster', code)")
    done = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip().splitlines()[-1] == "no dagster 0", done.stdout + done.stderr
