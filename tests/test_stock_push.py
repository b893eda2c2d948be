"""Stock out end to end against a real Postgres and the Letzshop simulator's inventory file intake:
availability from every source, the ledger, delta pushes, partial answers, failures, rules."""
from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from marketsync.assets.stock.manual import adjust, set_rule
from marketsync.assets.stock.push import push_stock
from marketsync.assets.stock.rules import TERMS
from marketsync.assets.stock.schedule import decide, due_pushes
from marketsync.assets.stock.settings import load_settings, save_settings
from marketsync.resources.errors import MarketsyncError

STORE = "shop"


@pytest.fixture
def stock_shop(warehouse, letzshop_store):
    """Store 'shop' on the Letzshop simulator with ten products of manual stock (10 to 19), delivering
    its inventory file by HTTP PUT to the simulator."""
    account, state, location = letzshop_store(STORE, [f"SKU-{i}" for i in range(10)])
    with warehouse.begin() as conn:
        for i in range(10):
            adjust(conn, STORE, f"SKU-{i}", count=10 + i)
        save_settings(conn, STORE, "letzshop", delivery={"location": location})
    return account, state


def push(warehouse, vault, **kwargs):
    return push_stock(warehouse, vault, STORE, "letzshop", **kwargs)


def ledger(warehouse, sync_id):
    with warehouse.begin() as conn:
        return {r.sku: r for r in conn.execute(text(
            "SELECT * FROM core.stock_ledger WHERE inventory_sync_id = :s"), {"s": sync_id})}


def add_order(conn, account, skus_units: dict[str, int], status: str = "imported", shipped_at=None,
              number: str | None = None) -> int:
    number = number or f"R{random.randrange(10**9)}"
    order_id = conn.execute(text(
        """INSERT INTO core.orders (store_id, account_id, channel, channel_order_id, channel_shipment_id, order_number,
                                    channel_state, sync_status, shipped_at, source_payload_sha)
           VALUES (:s, :a, 'letzshop', :n, :n, :n, 'unconfirmed', :st, :sh, 'sha') RETURNING order_id"""),
        {"s": account.store_id, "a": account.account_id, "n": number, "st": status, "sh": shipped_at}).scalar_one()
    for i, (sku, units) in enumerate(skus_units.items()):
        for unit in range(units):
            conn.execute(text(
                """INSERT INTO core.order_items (order_id, channel_item_id, sku, channel_state, product_id,
                                                match_status)
                   SELECT :o, :i, :sku, 'unconfirmed', product_id, 'matched' FROM core.products
                   WHERE store_id = :s AND sku = :sku"""),
                {"o": order_id, "i": f"{i}-{unit}", "sku": sku, "s": account.store_id})
    return order_id


# ---------------------------------------------------------------- the rule
def expected_listed(available: int, override: int | None, maximum: int | None, threshold: int,
                    zero: bool) -> int | None:
    """The listing rule as the migrations state it (sql/0008_stock_listing_rules.up.sql), written out
    here only to check the database's core.listed_quantity, the one place that computes it: an override
    replaces the availability, a maximum caps it, and at or below the threshold the channel gets 0 (zeros
    synced) or nothing at all (None)."""
    quantity = available if override is None else override
    if maximum is not None:
        quantity = min(quantity, maximum)
    if quantity <= threshold:
        return 0 if zero else None
    return quantity


def expected_pushed(row) -> int | None:
    """What a ledger row must have pushed: the rule for a listing, 0 for one a rule took off the channel."""
    if not row.listed:
        return 0
    return expected_listed(row.available, row.quantity_override, row.max_quantity, row.out_of_stock_threshold,
                           row.sync_zero_stock)


