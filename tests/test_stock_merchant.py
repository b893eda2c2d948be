"""Stock tried as a merchant would (issue 11): explain answers for every SKU and says per channel why one
is not listed; an unlisted listing goes to 0 once, then is left alone; "sync when stock = 0" off never
sends more than is available; user errors and a running push answer at once in words; a file under a
fixed name always carries every listing."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from marketsync.assets.stock.explain import explain, render
from marketsync.assets.stock.manual import adjust, set_rule
from marketsync.assets.stock.push import push_stock
from marketsync.assets.stock.settings import save_settings
from marketsync.resources.errors import MarketsyncError

STORE = "shop"
SKUS = [f"SKU-{i}" for i in range(6)]


@pytest.fixture
def shop6(warehouse, letzshop_store):
    """Store 'shop' with six products of manual stock 10..15, delivering by HTTP to the simulator."""
    account, state, location = letzshop_store(STORE, SKUS)
    with warehouse.begin() as conn:
        for i, sku in enumerate(SKUS):
            adjust(conn, STORE, sku, count=10 + i)
        save_settings(conn, STORE, "letzshop", delivery={"location": location})
    return account, state, location


def push(warehouse, vault, **kwargs):
    return push_stock(warehouse, vault, STORE, "letzshop", **kwargs)


def ledger(warehouse, sync_id):
    with warehouse.begin() as conn:
        return {r.sku: r for r in conn.execute(text(
            "SELECT * FROM core.stock_ledger WHERE inventory_sync_id = :s"), {"s": sync_id})}


# ---------------------------------------------------------------- item 19: explain, unlist, zeros
def test_explain_says_per_channel_why_a_sku_is_not_listed(shop6, warehouse, vault):
    with warehouse.begin() as conn:
        save_settings(conn, STORE, "letzshop", listings="known")
        set_rule(conn, STORE, "letzshop", "SKU-1", listed=True)
        report = explain(conn, STORE, "SKU-2")
        (entry,) = report["channels"]
        assert entry["listed"] is False and entry["now"] is None
        assert "not in letzshop's listing scope" in entry["not_listed_because"]
        assert "stock rule shop letzshop SKU-2 --list" in render(report)
        assert explain(conn, STORE, "SKU-1")["channels"][0]["listed"] is True


def test_unlist_sends_zero_once_then_leaves_the_listing_alone(shop6, warehouse, vault):
    _, state, _ = shop6
    assert push(warehouse, vault).acknowledged == 6
    with warehouse.begin() as conn:
        set_rule(conn, STORE, "letzshop", "SKU-4", listed=False)
        # Before the push: still a listing, to be sent 0.
        now = explain(conn, STORE, "SKU-4")["channels"][0]["now"]
        assert (now["pushed_quantity"], now["listed"]) == (0, False)
    unlisted = push(warehouse, vault)
    rows = ledger(warehouse, unlisted.inventory_sync_id)
    assert set(rows) == {"SKU-4"} and (rows["SKU-4"].pushed_quantity, rows["SKU-4"].listed) == (0, False)
    assert rows["SKU-4"].available == 14 and state.inventory_stock("SKU-4") == 0
    with warehouse.begin() as conn:
        adjust(conn, STORE, "SKU-4", delta=5)
    assert push(warehouse, vault).pushed == 0
    assert "SKU-4" not in ledger(warehouse, push(warehouse, vault, mode="full").inventory_sync_id)
    with warehouse.begin() as conn:
        report = explain(conn, STORE, "SKU-4")
    (entry,) = report["channels"]
    assert entry["listed"] is False and "unlisted by a rule and the channel acknowledged the 0" in \
        entry["not_listed_because"]
    assert entry["ledger"][0]["pushed_quantity"] == 0  # its history is still shown
    with pytest.raises(MarketsyncError, match="'SKU-4' is not a listing of shop on letzshop: unlisted"):
        push(warehouse, vault, mode="single", skus=["SKU-4"])


def test_no_zero_sync_never_sends_more_than_is_available(shop6, warehouse, vault):
    _, state, _ = shop6
    assert push(warehouse, vault).acknowledged == 6
    with warehouse.begin() as conn:
        save_settings(conn, STORE, "letzshop", out_of_stock_threshold=2, sync_zero_stock=False)
        adjust(conn, STORE, "SKU-1", delta=-30)  # negative availability
        set_rule(conn, STORE, "letzshop", "SKU-2", override=0)
        adjust(conn, STORE, "SKU-3", count=3)  # above the threshold: sent as it is
        adjust(conn, STORE, "SKU-5", count=2)  # at the threshold: not sent, never 2
    result = push(warehouse, vault, mode="full")
    rows = ledger(warehouse, result.inventory_sync_id)
    assert {sku: r.pushed_quantity for sku, r in rows.items()} == {"SKU-0": 10, "SKU-3": 3, "SKU-4": 14}
    assert state.inventory_stock("SKU-1") == 11 and state.inventory_stock("SKU-5") == 15  # left as they were
    with warehouse.begin() as conn:
        shown = render(explain(conn, STORE, "SKU-1"))
    assert "would push nothing" in shown and "zeros are not sent" in shown
    with pytest.raises(MarketsyncError, match="sync_zero_stock off"):
        push(warehouse, vault, mode="single", skus=["SKU-5"])


def test_the_ledger_refuses_invented_stock_and_a_listed_zero(shop6, warehouse):
    account, _, _ = shop6
    row = {"inventory_sync_id": 1, "account_id": account.account_id, "product_id": 1, "sku": "X", "ffn_on_hand": 0,
           "ffn_foreign_reserved": 0, "feed_quantity": 0, "manual_quantity": 0, "reserved": 3,
           "shipped_uncounted": 0, "safety_stock": 0, "available": -3, "out_of_stock_threshold": 2,
           "sync_zero_stock": False, "on_demand": False, "pushed_quantity": 2, "listed": True}
    insert = text(f"INSERT INTO core.stock_ledger ({', '.join(row)}) VALUES ({', '.join(':' + k for k in row)})")  # noqa: S608 - the keys of `row` above; values are bound
    for wrong in ({}, {"pushed_quantity": 0}, {"listed": False, "pushed_quantity": 5}):
        with pytest.raises(IntegrityError, match="stock_ledger_terms_add_up"):
            with warehouse.begin() as conn:
                conn.execute(insert, {**row, **wrong})
    with warehouse.begin() as conn:
        conn.execute(insert, {**row, "listed": False, "pushed_quantity": 0})
        conn.execute(insert, {**row, "sync_zero_stock": True, "pushed_quantity": 0})


def test_cli_push_of_an_unknown_sku_or_a_busy_channel_answers_at_once(shop6, run_cli, warehouse):
    account, _, _ = shop6
    code, _, err = run_cli("stock", "push", STORE, "letzshop", "--sku", "NOPE")
    assert code == 1 and "shop has no listing with SKU NOPE on letzshop" in err
    assert "max_retries" not in err and "Traceback" not in err
    with warehouse.engine.connect() as holder:
        holder.execute(text("SELECT pg_advisory_lock(22279, :a)"), {"a": account.account_id})
        holder.commit()
        code, _, err = run_cli("stock", "push", STORE, "letzshop")
        holder.execute(text("SELECT pg_advisory_unlock(22279, :a)"), {"a": account.account_id})
        holder.commit()
    assert code == 1 and "a push for shop.letzshop is already running" in err
    with warehouse.begin() as conn:  # neither run was retried: one attempt each, no push recorded
        assert conn.execute(text("SELECT count(*) FROM ops.inventory_syncs")).scalar() == 0
    code, out, err = run_cli("stock", "push", STORE, "letzshop", "--json")
    assert code == 0 and json.loads(out)["channel_stock.pushed"] == 6, err


# ---------------------------------------------------------------- item 18: files that replace each other
def _file(folder, name="shop-stock.csv") -> dict[str, str]:
    lines = (folder / name).read_text().splitlines()
    return {line.split(",")[0]: line.split(",")[1] for line in lines[1:]}


def test_a_file_under_a_fixed_name_always_carries_every_listing(shop6, warehouse, vault, tmp_path):
    """Adjust A, push, adjust B, push: the folder's one file still has A's new number (a later file
    replaces the earlier one before the channel may have read it)."""
    with warehouse.begin() as conn:
        save_settings(conn, STORE, "letzshop", delivery={"location": str(tmp_path)})
    assert push(warehouse, vault).acknowledged == 6
    with warehouse.begin() as conn:
        adjust(conn, STORE, "SKU-1", count=3)
    first = push(warehouse, vault)
    with warehouse.begin() as conn:
        adjust(conn, STORE, "SKU-2", count=4)
    second = push(warehouse, vault)
    assert set(ledger(warehouse, second.inventory_sync_id)) == {"SKU-2"}  # the ledger holds what changed
    assert (first.pushed, second.pushed, second.restated) == (1, 1, 5)
    assert [p.name for p in tmp_path.iterdir()] == ["shop-stock.csv"]
    assert _file(tmp_path) == {"SKU-0": "10", "SKU-1": "3", "SKU-2": "4", "SKU-3": "13", "SKU-4": "14", "SKU-5": "15"}


def test_names_that_cannot_collide_carry_only_the_changes(shop6, warehouse, vault, tmp_path):
    with warehouse.begin() as conn:
        save_settings(conn, STORE, "letzshop",
                      delivery={"location": str(tmp_path), "filename": "{store}-{sync_id}.csv"})
    first = push(warehouse, vault)
    with warehouse.begin() as conn:
        adjust(conn, STORE, "SKU-1", count=3)
    second = push(warehouse, vault)
    assert second.restated == 0
    assert _file(tmp_path, f"shop-{first.inventory_sync_id}.csv") == {s: str(10 + i) for i, s in enumerate(SKUS)}
    assert _file(tmp_path, f"shop-{second.inventory_sync_id}.csv") == {"SKU-1": "3"}


def test_an_intake_that_answers_row_by_row_gets_deltas(shop6, warehouse, vault):
    """The simulator's HTTP intake reads each file on receipt (a per-row report): deltas lose nothing."""
    _, state, _ = shop6
    assert push(warehouse, vault).acknowledged == 6
    with warehouse.begin() as conn:
        adjust(conn, STORE, "SKU-1", count=3)
    again = push(warehouse, vault)
    assert (again.pushed, again.restated) == (1, 0)
    assert state.inventory_snapshot()["SKU-1"] == 3
