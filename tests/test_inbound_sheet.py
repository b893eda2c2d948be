"""The inbound control check: pure decisions per row, then whole checks against the Sheets simulator
(the real gspread over loopback) and what JTL-FFN received as the warehouse holds it (core.fulfillment_*):
every row gets the right status and numbers, one batch update per check, nothing written the second time."""
from __future__ import annotations

from datetime import UTC
from decimal import Decimal

import pytest
from sqlalchemy import text

from marketsync.assets.accounts import upsert_account
from marketsync.assets.inbound_sheet.check import (
    Columns,
    Received,
    cell_updates,
    check_rows,
    column_letter,
    locate_columns,
)
from marketsync.assets.inbound_sheet.run import run_check, save_settings
from marketsync.resources.errors import MarketsyncError
from marketsync.resources.google_sheets import GoogleSheetsResource
from marketsync.sandbox.google_sheets.app import create_app
from marketsync.sandbox.google_sheets.state import GoogleSheetsState
from marketsync.sandbox.http import serve_in_thread

HEADER = ["Merchant SKU", "Expected units", "Inbound reference", "Status"]
RECEIVED = Received(by_sku={"A": Decimal(10), "B": Decimal(7)}, by_inbound={("IN-1", "A"): Decimal(4)},
                    in_stock={"A": Decimal(12)}, known_skus=frozenset({"A", "B", "C"}),
                    known_inbounds=frozenset({"IN-1"}))


def test_columns_are_found_by_header_text_or_letter():
    assert locate_columns(HEADER, "merchant  sku", "Expected units", "D", None) == Columns(0, 1, 3, None)
    assert locate_columns(HEADER, "A", "B", "Status", "Inbound reference") == Columns(0, 1, 3, 2)
    with pytest.raises(MarketsyncError, match=r"no column 'Qty'.*'Merchant SKU'"):
        locate_columns(HEADER, "Merchant SKU", "Qty", "Status", None)
    assert [column_letter(i) for i in (0, 25, 26, 701, 702)] == ["A", "Z", "AA", "ZZ", "AAA"]


def test_every_row_gets_its_status():
    rows = [HEADER,
            ["A", "10", "", ""],           # 2: match over all receipts
            ["B", "9", "", "old"],         # 3: mismatch, 2 short
            ["A", "3", "IN-1", ""],        # 4: against the named inbound: 1 more than expected
            ["", "5", "", ""],             # 5: no SKU
            ["Z", "5", "", ""],            # 6: unknown SKU
            ["C", "ten", "", ""],          # 7: bad units
            ["A", "1", "IN-9", ""],        # 8: unknown inbound
            ["", "", "", "MATCH: stale"],  # 9: only an old status: no row
            [],                            # 10: empty
            ["C", "0", "", ""],            # 11: known SKU never received, none expected
            ["B", "-1", "", ""]]           # 12: negative units
    results = check_rows(rows, 1, Columns(0, 1, 3, 2), RECEIVED)
    assert [(r.row_number, r.outcome, r.status) for r in results] == [
        (2, "match", "MATCH: expected 10, received 10"),
        (3, "mismatch", "MISMATCH: expected 9, received 7 (-2)"),
        (4, "mismatch", "MISMATCH: expected 3, received 4 (+1)"),
        (5, "problem", "NO SKU"),
        (6, "problem", "UNKNOWN SKU: Z"),
        (7, "problem", 'BAD EXPECTED UNITS: "ten"'),
        (8, "problem", "UNKNOWN INBOUND: IN-9"),
        (11, "match", "MATCH: expected 0, received 0"),
        (12, "problem", 'BAD EXPECTED UNITS: "-1"'),
    ]
    stock = check_rows([HEADER, ["A", "12", "", ""]], 1, Columns(0, 1, 3, 2), RECEIVED, compare_with="stock")
    assert stock[0].status == "MATCH: expected 12, in stock 12"


def test_units_are_read_as_people_type_them():
    from marketsync.assets.inbound_sheet.check import parse_units

    assert [parse_units(t) for t in ("12", " 12.0 ", "1,000", "1.000", "1 000", "12,500,000", "2,5", "0")] == [
        Decimal(12), Decimal("12.0"), Decimal(1000), Decimal(1000), Decimal(1000), Decimal(12500000),
        Decimal("2.5"), Decimal(0)]
    assert [parse_units(t) for t in ("", "ten", "1,00,0", "NaN", "inf")] == [None] * 5


def test_only_changed_status_cells_are_written():
    rows = [HEADER, ["A", "10", "", "MATCH: expected 10, received 10"], ["B", "9", "", "old"]]
    results = check_rows(rows, 1, Columns(0, 1, 3, 2), RECEIVED)
    assert cell_updates(rows, results, Columns(0, 1, 3, 2)) == [("D3", [["MISMATCH: expected 9, received 7 (-2)"]])]