@pytest.mark.parametrize("available,override,maximum,threshold,zero,expected", [
    (10, None, None, 0, True, 10), (-4, None, None, 0, True, 0), (0, None, None, 0, False, None),
    (2, None, None, 2, True, 0), (2, None, None, 2, False, None), (3, None, None, 2, True, 3),
    (10, 4, None, 0, True, 4), (10, None, 6, 0, True, 6), (10, 8, 6, 0, True, 6), (1, 9, None, 0, True, 9),
    (5, None, 1, 1, True, 0),
    # "sync when stock = 0" off: zeros are not sent, and never anything above what is available.
    (-4, None, None, 0, False, None), (10, 0, None, 0, False, None), (-4, None, None, 3, False, None),
    (4, None, None, 3, False, 4),
])
def test_listed_quantity_rule(warehouse, available, override, maximum, threshold, zero, expected):
    with warehouse.begin() as conn:
        assert conn.execute(text("SELECT core.listed_quantity(:a, :o, :m, :t, :z)"), {
            "a": available, "o": override, "m": maximum, "t": threshold, "z": zero}).scalar() == expected


def test_listed_quantity_over_every_combination(warehouse):
    """core.listed_quantity against the rule over every combination of availabilities from -5 to 12,
    overrides, maximums (none, 0, below, at and above the threshold), thresholds 0 to 3 and both zero
    settings: 3,600 cases in one query."""
    cases = [(available, override, maximum, threshold, zero)
             for available in range(-5, 13) for override in (None, 0, 2, 3, 9) for maximum in (None, 0, 1, 3, 6)
             for threshold in range(4) for zero in (True, False)]
    with warehouse.begin() as conn:
        got = conn.execute(text(
            "SELECT core.listed_quantity(a, o, m, t, z) FROM unnest(CAST(:a AS int[]), CAST(:o AS int[]), "
            "CAST(:m AS int[]), CAST(:t AS int[]), CAST(:z AS boolean[])) WITH ORDINALITY AS c(a, o, m, t, z, n) "
            "ORDER BY n"), {key: [case[i] for case in cases] for i, key in enumerate("aomtz")}).scalars().all()
    assert len(got) == len(cases) == 3600
    wrong = [(case, quantity) for case, quantity in zip(cases, got, strict=True) if quantity != expected_listed(*case)]
    assert not wrong, wrong[:5]


def test_the_database_refuses_a_ledger_row_whose_terms_do_not_add_up(stock_shop, warehouse):
    account, _ = stock_shop
    row = {"inventory_sync_id": 1, "account_id": account.account_id, "product_id": 1, "sku": "X", "ffn_on_hand": 5,
           "ffn_foreign_reserved": 0, "feed_quantity": 0, "manual_quantity": 0, "reserved": 1,
           "shipped_uncounted": 0, "safety_stock": 0, "available": 4, "out_of_stock_threshold": 0,
           "sync_zero_stock": True, "on_demand": False, "pushed_quantity": 5}
    insert = text(f"INSERT INTO core.stock_ledger ({', '.join(row)}) VALUES ({', '.join(':' + k for k in row)})")  # noqa: S608 - the keys of `row` above; values are bound
    with pytest.raises(IntegrityError, match="stock_ledger_terms_add_up"):
        with warehouse.begin() as conn:
            conn.execute(insert, row)
    with warehouse.begin() as conn:
        conn.execute(insert, {**row, "pushed_quantity": 4})


