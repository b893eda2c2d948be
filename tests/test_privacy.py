"""Retention, access requests and erasure (issue 15), piece by piece: the period and its minimum, what
the scrubbing keeps, an export that holds one buyer and nobody else, an erasure that waits for queued
writes, retention that spares what is not yet due and records counts only, the retention asset."""
from __future__ import annotations

import json
import stat

import pytest
from dagster import DagsterInstance, materialize
from order_rows import add_order, add_store
from sqlalchemy import exc, text

from marketsync.assets import outbound_queue
from marketsync.assets.privacy.assets import personal_data_retention
from marketsync.assets.privacy.erasure import ErasureRefused, erase_buyer
from marketsync.assets.privacy.export import buyer_part, mentions
from marketsync.assets.privacy.retention import apply_retention, parse_period
from marketsync.resources.errors import MarketsyncError


@pytest.mark.parametrize(("given", "interval"), [("540d", "540 days"), ("18 months", "18 months"),
                                                  ("2Y", "2 years"), ("30 days", "30 days")])
def test_a_retention_period_is_days_months_or_years(given, interval):
    assert parse_period(given) == interval


@pytest.mark.parametrize("given", ["29d", "0m", "forever", "-3d", "12 weeks"])
def test_a_retention_period_under_30_days_or_unreadable_is_refused(given):
    with pytest.raises(MarketsyncError):
        parse_period(given)


def test_the_buyers_part_of_a_shared_entry_leaves_the_others_out():
    known = ["ann@example.org", "Ann Example"]
    errors = ["order 1 of Ann Example: no street", "order 2 of Bob Other: no street", {"ref": "3", "to": "bob@x.org"}]
    assert buyer_part(errors, known) == ["order 1 of Ann Example: no street"]
    assert buyer_part({"a": {"email": "ANN@example.org", "n": "Bob"}, "b": "Bob"}, known) == {
        "a": {"email": "ANN@example.org"}}
    assert mentions({"x": [1, "ann example"]}, known) and not mentions({"x": [1, "Ann"]}, known)


def _buyer(conn, store, email: str, name: str, street: str) -> int:
    order_id, _ = add_order(conn, store, {"sku": "A"})
    conn.execute(text("UPDATE core.orders SET customer_email = :e, customer_name = :n, total = 10 "
                      "WHERE order_id = :o"), {"e": email, "n": name, "o": order_id})
    first, last = name.split(" ")
    conn.execute(text("""INSERT INTO core.order_addresses (order_id, kind, first_name, last_name, street_name,
                                                         street_number, zip_code, city, country_iso, phone)
                         VALUES (:o, 'shipping', :f, :l, :s, '7', '1234', 'Esch', 'LU', '+352 555 0101')"""),
                 {"o": order_id, "f": first, "l": last, "s": street})
    ref = conn.execute(text("SELECT channel_shipment_id FROM core.orders WHERE order_id = :o"),
                       {"o": order_id}).scalar_one()
    conn.execute(text("""INSERT INTO raw.letzshop_shipments (account_id, shipment_id, payload, payload_sha)
                         VALUES (:a, :r, CAST(:p AS jsonb), :r)"""),
                 {"a": store[1], "r": ref, "p": json.dumps({"id": ref, "order": {
                     "email": email, "total": 10, "shipAddress": {"firstName": first, "lastName": last,
                                                                 "streetName": street, "country": {"iso": "LU"}},
                     "note": f"gift wrap for {name}"}})})
    return order_id


@pytest.fixture
def two_buyers(warehouse):
    with warehouse.begin() as conn:
        store = add_store(conn, "pv")
        ann = _buyer(conn, store, "ann@example.org", "Ann Example", "Rue Ann")
        bob = _buyer(conn, store, "bob@example.org", "Bob Other", "Bob Strasse")
        conn.execute(text("""INSERT INTO ops.sync_log (account_id, operation, direction, errors)
                             VALUES (:a, 'import_orders', 'inbound', CAST(:e AS jsonb))"""),
                     {"a": store[1], "e": json.dumps(["order of Ann Example: odd", "order of Bob Other: odd"])})
    return store, ann, bob