# ---------------------------------------------------------------- whole checks

@pytest.fixture
def sheets():
    state = GoogleSheetsState()
    with serve_in_thread(create_app(state)) as server:
        yield state, GoogleSheetsResource(base_url=server.base_url, bearer_token="sandbox-token", timeout_seconds=5,
                                          retry_base_seconds=0.01, max_retry_wait_seconds=0.05)


@pytest.fixture
def ffn_store(warehouse):
    """Store 'inbounds' with an FFN account whose warehouse received: A 6 + 4 (inbounds IN-1, IN-2), B 7;
    stock: A 12 over two warehouses; C is known but never received."""
    with warehouse.begin() as conn:
        account = upsert_account(conn, "inbounds", "jtl_ffn")
        a = account.account_id
        conn.execute(text("INSERT INTO core.fulfillment_products (account_id, jfsku, merchant_sku) VALUES "
                          "(:a, 'J-A', 'A'), (:a, 'J-B', 'B'), (:a, 'J-C', 'C')"), {"a": a})
        conn.execute(text("INSERT INTO core.fulfillment_inbounds (account_id, inbound_id, merchant_inbound_number) "
                          "VALUES (:a, 'ffn-1', 'IN-1'), (:a, 'ffn-2', 'IN-2')"), {"a": a})
        conn.execute(text("INSERT INTO core.fulfillment_inbound_items "
                          "(account_id, inbound_id, jfsku, quantity, received) "
                          "VALUES (:a, 'ffn-1', 'J-A', 6, 4), (:a, 'ffn-2', 'J-A', 6, 6), (:a, 'ffn-2', 'J-B', 8, 7)"),
                     {"a": a})
        conn.execute(text("INSERT INTO core.fulfillment_stock (account_id, jfsku, warehouse_id, stock_level) VALUES "
                          "(:a, 'J-A', 'W1', 5), (:a, 'J-A', 'W2', 7)"), {"a": a})
        # As a holdings sync leaves it: the check only compares with holdings that were read.
        conn.execute(text("UPDATE ops.accounts SET stock_counted_at = now() WHERE account_id = :a"), {"a": a})
    return "inbounds"


def _sheet(state, rows):
    spreadsheet_id = state.add_spreadsheet("Inbound Control", [HEADER, *rows])
    return spreadsheet_id


def test_a_check_writes_every_status_in_one_batch_and_nothing_the_second_time(warehouse, sheets, ffn_store):
    state, resource = sheets
    spreadsheet_id = _sheet(state, [["A", "10"], ["B", "9"], ["A", "4", "IN-1"], ["A", "6", "ffn-2"], ["", "3"],
                                    ["NOPE", "1"], ["C", "x"], ["A", "1", "IN-404"], [], ["C", "0"]])
    with warehouse.begin() as conn:
        save_settings(conn, ffn_store, spreadsheet_id=spreadsheet_id, worksheet="Sheet1", sku_column="Merchant SKU",
                      expected_column="Expected units", status_column="Status",
                      reference_column="Inbound reference")
    writes_before = state.writes
    summary = run_check(warehouse, resource, ffn_store)
    assert (summary.rows_checked, summary.matched, summary.mismatched, summary.problems) == (9, 4, 1, 4)
    assert state.writes - writes_before == 1
    statuses = [row[3] if len(row) > 3 else "" for row in state.values(spreadsheet_id, "Sheet1")[1:]]
    assert statuses == ["MATCH: expected 10, received 10", "MISMATCH: expected 9, received 7 (-2)",
                        "MATCH: expected 4, received 4", "MATCH: expected 6, received 6", "NO SKU",
                        "UNKNOWN SKU: NOPE", 'BAD EXPECTED UNITS: "x"', "UNKNOWN INBOUND: IN-404", "",
                        "MATCH: expected 0, received 0"]

    again = run_check(warehouse, resource, ffn_store)
    assert again.cells_written == 0 and state.writes - writes_before == 1
    with warehouse.begin() as conn:
        checks = conn.execute(text("SELECT cells_written FROM ops.inbound_checks ORDER BY check_id")).scalars().all()
        landed = conn.execute(text("SELECT count(*) FROM raw.inbound_sheet_rows r JOIN ops.stores s USING (store_id) "
                                   "WHERE s.code = :s"), {"s": ffn_store}).scalar()
    assert checks == [9, 0] and landed == 11