# ---------------------------------------------------------------- every source and deduction
def test_availability_takes_every_source_and_deduction(stock_shop, warehouse, vault):
    account, _ = stock_shop
    now = datetime.now(UTC)
    with warehouse.begin() as conn:
        store_id = account.store_id
        # FFN: SKU-1 in two warehouses, 3 units of it reserved by FFN (1 of them for our order, 2 foreign).
        ffn = conn.execute(text("INSERT INTO ops.accounts (store_id, channel, stock_counted_at) "
                                "VALUES (:s, 'jtl_ffn', :t) RETURNING account_id"),
                           {"s": store_id, "t": now - timedelta(hours=1)}).scalar_one()
        conn.execute(text("INSERT INTO core.fulfillment_products (account_id, jfsku, merchant_sku) "
                          "VALUES (:a, 'J1', 'SKU-1')"),
                     {"a": ffn})
        conn.execute(text("""INSERT INTO core.fulfillment_stock (account_id, jfsku, warehouse_id, stock_level, reserved,
                                                             blocked)
                             VALUES (:a, 'J1', 'W1', 20, 3, 1), (:a, 'J1', 'W2', 4.5, 0, 0)"""), {"a": ffn})
        # A supplier feed for SKU-2 (digital, from CodesWholesale: on demand), counted a day ago.
        source = conn.execute(text("""INSERT INTO ops.catalog_sources (store_id, name, kind)
                                      VALUES (:s, 'cw', 'codeswholesale') RETURNING source_id"""),
                              {"s": store_id}).scalar_one()
        conn.execute(text("""INSERT INTO ops.import_runs (source_id, status, started_at, finished_at)
                             VALUES (:src, 'completed', :t, :t)"""), {"src": source, "t": now - timedelta(days=1)})
        mp = conn.execute(text("""INSERT INTO core.marketplace_products (source_id, external_id, quantity, product_type,
                                                                    content_sha)
                                  VALUES (:src, 'cw-2', 40, 'digital', 'x') RETURNING marketplace_product_id"""),
                          {"src": source}).scalar_one()
        conn.execute(text("UPDATE core.products SET marketplace_product_id = :m WHERE store_id = :s AND sku = 'SKU-2'"),
                     {"m": mp, "s": store_id})
        # Manual: SKU-3 counted at 13 (fixture) then +5 and -2.
        adjust(conn, STORE, "SKU-3", delta=5)
        adjust(conn, STORE, "SKU-3", delta=-2)
        # Orders: an open one (2 x SKU-1, handed to FFN), a rejected one (released), a confirmed one
        # (1 x SKU-3), one shipped after SKU-3's count and one shipped before it.
        handed = add_order(conn, account, {"SKU-1": 1, "SKU-3": 1}, "confirmed")
        conn.execute(text("""INSERT INTO core.fulfillment_outbounds (account_id, merchant_outbound_number, outbound_id,
                                                                 order_id)
                             VALUES (:a, 'M1', 'OUT1', :o)"""), {"a": ffn, "o": handed})
        add_order(conn, account, {"SKU-1": 1})
        add_order(conn, account, {"SKU-1": 5, "SKU-3": 5}, "rejected")
        add_order(conn, account, {"SKU-3": 2}, "shipped", shipped_at=datetime.now(UTC) + timedelta(seconds=1))
        add_order(conn, account, {"SKU-3": 4}, "shipped", shipped_at=now - timedelta(days=3))
        add_order(conn, account, {"SKU-1": 3}, "shipped", shipped_at=now - timedelta(minutes=10))
        add_order(conn, account, {"SKU-1": 7}, "shipped", shipped_at=now - timedelta(hours=2))
        save_settings(conn, STORE, "letzshop", safety_stock=1)
        set_rule(conn, STORE, "letzshop", "SKU-4", maximum=5)
        set_rule(conn, STORE, "letzshop", "SKU-5", override=2)

    result = push(warehouse, vault)
    assert result.status == "succeeded" and result.pushed == 10 == result.acknowledged
    rows = ledger(warehouse, result.inventory_sync_id)
    for row in rows.values():
        assert row.available == sum(sign * getattr(row, column) for column, sign, _ in TERMS), row.sku
        assert row.pushed_quantity == expected_pushed(row), row.sku
    sku1 = rows["SKU-1"]
    # 20 + 4.5 (floored), blocked never counted; FFN reserved 3, 1 of them ours -> 2 foreign.
    assert (sku1.ffn_on_hand, sku1.ffn_foreign_reserved, sku1.reserved) == (24, 2, 2)
    assert sku1.shipped_uncounted == 3  # shipped 10 minutes ago, after FFN counted; 2 hours ago was counted
    assert sku1.manual_quantity == 11 and sku1.available == 24 - 2 + 11 - 2 - 3 - 1
    sku2 = rows["SKU-2"]
    assert (sku2.feed_quantity, sku2.on_demand, sku2.pushed_quantity) == (40, True, 40 + 12 - 1)
    sku3 = rows["SKU-3"]
    assert (sku3.manual_quantity, sku3.reserved, sku3.shipped_uncounted) == (16, 1, 2)
    assert sku3.pushed_quantity == 16 - 1 - 2 - 1
    assert rows["SKU-4"].pushed_quantity == 5 and rows["SKU-4"].max_quantity == 5
    assert rows["SKU-5"].pushed_quantity == 2 and rows["SKU-5"].available == 15 - 1


