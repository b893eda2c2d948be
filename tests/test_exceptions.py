"""The exception workflow on a real Postgres: list, resolve by hand or in bulk, ignore, auto-resolve."""
from __future__ import annotations

import pytest
from order_rows import add_order, add_product, add_store
from sqlalchemy import text

from marketsync.assets.catalog import exceptions as ex
from marketsync.assets.catalog.gtin import normalize_gtin
from marketsync.assets.catalog.matching import match_order_items
from marketsync.resources.errors import MarketsyncError

EAN_A = "4006381333931"
EAN_B = "5901234123457"
G_A, G_B = normalize_gtin(EAN_A).gtin14, normalize_gtin(EAN_B).gtin14

def exception_id(conn, item_id: int) -> int:
    return conn.execute(text("SELECT exception_id FROM ops.order_exceptions WHERE order_item_id = :i"),
                        {"i": item_id}).scalar_one()


def line(conn, item_id: int):
    return conn.execute(
        text("""SELECT i.product_id, i.match_status, i.matched_by, p.is_placeholder
                FROM core.order_items i JOIN core.products p USING (product_id) WHERE order_item_id = :i"""),
        {"i": item_id},
    ).one()


def placeholders(conn) -> int:
    return conn.execute(text("SELECT count(*) FROM core.products WHERE is_placeholder")).scalar_one()


@pytest.fixture
def shop(warehouse):
    """Store acme: product LAMP (EAN_A); an order whose two lines carry the unknown EAN_B and an
    unknown SKU; a second order with EAN_B again. Matched, so three product_not_found exceptions."""
    with warehouse.begin() as conn:
        store = add_store(conn)
        lamp = add_product(conn, store[0], "LAMP", EAN_A)
        first, (b1, nosku) = add_order(conn, store, {"sku": "CHAN-B", "barcode": EAN_B},
                                       {"sku": "MYSTERY", "barcode": None})
        second, (b2,) = add_order(conn, store, {"sku": "CHAN-B", "barcode": EAN_B})
        match_order_items(conn, store[0])
    return {"store_id": store[0], "store": store, "lamp": lamp, "first": first, "second": second,
            "b1": b1, "b2": b2, "nosku": nosku}


def test_list_filters_and_shape(warehouse, shop):
    with warehouse.begin() as conn:
        other = add_store(conn, "other")
        _, (_foreign,) = add_order(conn, other, {"sku": "X", "barcode": None})
        match_order_items(conn, other[0])

        mine = ex.list_exceptions(conn, "acme")
        assert [e["order_item_id"] for e in mine] == [shop["b1"], shop["nosku"], shop["b2"]]
        first = mine[0]
        assert (first["store"], first["kind"], first["status"], first["gtin14"], first["barcode"], first["sku"]) == (
            "acme", "product_not_found", "pending", G_B, EAN_B, "CHAN-B")
        assert first["order_number"] and (
            first["details"]["reason"] == f"no catalog product has GTIN {G_B} or SKU CHAN-B")
        assert len(ex.list_exceptions(conn, None)) == 4
        assert ex.list_exceptions(conn, "acme", status="resolved") == []
        assert ex.list_exceptions(conn, "acme", kind="duplicate_gtin") == []
        assert len(ex.list_exceptions(conn, "acme", status=None, kind="product_not_found")) == 3
        with pytest.raises(MarketsyncError, match="unknown store 'nope'"):
            ex.list_exceptions(conn, "nope")
        with pytest.raises(MarketsyncError, match="unknown exception status 'done'"):
            ex.list_exceptions(conn, "acme", status="done")
        with pytest.raises(MarketsyncError, match="unknown exception kind 'oops'"):
            ex.list_exceptions(conn, "acme", kind="oops")


def test_resolve_by_sku_repoints_the_line_and_drops_the_unused_placeholder(warehouse, shop):
    with warehouse.begin() as conn:
        exc_id = exception_id(conn, shop["nosku"])
        assert placeholders(conn) == 2  # unmatched:<EAN_B>, unmatched:MYSTERY
        result = ex.resolve_exception(conn, exc_id, "LAMP", "anna")
        assert (result["status"], result["resolved_product_id"], result["resolved_sku"], result["resolved_by"]) == (
            "resolved", shop["lamp"], "LAMP", "anna")
        assert result["resolution"] == "assigned product LAMP manually"
        assert tuple(line(conn, shop["nosku"])) == (shop["lamp"], "matched", "manual", False)
        assert placeholders(conn) == 1

        with pytest.raises(MarketsyncError, match=f"exception {exc_id} is already resolved"):
            ex.resolve_exception(conn, exc_id, "LAMP", "anna")