def test_an_export_holds_everything_about_the_buyer_and_nothing_about_another(two_buyers, warehouse, run_cli, tmp_path):
    out = tmp_path / "ann.json"
    code, _, err = run_cli("privacy", "export", "--store", "pv", "--email", "Ann@Example.org", "--out", str(out))
    assert code == 0, err
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    document = json.loads(out.read_text())
    entries = {c["section"]: c["entries"] for c in document["contents"]}
    assert entries["core.orders"] == entries["core.order_addresses"] == entries["raw.letzshop_shipments"] == 1
    assert entries["ops.sync_log"] == 1 and document["sections"]["ops.sync_log"][0]["errors"] == [
        "order of Ann Example: odd"]
    whole = out.read_text()
    assert "Ann Example" in whole and "Rue Ann" in whole
    assert "Bob" not in whole and "bob@" not in whole


def test_an_erasure_waits_for_queued_writes_unless_told_to_cancel_them(two_buyers, warehouse):
    store, ann, bob = two_buyers
    with warehouse.begin() as conn:
        outbound_queue.enqueue(conn, store[1], "confirm", {"order": ann, "to": "Ann Example"}, order_id=ann)
    with warehouse.begin() as conn, pytest.raises(ErasureRefused, match="--cancel-queued"):
        erase_buyer(conn, "pv", "ann@example.org", "test")
    with warehouse.begin() as conn:
        erasure = erase_buyer(conn, "pv", "ann@example.org", "test", cancel_queued=True)
    assert erasure.writes_cancelled == 1 and len(erasure.orders) == 1
    with warehouse.begin() as conn:
        queued = conn.execute(text("SELECT status, payload::text FROM ops.outbound_queue")).one()
        assert queued.status == "dead" and "Ann" not in queued.payload
        orders = {r.order_id: r for r in conn.execute(text(
            "SELECT order_id, customer_email, total, personal_data_removed_by FROM core.orders"))}
        assert orders[ann].customer_email is None and orders[ann].total == 10
        assert orders[ann].personal_data_removed_by == "erasure"
        assert orders[bob].customer_email == "bob@example.org", "the other buyer keeps theirs"
        payloads = dict(conn.execute(text("SELECT shipment_id, payload FROM raw.letzshop_shipments")).tuples().all())
        log = conn.execute(text("SELECT errors FROM ops.sync_log")).scalar_one()
        address = conn.execute(text("SELECT * FROM core.order_addresses WHERE order_id = :o"), {"o": ann}).one()
    ann_payload = next(p for p in payloads.values() if p["order"]["total"] == 10 and "Ann" not in json.dumps(p)
                       and p["order"]["email"] == "[removed]")
    assert ann_payload["order"]["shipAddress"]["country"] == {"iso": "LU"}, "countries stay"
    assert ann_payload["order"]["note"] == "[removed]", "a free-text mention of the buyer goes too"
    assert sum("Bob Other" in json.dumps(p) for p in payloads.values()) == 1
    assert log == ["[removed]", "order of Bob Other: odd"]
    assert (address.first_name, address.street_name, address.phone, address.country_iso) == (None, None, None, "LU")


def test_an_erased_order_takes_no_personal_data_back(two_buyers, warehouse):
    store, ann, _ = two_buyers
    with warehouse.begin() as conn:
        erase_buyer(conn, "pv", "ann@example.org", "test")
    with warehouse.begin() as conn:
        conn.execute(text("UPDATE core.orders SET customer_email = 'ann@example.org' WHERE order_id = :o"), {"o": ann})
        conn.execute(text("UPDATE core.order_addresses SET last_name = 'Example' WHERE order_id = :o"), {"o": ann})
        ref = conn.execute(text("SELECT channel_shipment_id FROM core.orders WHERE order_id = :o"),
                           {"o": ann}).scalar_one()
        conn.execute(text("""INSERT INTO raw.letzshop_shipments (account_id, shipment_id, payload, payload_sha)
                             VALUES (:a, :r, '{"order": {"email": "ann@example.org", "total": 10}}', 'v2')"""),
                     {"a": store[1], "r": ref})
        assert conn.execute(text("SELECT customer_email FROM core.orders WHERE order_id = :o"),
                            {"o": ann}).scalar() is None
        assert conn.execute(text("SELECT last_name FROM core.order_addresses WHERE order_id = :o"),
                            {"o": ann}).scalar() is None
        assert conn.execute(text("SELECT payload FROM raw.letzshop_shipments WHERE payload_sha = 'v2'")).scalar() == {
            "order": {"email": "[removed]", "total": 10}}