def test_compare_with_stock(warehouse, sheets, ffn_store):
    state, resource = sheets
    spreadsheet_id = _sheet(state, [["A", "12"], ["B", "1"]])
    with warehouse.begin() as conn:
        save_settings(conn, ffn_store, spreadsheet_id=spreadsheet_id, worksheet="Sheet1", sku_column="A",
                      expected_column="B", status_column="D", compare_with="stock")
    run_check(warehouse, resource, ffn_store)
    assert [row[3] for row in state.values(spreadsheet_id, "Sheet1")[1:]] == [
        "MATCH: expected 12, in stock 12", "MISMATCH: expected 1, in stock 0 (-1)"]


def test_settings_are_checked(warehouse, ffn_store):
    with warehouse.begin() as conn:
        with pytest.raises(MarketsyncError, match="need spreadsheet_id"):
            save_settings(conn, ffn_store, worksheet="S", sku_column="A", expected_column="B", status_column="C")
        with pytest.raises(MarketsyncError, match="not a cron schedule"):
            save_settings(conn, ffn_store, spreadsheet_id="x", worksheet="S", sku_column="A", expected_column="B",
                          status_column="C", check_cron="every morning")
        with pytest.raises(MarketsyncError, match="unknown time zone"):
            save_settings(conn, ffn_store, spreadsheet_id="x", worksheet="S", sku_column="A", expected_column="B",
                          status_column="C", check_timezone="Mars/Olympus")


# ---------------------------------------------------------------- scheduling

def test_the_latest_tick_is_local_time_across_daylight_saving():
    from datetime import datetime

    from marketsync.sensors.inbound_sheet_schedule import latest_tick

    # 08:00 Berlin is 07:00 UTC in winter and 06:00 UTC in summer (the clocks moved on 2026-03-29).
    assert latest_tick("0 8 * * *", "Europe/Berlin", datetime(2026, 3, 28, 7, 0, tzinfo=UTC)) == \
        datetime(2026, 3, 28, 7, 0, tzinfo=UTC)
    assert latest_tick("0 8 * * *", "Europe/Berlin", datetime(2026, 3, 29, 6, 30, tzinfo=UTC)) == \
        datetime(2026, 3, 29, 6, 0, tzinfo=UTC)
    assert latest_tick("0 8 * * *", "Europe/Berlin", datetime(2026, 3, 29, 5, 59, tzinfo=UTC)) == \
        datetime(2026, 3, 28, 7, 0, tzinfo=UTC)


def test_due_checks_wait_for_the_next_tick_and_coalesce_missed_ones():
    from datetime import datetime

    from marketsync.sensors.inbound_sheet_schedule import due_checks

    sheets = [("berlin", "0 8 * * *", "Europe/Berlin"), ("tokyo", "30 6 * * 1-5", "Asia/Tokyo")]
    monday_7 = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)  # 07:00 in Berlin
    due, cursor = due_checks(sheets, {}, monday_7)
    assert due == []  # first sight: wait for the next tick
    assert cursor["berlin"] == "2026-11-22T08:00:00+01:00"
    due, cursor = due_checks(sheets, cursor, datetime(2026, 11, 23, 7, 1, tzinfo=UTC))
    assert due == [("berlin", "2026-11-23T08:00:00+01:00")]
    assert due_checks(sheets, cursor, datetime(2026, 11, 23, 7, 30, tzinfo=UTC))[0] == []
    # Three days without the sensor: one check, for the latest tick.
    due, _ = due_checks(sheets, cursor, datetime(2026, 11, 26, 12, 0, tzinfo=UTC))
    assert due == [("berlin", "2026-11-26T08:00:00+01:00"), ("tokyo", "2026-11-26T06:30:00+09:00")]


def test_the_schedule_sensor_keeps_a_partition_per_store_and_a_deterministic_run_key(warehouse, ffn_store):
    import json

    from dagster import DagsterInstance, build_sensor_context

    from marketsync.sensors.inbound_sheet_schedule import inbound_sheet_schedule_sensor

    with warehouse.begin() as conn:
        save_settings(conn, ffn_store, spreadsheet_id="x", worksheet="S", sku_column="A", expected_column="B",
                      status_column="C", check_cron="* * * * *", check_timezone="UTC")
    instance = DagsterInstance.ephemeral()
    first = inbound_sheet_schedule_sensor(build_sensor_context(instance=instance, resources={"warehouse": warehouse}))
    assert first.run_requests == [] and list(first.dynamic_partitions_requests[0].partition_keys) == [ffn_store]
    old = json.dumps({ffn_store: "2026-01-01T00:00:00+00:00"})
    second = inbound_sheet_schedule_sensor(build_sensor_context(instance=instance, cursor=old,
                                                                resources={"warehouse": warehouse}))
    [request] = second.run_requests
    tick = json.loads(second.cursor)[ffn_store]
    assert request.partition_key == ffn_store and request.run_key == f"inbound-check:{ffn_store}:{tick}"
    assert request.tags["marketsync/store"] == ffn_store