def test_threshold_and_zero_stock_settings(stock_shop, warehouse, vault):
    with warehouse.begin() as conn:
        save_settings(conn, STORE, "letzshop", out_of_stock_threshold=12, sync_zero_stock=False)
    rows = ledger(warehouse, push(warehouse, vault).inventory_sync_id)
    # Off: at or below the threshold nothing is sent (never the threshold); above it, the number.
    assert {sku: r.pushed_quantity for sku, r in rows.items()} == {f"SKU-{i}": 10 + i for i in range(3, 10)}
    with warehouse.begin() as conn:
        save_settings(conn, STORE, "letzshop", sync_zero_stock=True)
    rows = ledger(warehouse, push(warehouse, vault).inventory_sync_id)
    assert {sku: r.pushed_quantity for sku, r in rows.items()} == {"SKU-0": 0, "SKU-1": 0, "SKU-2": 0}


# ---------------------------------------------------------------- delta pushes and answers
def test_delta_push_sends_only_what_differs_from_the_acknowledged(stock_shop, warehouse, vault):
    account, state = stock_shop
    first = push(warehouse, vault)
    assert (first.pushed, first.acknowledged, first.status) == (10, 10, "succeeded")
    assert state.inventory_snapshot() == {f"SKU-{i}": 10 + i for i in range(10)}
    assert push(warehouse, vault).pushed == 0
    with warehouse.begin() as conn:
        adjust(conn, STORE, "SKU-3", delta=-4)
        add_order(conn, account, {"SKU-7": 2})
    third = push(warehouse, vault)
    rows = ledger(warehouse, third.inventory_sync_id)
    assert set(rows) == {"SKU-3", "SKU-7"}
    assert (rows["SKU-3"].pushed_quantity, rows["SKU-3"].previous_acknowledged) == (9, 13)
    assert state.inventory_stock("SKU-7") == 15
    full = push(warehouse, vault, mode="full")
    assert full.pushed == 10 and len(state.inventory_uploads) == 3
    single = push(warehouse, vault, mode="single", skus=["SKU-2"])
    assert single.pushed == 1 and set(ledger(warehouse, single.inventory_sync_id)) == {"SKU-2"}
    with pytest.raises(MarketsyncError, match="no listing with SKU NOPE"):
        push(warehouse, vault, mode="single", skus=["NOPE"])


def test_dropped_and_rejected_listings_and_only_they_are_pushed_again(stock_shop, warehouse, vault):
    _, state = stock_shop
    state.set_inventory_faults(drop_skus={"SKU-1", "SKU-4"}, reject_skus={"SKU-6"})
    first = push(warehouse, vault)
    assert (first.status, first.pushed, first.acknowledged, first.rejected, first.unanswered) == (
        "partially_succeeded", 10, 7, 1, 2)
    rows = ledger(warehouse, first.inventory_sync_id)
    assert rows["SKU-6"].answer == "rejected" and rows["SKU-6"].answer_message == "listing locked"
    assert rows["SKU-1"].answer == rows["SKU-4"].answer == "no_answer"
    assert rows["SKU-0"].answer == "accepted"

    state.set_inventory_faults(drop_skus=set(), reject_skus={"SKU-6"}, drop_every=2)
    second = push(warehouse, vault)
    assert set(ledger(warehouse, second.inventory_sync_id)) == {"SKU-1", "SKU-4", "SKU-6"}
    state.clear_inventory_faults()
    third = push(warehouse, vault)
    retried = ledger(warehouse, third.inventory_sync_id)
    # SKU-4 was the dropped 2nd row of the second file; the others were not re-pushed once accepted.
    assert set(retried) == {"SKU-4", "SKU-6"} and {r.answer for r in retried.values()} == {"accepted"}
    assert push(warehouse, vault).pushed == 0
    assert state.inventory_snapshot() == {f"SKU-{i}": 10 + i for i in range(10)}