def test_the_database_refuses_a_retention_under_30_days(two_buyers, warehouse):
    with pytest.raises(exc.IntegrityError, match="stores_personal_data_retention_minimum"):
        with warehouse.begin() as conn:
            conn.execute(text("UPDATE ops.stores SET personal_data_retention = interval '29 days'"))


def test_retention_removes_only_what_is_due_and_records_counts(two_buyers, warehouse):
    _, ann, bob = two_buyers
    with warehouse.begin() as conn:
        conn.execute(text("UPDATE core.orders SET updated_at = now() - interval '25 months' WHERE order_id = :o"),
                     {"o": ann})
        conn.execute(text("UPDATE core.orders SET updated_at = now() - interval '23 months' WHERE order_id = :o"),
                     {"o": bob})
    (run,) = apply_retention(warehouse, "pv", requested_by="test", batch=1)
    assert run.orders == 1 and run.rows_changed["core.orders"] == 1
    assert apply_retention(warehouse, "pv", requested_by="test")[0].orders == 0, "done once"
    with warehouse.begin() as conn:
        emails = dict(conn.execute(text("SELECT order_id, customer_email FROM core.orders")).tuples().all())
        recorded = conn.execute(text("SELECT kind, orders, rows_changed::text AS rows FROM ops.privacy_requests "
                                     "ORDER BY request_id")).all()
    assert emails == {ann: None, bob: "bob@example.org"}
    assert [(r.kind, r.orders) for r in recorded] == [("retention", 1), ("retention", 0)]
    assert "ann@" not in " ".join(r.rows for r in recorded).lower()


def test_the_retention_asset_reports_counts_and_checks_nothing_is_overdue(two_buyers, warehouse):
    _, ann, _ = two_buyers
    with warehouse.begin() as conn:
        conn.execute(text("UPDATE core.orders SET updated_at = now() - interval '3 years' WHERE order_id = :o"),
                     {"o": ann})
    with DagsterInstance.ephemeral() as instance:
        result = materialize([personal_data_retention], instance=instance, resources={"warehouse": warehouse})
    assert result.success
    metadata = result.get_asset_materialization_events()[0].event_specific_data.materialization.metadata
    assert metadata["dagster/row_count"].value == 1 and metadata["orders_expired/pv"].value == 1
    (check,) = result.get_asset_check_evaluations()
    assert check.passed and check.metadata["orders_overdue"].value == 0


def test_retention_workers_side_by_side_forget_each_order_once(warehouse):
    with warehouse.begin() as conn:
        store = add_store(conn, "many")
        for n in range(60):
            _buyer(conn, store, f"b{n}@example.org", f"First{n} Last{n}", f"Street {n}")
        conn.execute(text("UPDATE core.orders SET updated_at = now() - interval '30 months'"))
    (run,) = apply_retention(warehouse, "many", requested_by="test", batch=7, workers=3)
    assert run.orders == 60 and run.rows_changed["core.orders"] == 60
    assert run.rows_changed["raw.letzshop_shipments"] == 60 and run.rows_changed["core.order_addresses"] == 60
    with warehouse.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM core.orders WHERE customer_email IS NULL")).scalar_one() == 60
        assert conn.execute(text("SELECT count(*) FROM raw.letzshop_shipments WHERE payload::text LIKE '%Last%'"
                                 )).scalar_one() == 0


def test_the_retention_period_is_set_and_shown_through_the_cli(two_buyers, run_cli):
    code, _, err = run_cli("privacy", "retention", "--store", "pv", "--set", "18 months")
    assert code == 0 and "personal data kept for 1 year 6 mons" in err
    code, out, _ = run_cli("privacy", "retention", "--store", "pv", "--json")
    assert json.loads(out) == [{"store": "pv", "retention": "1 year 6 mons", "orders_due": 0, "orders_expired": 0,
                                "orders_erased": 0}]
    code, _, err = run_cli("privacy", "retention", "--store", "pv", "--set", "10d")
    assert code == 1 and "under the minimum of 30 days" in err
