"""Digital goods the way a merchant runs them (issue 13): configured and driven through the CLI, the
fulfilment run through the Dagster asset recorded in the instance's event log, the keys e-mailed by the
outbound queue to a real SMTP server on loopback. Afterwards a canary pool key and the key bought from
the CodesWholesale simulator are searched for, raw, URL-encoded and base64-encoded, in the CLI's output,
the logs, and every text, JSON and bytea column of the database, Dagster's event log included: they
appear only in the buyer's e-mail."""
from __future__ import annotations

import json
import logging
import secrets
from decimal import Decimal

import pytest
from canary import assert_in_no_column, secret_forms
from order_rows import add_order
from sqlalchemy import text

from marketsync.assets.accounts import upsert_account
from marketsync.sandbox.codeswholesale.data import single_unit_price
from marketsync.sandbox.codeswholesale.orders import TEXT
from marketsync.sandbox.codeswholesale.state import CodesWholesaleState
from marketsync.sandbox.http import serve_in_thread

CLIENT_ID, CLIENT_SECRET = "cws-e2e", "e2e-Secret=%41"


@pytest.fixture
def cws():
    from marketsync.sandbox.codeswholesale.app import create_app

    state = CodesWholesaleState(seed=11, size=60, clients={CLIENT_ID: CLIENT_SECRET}, page_size=100, balance=1000)
    with serve_in_thread(create_app(state)) as server:
        yield state, server.base_url


def _order(warehouse, store: str, skus: list[str]) -> tuple[int, str]:
    """A confirmed Letzshop order of `skus` (one unit each) by a French-speaking buyer."""
    with warehouse.begin() as conn:
        account = upsert_account(conn, store, "letzshop", "http://127.0.0.1:9/graphql")
        order_id, _items = add_order(conn, (account.store_id, account.account_id), *({"sku": s} for s in skus))
        conn.execute(text("""UPDATE core.order_items i SET product_id = p.product_id, match_status = 'matched',
                                    channel_state = 'confirmed_available'
                             FROM core.products p WHERE p.store_id = :s AND p.sku = i.sku AND i.order_id = :o"""),
                     {"s": account.store_id, "o": order_id})
        conn.execute(text("""UPDATE core.orders SET channel_state = 'confirmed', sync_status = 'confirmed',
                                    customer_email = 'camille@example.org', customer_name = 'Camille Buyer',
                                    customer_locale = 'fr' WHERE order_id = :o"""), {"o": order_id})
        number = conn.execute(text("SELECT order_number FROM core.orders WHERE order_id = :o"),
                              {"o": order_id}).scalar_one()
    return order_id, number