def test_a_failed_delivery_acknowledges_nothing_and_is_retried_whole(stock_shop, warehouse, vault):
    _, _state = stock_shop
    with warehouse.begin() as conn:
        save_settings(conn, STORE, "letzshop", delivery={"location": "http://127.0.0.1:9/inventory/", "timeout": 1})
    failed = push(warehouse, vault)
    assert failed.status == "failed" and failed.retryable and "not delivered" in failed.error
    assert "sandbox-test-key" not in failed.error
    rows = ledger(warehouse, failed.inventory_sync_id)
    assert {r.answer for r in rows.values()} == {"failed"}
    with warehouse.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM core.channel_stock")).scalar() == 0
        log = conn.execute(text("SELECT status, failed, errors FROM ops.inventory_syncs WHERE inventory_sync_id = :s"),
                           {"s": failed.inventory_sync_id}).one()
        assert log.status == "failed" and log.failed == 10 and log.errors
        save_settings(conn, STORE, "letzshop", delivery={"location": state_location(conn)})
    assert push(warehouse, vault).acknowledged == 10


def state_location(conn) -> str:
    endpoint = conn.execute(text("SELECT endpoint FROM ops.accounts WHERE channel = 'letzshop'")).scalar()
    return endpoint.replace("/graphql", "/inventory/")


def test_wrong_credentials_fail_without_retry_or_leak(stock_shop, warehouse, vault):
    account, _ = stock_shop
    with warehouse.begin() as conn:
        vault.store(conn, account.account_id, {"api_key": "wrong-secret-value"})
    failed = push(warehouse, vault)
    assert failed.status == "failed" and not failed.retryable
    assert "wrong-secret-value" not in failed.error


def test_formula_cells_are_escaped_and_read_back(stock_shop, warehouse, vault, tmp_path):
    account, state = stock_shop
    with warehouse.begin() as conn:
        for sku in ("=HYPERLINK(1)", "-minus", "+plus", "@at"):
            conn.execute(text("INSERT INTO core.products (store_id, sku) VALUES (:s, :sku)"),
                         {"s": account.store_id, "sku": sku})
            adjust(conn, STORE, sku, count=3)
    assert push(warehouse, vault).acknowledged == 14
    assert state.inventory_stock("=HYPERLINK(1)") == 3 and state.inventory_stock("-minus") == 3
    with warehouse.begin() as conn:
        save_settings(conn, STORE, "letzshop", delivery={"location": str(tmp_path)})
    push(warehouse, vault, mode="full")
    lines = (tmp_path / "shop-stock.csv").read_text().splitlines()
    assert lines[0] == "id,quantity,availability"
    assert {"'=HYPERLINK(1),3,in_stock", "'-minus,3,in_stock", "'+plus,3,in_stock", "'@at,3,in_stock"} <= set(lines)


def test_one_push_per_channel_at_a_time(stock_shop, warehouse, vault):
    account, _ = stock_shop
    with warehouse.engine.connect() as holder:
        holder.execute(text("SELECT pg_advisory_lock(22279, :a)"), {"a": account.account_id})
        with pytest.raises(MarketsyncError, match="already running"):
            push(warehouse, vault)
        holder.execute(text("SELECT pg_advisory_unlock(22279, :a)"), {"a": account.account_id})
        holder.commit()
    assert push(warehouse, vault).status == "succeeded"