def test_resolve_by_product_id_but_only_within_the_store(warehouse, shop):
    with warehouse.begin() as conn:
        other = add_store(conn, "other")
        foreign = add_product(conn, other[0], "ELSEWHERE")
        exc_id = exception_id(conn, shop["b1"])
        with pytest.raises(MarketsyncError, match="store 'acme' has no product with SKU or id 'ELSEWHERE'"):
            ex.resolve_exception(conn, exc_id, "ELSEWHERE", "anna")
        with pytest.raises(MarketsyncError, match=f"has no product with SKU or id '{foreign}'"):
            ex.resolve_exception(conn, exc_id, str(foreign), "anna")
        with pytest.raises(MarketsyncError, match="has no product with SKU or id 'unmatched:MYSTERY'"):
            ex.resolve_exception(conn, exc_id, "unmatched:MYSTERY", "anna")  # placeholders are not answers
        with pytest.raises(MarketsyncError, match="there is no exception 999999"):
            ex.resolve_exception(conn, 999999, "LAMP", "anna")
        with pytest.raises(MarketsyncError, match="say who"):
            ex.resolve_exception(conn, exc_id, "LAMP", "  ")

        result = ex.resolve_exception(conn, exc_id, str(shop["lamp"]), "anna")
        assert result["resolved_product_id"] == shop["lamp"]
        # The other line with the same barcode still waits; its placeholder stays.
        assert ex.list_exceptions(conn, "acme", kind="product_not_found")[0]["order_item_id"] == shop["nosku"]
        assert line(conn, shop["b2"]).is_placeholder is True


def test_a_sku_wins_over_a_product_id(warehouse, shop):
    with warehouse.begin() as conn:
        digits = add_product(conn, shop["store_id"], str(shop["lamp"]))  # a SKU that looks like LAMP's id
        result = ex.resolve_exception(conn, exception_id(conn, shop["b1"]), str(shop["lamp"]), "anna")
        assert result["resolved_product_id"] == digits


def test_bulk_resolve_by_gtin_in_any_written_form(warehouse, shop):
    with warehouse.begin() as conn:
        lamp2 = add_product(conn, shop["store_id"], "LAMP-2")
        assert ex.bulk_resolve_by_gtin(conn, "acme", "590-1234-123457", "LAMP-2", "anna") == 2
        for item_id in (shop["b1"], shop["b2"]):
            assert tuple(line(conn, item_id)) == (lamp2, "matched", "manual", False)
        assert ex.exception_stats(conn, "acme")["by_status"] == {"pending": 1, "resolved": 2, "ignored": 0}
        assert placeholders(conn) == 1
        assert ex.bulk_resolve_by_gtin(conn, "acme", EAN_B, "LAMP-2", "anna") == 0  # nothing open any more
        with pytest.raises(MarketsyncError, match=r"wrong check digit .* no open exception"):
            ex.bulk_resolve_by_gtin(conn, "acme", "5901234123458", "LAMP-2", "anna")


def test_bulk_resolve_by_an_invalid_barcode_as_sent(warehouse, shop):
    with warehouse.begin() as conn:
        _, (bad1, bad2, other) = add_order(conn, shop["store"], {"sku": "Q1", "barcode": "12345"},
                                          {"sku": "Q2", "barcode": " 12345 "}, {"sku": "Q3", "barcode": "123456"})
        match_order_items(conn, shop["store_id"])
        assert line(conn, bad1).product_id == line(conn, bad2).product_id  # one placeholder per code
        assert ex.bulk_resolve_by_gtin(conn, "acme", "12345", "LAMP", "anna") == 2  # surrounding spaces aside, exact
        assert line(conn, bad1).matched_by == line(conn, bad2).matched_by == "manual"
        assert line(conn, other).match_status == "unmatched"