@pytest.fixture
def ffn_sim_store(warehouse, vault, monkeypatch):
    """Store 'fulfil' with an FFN account on the JTL-FFN simulator, nothing synced yet; the application
    client is configured in the environment only when the test calls `configure()`."""
    from marketsync.resources.jtl_ffn import store_refresh_token
    from marketsync.sandbox.jtl_ffn.app import create_app as create_ffn_app
    from marketsync.sandbox.jtl_ffn.state import JtlFfnState

    state = JtlFfnState(seed=3, size=200, clients={"ffn-client": "ffn-secret"})
    with serve_in_thread(create_ffn_app(state)) as server:
        with warehouse.begin() as conn:
            account = upsert_account(conn, "fulfil", "jtl_ffn", server.base_url)
            store_refresh_token(conn, vault, account.account_id, state.grant("ffn-client")["refresh_token"])

        def configure():
            monkeypatch.setenv("JTL_FFN_CLIENT_ID", "ffn-client")
            monkeypatch.setenv("JTL_FFN_CLIENT_SECRET", "ffn-secret")
            monkeypatch.setenv("MARKETSYNC_FFN_TOKEN_URL", f"{server.base_url}/token")

        monkeypatch.delenv("JTL_FFN_CLIENT_ID", raising=False)
        monkeypatch.delenv("JTL_FFN_CLIENT_SECRET", raising=False)
        yield account, configure


def test_the_cli_syncs_the_holdings_before_it_checks_a_sheet(warehouse, sheets, ffn_sim_store, run_cli, monkeypatch):
    import json

    from marketsync.assets.inbound_sheet.run import load_received

    account, configure = ffn_sim_store
    state, resource = sheets
    monkeypatch.setenv("MARKETSYNC_SHEETS_URL", resource.base_url)
    monkeypatch.setenv("MARKETSYNC_SHEETS_TOKEN", "sandbox-token")
    spreadsheet_id = _sheet(state, [["SKU-1", "10"]])
    code, out, err = run_cli("sheets", "set", "fulfil", "--spreadsheet", spreadsheet_id, "--worksheet", "Sheet1",
                             "--sku-column", "Merchant SKU", "--expected-column", "Expected units",
                             "--status-column", "Status")
    assert code == 0, err
    assert "checked at '0 8 * * *' Europe/Berlin against receipts" in out

    # No FFN client yet: nothing can be synced, so nothing is checked and nothing written.
    writes = state.writes
    code, out, err = run_cli("sheets", "check", "fulfil")
    assert code == 1 and "JTL_FFN_CLIENT_ID" in err and len(err.strip().splitlines()) == 1
    code, out, err = run_cli("sync", "fulfillment", "fulfil")
    assert code == 1 and "JTL_FFN_CLIENT_ID" in err
    assert state.writes == writes
    # The check itself (as the schedule runs it) refuses holdings never read.
    with pytest.raises(MarketsyncError, match="never synced"):
        run_check(warehouse, resource, "fulfil")
    assert state.writes == writes

    configure()
    code, out, err = run_cli("sync", "fulfillment", "fulfil", "--json")
    assert code == 0, err
    synced = json.loads(out)
    assert synced["fulfillment_products.fetched"] > 0 and synced["fulfillment_stock.fetched"] > 0
    with warehouse.begin() as conn:
        received = load_received(conn, account.account_id)
    (first, units_first), (second, units_second) = sorted(received.by_sku.items())[:2]
    # The sheet names SKUs the warehouse holds; `sheets check` syncs again, then compares.
    spreadsheet_id = _sheet(state, [[first, str(units_first)], [second, str(units_second + 1)]])
    code, out, err = run_cli("sheets", "set", "fulfil", "--spreadsheet", spreadsheet_id)
    assert code == 0, err
    code, out, err = run_cli("sheets", "check", "fulfil", "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["fulfillment_stock.fetched"] > 0
    assert summary["inbound_control_check.matched"] == 1 and summary["inbound_control_check.mismatched"] == 1
    statuses = [row[3] for row in state.values(spreadsheet_id, "Sheet1")[1:]]
    assert statuses[0].startswith("MATCH") and statuses[1].startswith("MISMATCH")
    assert not any("UNKNOWN" in status for status in statuses)
    ffn_store = "fulfil"
    code, _out, err = run_cli("sheets", "set", ffn_store, "--cron", "at eight")
    assert code != 0 and "not a cron schedule" in err