def test_an_interrupted_push_is_closed_and_its_listings_pushed_again(stock_shop, warehouse, vault):
    first = push(warehouse, vault)
    with warehouse.begin() as conn:
        conn.execute(text("UPDATE core.stock_ledger SET answer = 'pending' "
                          "WHERE inventory_sync_id = :s AND sku = 'SKU-0'"),
                     {"s": first.inventory_sync_id})
        conn.execute(text("DELETE FROM core.channel_stock "
                          "WHERE product_id = (SELECT product_id FROM core.products WHERE sku = 'SKU-0')"))
        conn.execute(text("UPDATE ops.inventory_syncs SET status = 'running' WHERE inventory_sync_id = :s"),
                     {"s": first.inventory_sync_id})
    second = push(warehouse, vault)
    assert set(ledger(warehouse, second.inventory_sync_id)) == {"SKU-0"}
    assert ledger(warehouse, first.inventory_sync_id)["SKU-0"].answer == "no_answer"


def test_graphql_adapter_refuses_until_the_schema_has_a_stock_mutation(stock_shop, warehouse, vault):
    with warehouse.begin() as conn:
        save_settings(conn, STORE, "letzshop", adapter="letzshop_graphql")
    result = push(warehouse, vault)
    assert result.status == "failed" and not result.retryable
    assert "no stock mutation" in result.error and "confirmInventoryUnits" in result.error


def test_settings_validation(stock_shop, warehouse):
    with warehouse.begin() as conn:
        with pytest.raises(MarketsyncError, match="credentials set"):
            save_settings(conn, STORE, "letzshop", delivery={"password": "x"})
        with pytest.raises(MarketsyncError, match="strategy"):
            save_settings(conn, STORE, "letzshop", strategy="sometimes")
        with pytest.raises(MarketsyncError, match="no stock adapter"):
            save_settings(conn, STORE, "letzshop", adapter="amazon_feed")
        saved = save_settings(conn, STORE, "letzshop", strategy="realtime", delivery={"filename": "s-{sync_id}.csv"})
        assert saved.strategy == "realtime" and saved.delivery["location"].endswith("/inventory/")
        assert load_settings(conn, STORE, "letzshop").delivery["filename"] == "s-{sync_id}.csv"


# ---------------------------------------------------------------- change feed and strategies
def _due(warehouse, now=None):
    with warehouse.begin() as conn:
        return due_pushes(conn, now or datetime.now(UTC))


def test_realtime_push_is_due_exactly_when_something_changed_unseen(stock_shop, warehouse, vault):
    account, _ = stock_shop
    with warehouse.begin() as conn:
        save_settings(conn, STORE, "letzshop", strategy="realtime")
    (first,) = _due(warehouse)
    assert first.reason == "never pushed" and first.partition_key == "shop.letzshop"
    push(warehouse, vault)
    assert _due(warehouse) == []
    with warehouse.begin() as conn:
        add_order(conn, account, {"SKU-1": 1})
    (due,) = _due(warehouse)
    assert due.trigger == "realtime" and due == _due(warehouse)[0]  # same change, same run key
    with warehouse.begin() as conn:
        adjust(conn, STORE, "SKU-2", delta=1)
    assert _due(warehouse)[0].run_key != due.run_key
    with warehouse.begin() as conn:
        changes_before = conn.execute(text("SELECT count(*) FROM ops.stock_changes")).scalar()
    push(warehouse, vault)
    assert _due(warehouse) == []
    with warehouse.begin() as conn:
        # Pruned once seen: nothing older than the last push's snapshot is kept.
        assert conn.execute(text("""SELECT count(*) FROM ops.stock_changes c, ops.inventory_syncs y
                                    WHERE y.inventory_sync_id = (SELECT max(inventory_sync_id) FROM ops.inventory_syncs)
                                      AND c.xid < pg_snapshot_xmin(y.snapshot)""")).scalar() == 0
        # How much goes depends on the server-wide snapshot horizon: a transaction open elsewhere on the
        # same server (another database's session) keeps newer changes, so only the rule above is asserted.
        assert conn.execute(text("SELECT count(*) FROM ops.stock_changes")).scalar() <= changes_before