def test_digital_goods_through_the_cli_dagster_and_email(run_cli, warehouse, cws, receiver, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    state, base_url = cws
    recorder, smtp = receiver
    supplier = next(p for p in state.products if int(p.get("quantity") or 0) >= 5 and len(p["prices"]) == 1
                    and state.code_type(p["productId"]) == TEXT)
    canary = f"CANA+ry/{secrets.token_hex(6)}=&%?#~:;key"
    link = f"https://dl.example/{secrets.token_hex(8)}?token=canary"
    outputs: list[str] = []

    def cli(*args, stdin=None, ok=True):
        code, out, err = run_cli(*args, stdin=stdin)
        outputs.append(out + err)
        assert (code == 0) == ok, f"marketsync {' '.join(args)}: {err or out}"
        return out

    (tmp_path / "catalog.csv").write_text("sku,gtin,title\nGAME-POOL,,Pool Game\nGAME-BUY,,Bought Game\n")
    (tmp_path / "keys.csv").write_text(f'sku,code,links\nGAME-POOL,"{canary}",{link}\n')
    cli("catalog", "add-codeswholesale", "shop", "--base-url", base_url, "--low-balance", "20",
        stdin=json.dumps({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}))
    cli("catalog", "import", "shop", "codeswholesale")
    cli("products", "import", "shop", str(tmp_path / "catalog.csv"))
    cli("digital", "products", "set", "shop", "GAME-BUY", ok=False)  # bought: needs its supplier product
    out = cli("digital", "products", "set", "shop", "GAME-BUY", "--sources", "supplier_only",
              "--supplier-product", supplier["productId"], "--max-cost", "500")
    assert "warning" not in out, "the imported price list carries the supplier product"
    cli("digital", "products", "set", "shop", "GAME-POOL", "--sources", "pool_only", "--low-pool", "0")
    listed = json.loads(cli("digital", "products", "list", "shop", "--json"))
    assert {r["sku"]: (r["sources"], r["pool_keys"]) for r in listed} == {
        "GAME-BUY": ("supplier_only", 0), "GAME-POOL": ("pool_only", 0)}
    assert Decimal(str(next(r for r in listed if r["sku"] == "GAME-BUY")["listed_price"])) == \
        Decimal(str(single_unit_price(supplier)))
    cli("digital", "keys", "import", "shop", str(tmp_path / "keys.csv"))
    cli("account", "add", "shop", "email", "--endpoint", smtp, "--set", "from_address=keys@shop.example",
        "--set", "security=none")
    order_id, number = _order(warehouse, "shop", ["GAME-POOL", "GAME-BUY"])

    first = json.loads(cli("digital", "fulfil", "shop", "--json"))
    assert (first["digital_fulfilment.from_pool"], first["digital_fulfilment.purchases_bought"],
            first["digital_fulfilment.deliveries_queued"]) == (1, 1, 1)
    cli("outbound", "run", "--store", "shop")
    settled = json.loads(cli("digital", "fulfil", "shop", "--json"))
    assert settled["digital_fulfilment.orders_fulfilled"] == 1
    assert "shop: 2 unit(s), 1 from the pool, 1 bought, 2 delivered" in cli("digital", "status", "--store", "shop")
    cli("digital", "keys", "list", "shop")
    cli("digital", "resend", number, "--store", "shop")
    cli("outbound", "run", "--store", "shop")

    (bought_code,) = [code.code for order in state.orders.values() for code in order.codes()]
    assert len(state.charges) == 1
    assert len(recorder.messages) == 2, "the delivery and the asked-for re-send"
    for message in recorder.messages:
        body = message.get_content()
        assert canary in body and link in body and bought_code in body and message["Content-Language"] == "fr"
    with warehouse.begin() as conn:
        assert conn.execute(text("SELECT status FROM core.orders WHERE order_id = :o"),
                            {"o": order_id}).scalar_one() == "fulfilled"

    forms = secret_forms(canary) | secret_forms(link) | secret_forms(bought_code)
    # Every log record of this process but the receiving SMTP server's own ("mail.log": the buyer's side,
    # which logs the message it receives).
    ours = [r for r in caplog.records if not r.name.startswith("mail.log")]
    assert any(r.name == "httpx" for r in ours), "the supplier calls' request log is among what is searched"
    captured = "\n".join(outputs) + "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in ours)
    for form in forms:
        assert form not in captured
    with warehouse.engine.connect() as conn:
        columns = conn.execute(text(
            """SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns
               WHERE table_schema NOT IN ('pg_catalog', 'information_schema')
                 AND data_type IN ('text', 'character varying', 'character', 'json', 'jsonb', 'bytea')""")).all()
        assert any(c.table_name == "event_logs" for c in columns), "Dagster's event log is in this database"
        runs = conn.execute(text("SELECT count(*) FROM event_logs WHERE event_logs.event LIKE '%digital_fulfilment%'"
                                 )).scalar_one()
        assert runs > 0, "the fulfilment ran through Dagster and its events were recorded"
        assert_in_no_column(conn, forms, columns, "a digital key")


def test_a_store_selling_only_from_its_pool_needs_no_supplier(run_cli, warehouse, tmp_path, receiver):
    (tmp_path / "catalog.csv").write_text("sku,gtin,title\nGIFT-10,,Gift card 10\n")
    (tmp_path / "keys.csv").write_text("sku,code\nGIFT-10,GIFT-AAAA-BBBB-0001\n")
    for args in (("account", "add", "own", "email", "--endpoint", receiver[1], "--set", "from_address=k@own.example",
                  "--set", "security=none"),
                 ("products", "import", "own", str(tmp_path / "catalog.csv")),
                 ("digital", "products", "set", "own", "GIFT-10", "--sources", "pool_only"),
                 ("digital", "keys", "import", "own", str(tmp_path / "keys.csv"))):
        code, out, err = run_cli(*args)
        assert code == 0, err or out
    _order(warehouse, "own", ["GIFT-10"])
    code, out, err = run_cli("digital", "fulfil", "own", "--json")
    assert code == 0, err or out
    assert json.loads(out)["digital_fulfilment.from_pool"] == 1
    assert run_cli("outbound", "run", "--store", "own")[0] == 0
    assert len(receiver[0].messages) == 1 and "GIFT-AAAA-BBBB-0001" in receiver[0].messages[0].get_content()
