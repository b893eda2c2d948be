"""The sync log: a row from the moment an operation starts, completed with its counts and errors whether
the operation succeeds or fails."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from marketsync.assets.accounts import upsert_account
from marketsync.assets.sync_log import MAX_ERRORS, SyncLog, recent_logs
from marketsync.resources.errors import MarketsyncError


@pytest.fixture
def account_id(warehouse) -> int:
    with warehouse.begin() as conn:
        return upsert_account(conn, "shop", "letzshop").account_id


def only_row(warehouse) -> dict:
    with warehouse.begin() as conn:
        [row] = recent_logs(conn)
    return row


def test_success_row_has_counts_errors_and_duration(warehouse, account_id):
    with SyncLog(warehouse.engine, "confirm_orders", "outbound", account_id=account_id,
                 triggered_by="schedule", run_id="run-1") as sync:
        started = only_row(warehouse)  # visible to others while the operation runs
        sync.record(True)
        sync.record(False, "shipment S2: unit U1 not found")
        sync.add(processed=3, succeeded=3)

    assert started["completed_at"] is None and started["records_processed"] == 0
    row = only_row(warehouse)
    assert row["sync_id"] == sync.sync_id
    assert (row["store"], row["channel"], row["operation"], row["direction"]) == \
        ("shop", "letzshop", "confirm_orders", "outbound")
    assert (row["records_processed"], row["records_succeeded"], row["records_failed"]) == (5, 4, 1)
    assert row["errors"] == ["shipment S2: unit U1 not found"]
    assert row["completed_at"] >= row["started_at"] and row["duration_ms"] >= 0
    assert (row["triggered_by"], row["run_id"]) == ("schedule", "run-1")


def test_failure_is_recorded_and_reraised_even_when_the_work_rolls_back(warehouse, account_id):
    with pytest.raises(MarketsyncError, match="unreachable"):
        with SyncLog(warehouse.engine, "import_shipments", "inbound", account_id=account_id) as sync:
            sync.record(True)
            with warehouse.begin() as conn:
                conn.execute(text("UPDATE ops.accounts SET enabled = false"))
                raise MarketsyncError("Letzshop is unreachable: try later")

    row = only_row(warehouse)
    assert row["completed_at"] is not None
    assert row["errors"] == ["Letzshop is unreachable: try later"]
    assert row["records_processed"] == 1
    with warehouse.begin() as conn:
        assert conn.execute(text("SELECT enabled FROM ops.accounts")).scalar_one()  # the work rolled back


def test_unvetted_exception_text_is_not_stored(warehouse):
    with pytest.raises(ValueError):
        with SyncLog(warehouse.engine, "rotate", "internal"):
            raise ValueError("https://feed.example/export?token=s3cret")

    [error] = only_row(warehouse)["errors"]
    assert "s3cret" not in error and "ValueError" in error


def test_errors_are_short_and_bounded(warehouse):
    with SyncLog(warehouse.engine, "match_products", "internal") as sync:
        for n in range(MAX_ERRORS + 7):
            sync.record(False, f"item {n}: " + "x" * 2000)

    row = only_row(warehouse)
    assert row["records_failed"] == MAX_ERRORS + 7
    assert len(row["errors"]) == MAX_ERRORS + 1 and row["errors"][-1] == "... and 7 more errors"
    assert all(len(e) <= 500 for e in row["errors"])


def test_recent_logs_newest_first_and_by_store(warehouse, account_id):
    with warehouse.begin() as conn:
        other = upsert_account(conn, "other", "letzshop").account_id
    for name, account in (("first", account_id), ("second", other), ("third", account_id)):
        with SyncLog(warehouse.engine, name, "inbound", account_id=account):
            pass

    with warehouse.begin() as conn:
        assert [r["operation"] for r in recent_logs(conn)] == ["third", "second", "first"]
        assert [r["operation"] for r in recent_logs(conn, store="shop")] == ["third", "first"]
        assert [r["operation"] for r in recent_logs(conn, limit=1)] == ["third"]


def test_direction_is_checked():
    with pytest.raises(MarketsyncError, match="direction"):
        SyncLog(None, "x", "sideways")