def test_a_change_committed_after_the_push_snapshot_is_not_lost(stock_shop, warehouse, vault):
    """A transaction that started before the push and commits after its snapshot was taken: its change
    is not in the push, so the channel must stay due."""
    account, _ = stock_shop
    with warehouse.begin() as conn:
        save_settings(conn, STORE, "letzshop", strategy="realtime")
    push(warehouse, vault)
    slow = warehouse.engine.connect()
    slow_tx = slow.begin()
    add_order(slow, account, {"SKU-1": 3})
    result = push(warehouse, vault)
    assert result.pushed == 0
    slow_tx.commit()
    slow.close()
    (due,) = _due(warehouse)
    assert due.reason == "stock or orders changed"
    assert ledger(warehouse, push(warehouse, vault).inventory_sync_id)["SKU-1"].reserved == 3


def test_batch_and_manual_strategies():
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    row = {"store": "s", "channel": "letzshop", "strategy": "batch", "batch_interval_minutes": 60,
           "last_ok_id": 4, "latest_id": 4, "latest_status": "succeeded", "unseen_change": 9,
           "latest_started_at": now - timedelta(minutes=30)}
    assert decide(row, now) is None
    late = decide({**row, "latest_started_at": now - timedelta(minutes=61)}, now)
    assert late.trigger == "batch" and late == decide({**row, "latest_started_at": now - timedelta(minutes=61)}, now)
    assert decide({**row, "latest_status": "running", "latest_started_at": now - timedelta(minutes=90)}, now)
    assert decide({**row, "strategy": "realtime", "latest_status": "running",
                   "latest_started_at": now - timedelta(seconds=5)}, now) is None
    failed = {**row, "strategy": "realtime", "latest_status": "failed", "latest_id": 5}
    assert decide({**failed, "latest_started_at": now - timedelta(minutes=1)}, now) is None
    assert decide({**failed, "latest_started_at": now - timedelta(minutes=6)}, now).run_key == \
        "stock:s.letzshop:change:9:5"
    partial = {**row, "strategy": "realtime", "latest_status": "partially_succeeded", "unseen_change": None}
    assert decide({**partial, "latest_started_at": now - timedelta(minutes=59)}, now) is None
    assert decide({**partial, "latest_started_at": now - timedelta(minutes=61)}, now).reason == \
        "unacknowledged listings"


def test_manual_channels_are_never_due(stock_shop, warehouse):
    with warehouse.begin() as conn:
        save_settings(conn, STORE, "letzshop", strategy="manual")
    assert _due(warehouse) == []


def test_the_inventory_file_reaches_an_ftp_drop_with_credentials_from_the_vault(stock_shop, warehouse, vault, tmp_path):
    """A location without a channel report: the file is delivered (under its final name only once
    complete) and every row counts as delivered; the password comes from the account's credentials."""
    from marketsync.sandbox.feeds.ftp_server import serve_ftp

    account, _ = stock_shop
    (tmp_path / "drop").mkdir()
    with serve_ftp(tmp_path, "merchant", "s3cret-ftp", writable=True) as ftp:
        with warehouse.begin() as conn:
            vault.store(conn, account.account_id, {"api_key": "sandbox-test-key", "inventory_password": "s3cret-ftp"})
            save_settings(conn, STORE, "letzshop", delivery={
                "location": f"ftp://127.0.0.1:{ftp.port}/drop/", "username": "merchant",
                "plain_ftp_login": True})  # the test server has no FTPS: the setting says so
        result = push(warehouse, vault)
    assert (result.status, result.acknowledged) == ("succeeded", 10)
    assert result.delivered_to.endswith("/drop/shop-stock.csv") and "s3cret" not in result.delivered_to
    assert {r.answer for r in ledger(warehouse, result.inventory_sync_id).values()} == {"delivered"}
    assert [p.name for p in (tmp_path / "drop").iterdir()] == ["shop-stock.csv"]
    assert (tmp_path / "drop" / "shop-stock.csv").read_text().splitlines()[1] == "SKU-0,10,in_stock"