def test_ignore_needs_a_reason_and_still_blocks_the_order(warehouse, shop):
    with warehouse.begin() as conn:
        exc_id = exception_id(conn, shop["nosku"])
        with pytest.raises(MarketsyncError, match="give a reason"):
            ex.ignore_exception(conn, exc_id, " ", "anna")
        ignored = ex.ignore_exception(conn, exc_id, "customer cancels", "anna")
        assert (ignored["status"], ignored["resolution"], ignored["resolved_by"]) == (
            "ignored", "customer cancels", "anna")
        assert line(conn, shop["nosku"]).is_placeholder is True
        with pytest.raises(MarketsyncError, match=f"exception {exc_id} is already ignored"):
            ex.ignore_exception(conn, exc_id, "again", "anna")

        blocking = ex.blocking_exceptions(conn, shop["first"])
        assert sorted((b["order_item_id"], b["status"]) for b in blocking) == sorted(
            [(shop["b1"], "pending"), (shop["nosku"], "ignored")])
        assert ex.list_exceptions(conn, "acme") and all(e["status"] == "pending"
                                                        for e in ex.list_exceptions(conn, "acme"))
        assert len(ex.list_exceptions(conn, "acme", status="open")) == 3

        # An ignored exception can still be answered properly later.
        assert ex.resolve_exception(conn, exc_id, "LAMP", "ben")["status"] == "resolved"
        assert [b["order_item_id"] for b in ex.blocking_exceptions(conn, shop["first"])] == [shop["b1"]]
        ex.resolve_exception(conn, exception_id(conn, shop["b1"]), "LAMP", "ben")
        assert ex.blocking_exceptions(conn, shop["first"]) == []


def test_auto_resolve_when_the_catalog_catches_up(warehouse, shop):
    with warehouse.begin() as conn:
        assert ex.auto_resolve(conn, shop["store_id"]) == 0
        # Two products with the GTIN: still ambiguous, nothing resolves.
        first = add_product(conn, shop["store_id"], "B-ONE", EAN_B)
        second = add_product(conn, shop["store_id"], "B-TWO", EAN_B)
        assert ex.auto_resolve(conn, shop["store_id"]) == 0
        conn.execute(text("UPDATE core.products SET gtin14 = NULL WHERE product_id = :p"), {"p": second})
        ex.ignore_exception(conn, exception_id(conn, shop["b2"]), "decided by a person", "anna")

        assert ex.auto_resolve(conn, shop["store_id"]) == 1  # the ignored one is left alone
        resolved = ex.list_exceptions(conn, "acme", status="resolved")
        assert [(e["order_item_id"], e["resolved_sku"], e["resolved_by"]) for e in resolved] == [
            (shop["b1"], "B-ONE", ex.AUTO_RESOLVER)]
        assert resolved[0]["resolution"] == f"resolved automatically: GTIN {G_B} now matches product B-ONE"
        assert tuple(line(conn, shop["b1"])) == (first, "matched", "gtin", False)
        assert placeholders(conn) == 2  # b2 still points at the <EAN_B> placeholder


def test_auto_resolve_settles_duplicate_gtin_and_gtin_mismatch(warehouse):
    with warehouse.begin() as conn:
        store = add_store(conn)
        dup1 = add_product(conn, store[0], "D1", EAN_A)
        add_product(conn, store[0], "D2", EAN_A)
        wrong = add_product(conn, store[0], "W", "96385074")  # a wrong GTIN, corrected below
        _, (dup_line, mismatch_line) = add_order(conn, store, {"sku": "D1", "barcode": EAN_A},
                                                 {"sku": "W", "barcode": EAN_B})
        opened = match_order_items(conn, store[0]).exceptions_opened
        assert (opened["duplicate_gtin"], opened["gtin_mismatch"]) == (1, 1)

        conn.execute(text("DELETE FROM core.products WHERE sku = 'D2'"))
        conn.execute(text("UPDATE core.products SET gtin14 = :g WHERE product_id = :p"), {"g": G_B, "p": wrong})
        assert ex.auto_resolve(conn, store[0]) == 2
        assert tuple(line(conn, dup_line)) == (dup1, "matched", "gtin", False)
        assert tuple(line(conn, mismatch_line)) == (wrong, "matched", "gtin", False)
        assert placeholders(conn) == 0


def test_stats(warehouse, shop):
    with warehouse.begin() as conn:
        ex.ignore_exception(conn, exception_id(conn, shop["nosku"]), "later", "anna")
        stats = ex.exception_stats(conn, "acme")
        assert stats["by_kind"]["product_not_found"] == {"pending": 2, "resolved": 0, "ignored": 1}
        assert stats["by_kind"]["gtin_mismatch"] == {"pending": 0, "resolved": 0, "ignored": 0}
        assert (stats["open"], stats["blocking"], stats["total"]) == (2, 3, 3)
        assert ex.exception_stats(conn)["total"] == 3