def test_a_file_adapter_cannot_be_set_up_without_a_location(warehouse, letzshop_store):
    letzshop_store("bare")
    with warehouse.begin() as conn:
        with pytest.raises(MarketsyncError, match="needs a delivery location"):
            save_settings(conn, "bare", "letzshop", strategy="batch")
        saved = save_settings(conn, "bare", "letzshop", delivery={"location": "/tmp"})
        with pytest.raises(MarketsyncError, match="needs a delivery location"):
            save_settings(conn, "bare", "letzshop", delivery={"location": None})
    assert saved.adapter == "letzshop_csv"


def test_a_source_counting_again_makes_a_realtime_channel_due(stock_shop, warehouse, vault):
    """An FFN snapshot after a shipment takes the shipped units out of 'shipped, not yet counted'
    without any quantity changing: the channel must still hear about it."""
    account, _ = stock_shop
    with warehouse.begin() as conn:
        save_settings(conn, STORE, "letzshop", strategy="realtime")
        ffn = conn.execute(text("INSERT INTO ops.accounts (store_id, channel, stock_counted_at) "
                                "VALUES (:s, 'jtl_ffn', now() - interval '1 hour') RETURNING account_id"),
                           {"s": account.store_id}).scalar_one()
        conn.execute(text("INSERT INTO core.fulfillment_products (account_id, jfsku, merchant_sku) "
                          "VALUES (:a, 'J9', 'SKU-9')"),
                     {"a": ffn})
        conn.execute(text("INSERT INTO core.fulfillment_stock (account_id, jfsku, warehouse_id, stock_level) "
                          "VALUES (:a, 'J9', 'W1', 4)"), {"a": ffn})
        add_order(conn, account, {"SKU-9": 2}, "shipped", shipped_at=datetime.now(UTC) - timedelta(minutes=5))
    before = ledger(warehouse, push(warehouse, vault).inventory_sync_id)["SKU-9"]
    assert before.shipped_uncounted == 2 and _due(warehouse) == []
    with warehouse.begin() as conn:
        conn.execute(text("UPDATE ops.accounts SET stock_counted_at = now() WHERE account_id = :a"), {"a": ffn})
    (due,) = _due(warehouse)
    assert due.reason == "stock or orders changed"
    after = ledger(warehouse, push(warehouse, vault).inventory_sync_id)["SKU-9"]
    assert after.shipped_uncounted == 0 and after.pushed_quantity == before.pushed_quantity + 2


def test_a_channel_that_lists_what_it_knows_gets_only_those(stock_shop, warehouse, vault):
    """listings='known': products sold or acknowledged on the channel, or listed by a rule; a rule can
    also take a product off a channel that lists the whole catalog."""
    account, _ = stock_shop
    with warehouse.begin() as conn:
        save_settings(conn, STORE, "letzshop", listings="known")
        add_order(conn, account, {"SKU-2": 1})
        set_rule(conn, STORE, "letzshop", "SKU-5", listed=True)
    first = ledger(warehouse, push(warehouse, vault).inventory_sync_id)
    assert set(first) == {"SKU-2", "SKU-5"}
    with warehouse.begin() as conn:
        save_settings(conn, STORE, "letzshop", listings="catalog")
        set_rule(conn, STORE, "letzshop", "SKU-7", listed=False)
        set_rule(conn, STORE, "letzshop", "SKU-5", clear_listed=True)
    second = ledger(warehouse, push(warehouse, vault).inventory_sync_id)
    assert set(second) == {f"SKU-{i}" for i in range(10)} - {"SKU-2", "SKU-5", "SKU-7"}
