"""Catalog matching on a real Postgres: GTIN first, SKU second, placeholders and exceptions otherwise."""
from __future__ import annotations

from order_rows import add_order, add_product, add_store
from sqlalchemy import text

from marketsync.assets.catalog.gtin import normalize_gtin
from marketsync.assets.catalog.matching import match_order_items, refresh_catalog_statistics

EAN_A = "4006381333931"      # valid EAN-13
EAN_B = "5901234123457"      # valid EAN-13
EAN_C = "036000291452"       # valid UPC-A
G_A, G_B, G_C = (normalize_gtin(code).gtin14 for code in (EAN_A, EAN_B, EAN_C))

def item(conn, item_id: int) -> dict:
    return dict(conn.execute(
        text("""SELECT i.product_id, i.match_status, i.matched_by, p.sku AS product_sku, p.is_placeholder
                FROM core.order_items i LEFT JOIN core.products p USING (product_id) WHERE order_item_id = :i"""),
        {"i": item_id},
    ).one()._mapping)


def exceptions_of(conn, item_id: int) -> list[dict]:
    return [dict(r._mapping) for r in conn.execute(
        text("SELECT kind, status, gtin14, barcode, sku, details FROM ops.order_exceptions WHERE order_item_id = :i "
             "ORDER BY kind"),
        {"i": item_id},
    )]


# ---------------------------------------------------------------- the rules

def test_gtin_match_wins_over_sku(warehouse):
    with warehouse.begin() as conn:
        store = add_store(conn)
        by_gtin = add_product(conn, store[0], "A", EAN_A)
        add_product(conn, store[0], "OTHER", EAN_B)
        _, (line,) = add_order(conn, store, {"sku": "OTHER", "barcode": EAN_A})
        summary = match_order_items(conn, store[0])
        assert (summary.items, summary.matched_by_gtin, summary.matched_by_sku, summary.unmatched) == (1, 1, 0, 0)
        assert sum(summary.exceptions_opened.values()) == 0
        assert item(conn, line) == {"product_id": by_gtin, "match_status": "matched", "matched_by": "gtin",
                                    "product_sku": "A", "is_placeholder": False}


def test_duplicate_gtin_opens_an_exception_and_leaves_the_line_on_a_placeholder(warehouse):
    with warehouse.begin() as conn:
        store = add_store(conn)
        first = add_product(conn, store[0], "A1", EAN_A)
        second = add_product(conn, store[0], "A2", EAN_A)
        _, (line,) = add_order(conn, store, {"sku": "A1", "barcode": EAN_A, "title": "Lamp"})
        summary = match_order_items(conn, store[0])
        assert summary.exceptions_opened == {"product_not_found": 0, "gtin_mismatch": 0, "duplicate_gtin": 1}
        assert summary.unmatched == 1
        state = item(conn, line)
        assert (state["match_status"], state["matched_by"], state["is_placeholder"]) == ("unmatched", None, True)
        assert state["product_sku"] == f"unmatched:{G_A}"
        (exc,) = exceptions_of(conn, line)
        assert (exc["kind"], exc["status"], exc["gtin14"], exc["sku"]) == ("duplicate_gtin", "pending", G_A, "A1")
        assert exc["details"]["candidates"] == [{"product_id": first, "sku": "A1"}, {"product_id": second, "sku": "A2"}]
        placeholder = conn.execute(
            text("SELECT gtin14, title, attributes FROM core.products WHERE sku = :s"), {"s": f"unmatched:{G_A}"}
        ).one()
        assert placeholder.gtin14 == G_A and placeholder.title == "Lamp"


def test_sku_fallback_when_the_gtin_is_unknown_or_absent(warehouse):
    with warehouse.begin() as conn:
        store = add_store(conn)
        without_gtin = add_product(conn, store[0], "PLAIN")
        _, (no_barcode, unknown_gtin) = add_order(
            conn, store, {"sku": " PLAIN ", "barcode": None}, {"sku": "PLAIN", "barcode": EAN_B}
        )
        summary = match_order_items(conn, store[0])
        assert (summary.matched_by_gtin, summary.matched_by_sku) == (0, 2)
        for line in (no_barcode, unknown_gtin):
            assert item(conn, line)["product_id"] == without_gtin
            assert item(conn, line)["matched_by"] == "sku"
            # The catalog product has no GTIN, so nothing contradicts the line.
            assert exceptions_of(conn, line) == []


def test_sku_match_with_a_different_catalog_gtin_opens_gtin_mismatch_but_stays_matched(warehouse):
    with warehouse.begin() as conn:
        store = add_store(conn)
        product = add_product(conn, store[0], "A", EAN_A)
        _, (line,) = add_order(conn, store, {"sku": "A", "barcode": EAN_B})
        summary = match_order_items(conn, store[0])
        assert summary.matched_by_sku == 1 and summary.exceptions_opened["gtin_mismatch"] == 1
        assert item(conn, line)["product_id"] == product
        assert item(conn, line)["match_status"] == "matched"
        (exc,) = exceptions_of(conn, line)
        assert exc["kind"] == "gtin_mismatch" and exc["gtin14"] == G_B
        assert exc["details"]["product_gtin14"] == G_A
        assert exc["details"]["reason"] == (
            f"matched by SKU A, but the order line's GTIN {G_B} differs from the product's GTIN {G_A}"
        )


def test_invalid_barcodes_judged_against_the_sku_matched_product(warehouse):
    with warehouse.begin() as conn:
        store = add_store(conn)
        add_product(conn, store[0], "A", EAN_A)
        add_product(conn, store[0], "NOGTIN")
        add_product(conn, store[0], "EIGHT", "01234565")
        _, (typo, filler, no_catalog_gtin, zero_lost) = add_order(
            conn, store,
            {"sku": "A", "barcode": "4006381333932"},       # check digit typo against a catalog GTIN
            {"sku": "A", "barcode": "N/A"},                 # filler: treated as no barcode
            {"sku": "NOGTIN", "barcode": "4006381333932"},  # nothing in the catalog to contradict
            {"sku": "EIGHT", "barcode": "1234565"},         # the product's EAN-8 with its leading zero lost
        )
        summary = match_order_items(conn, store[0])
        assert summary.matched_by_sku == 4
        assert summary.exceptions_opened == {"product_not_found": 0, "gtin_mismatch": 1, "duplicate_gtin": 0}
        (exc,) = exceptions_of(conn, typo)
        assert exc["kind"] == "gtin_mismatch" and exc["gtin14"] is None and exc["barcode"] == "4006381333932"
        assert exc["details"]["barcode_problem"] == "barcode 4006381333932 has a wrong check digit (expected 1)"
        assert (exceptions_of(conn, filler) == exceptions_of(conn, no_catalog_gtin)
                == exceptions_of(conn, zero_lost) == [])


def test_nothing_found_links_lines_to_one_placeholder_per_unknown_code(warehouse):
    with warehouse.begin() as conn:
        store = add_store(conn)
        _, (a1, a2, by_sku, bad) = add_order(
            conn, store,
            {"sku": "X1", "barcode": EAN_C},
            {"sku": "X2", "barcode": EAN_C},
            {"sku": "NOPE"},
            {"sku": "Q", "barcode": "123"},
        )
        summary = match_order_items(conn, store[0])
        assert summary.unmatched == 4 and summary.exceptions_opened["product_not_found"] == 4
        assert item(conn, a1)["product_id"] == item(conn, a2)["product_id"]
        assert item(conn, a1)["product_sku"] == f"unmatched:{G_C}"
        assert item(conn, by_sku)["product_sku"] == "unmatched:NOPE"
        assert item(conn, bad)["product_sku"] == "unmatched:123"
        placeholders = conn.execute(text("SELECT count(*) FROM core.products WHERE is_placeholder")).scalar()
        assert placeholders == 3
        (exc,) = exceptions_of(conn, bad)
        assert exc["details"]["reason"] == "no catalog product has barcode 123 or SKU Q"
        assert exceptions_of(conn, a1)[0]["details"]["reason"] == f"no catalog product has GTIN {G_C} or SKU X1"

        # A later order with the same unknown code reuses the placeholder; placeholders never match.
        _, (later,) = add_order(conn, store, {"sku": "X3", "barcode": EAN_C})
        again = match_order_items(conn, store[0])
        assert again.unmatched == 1
        assert item(conn, later)["product_id"] == item(conn, a1)["product_id"]


def test_rerunning_never_duplicates(warehouse):
    with warehouse.begin() as conn:
        store = add_store(conn)
        add_product(conn, store[0], "A", EAN_A)
        _, (_line, _missing) = add_order(conn, store, {"sku": "A", "barcode": EAN_B}, {"sku": "Z"})
        first = match_order_items(conn, store[0])
        assert sum(first.exceptions_opened.values()) == 2
        second = match_order_items(conn, store[0])
        assert second.items == 0 and sum(second.exceptions_opened.values()) == 0
        # Even a line put back to pending gets no second exception of the same kind.
        conn.execute(text("UPDATE core.order_items SET match_status = 'pending', product_id = NULL"))
        third = match_order_items(conn, store[0])
        assert third.items == 2 and sum(third.exceptions_opened.values()) == 0
        assert conn.execute(text("SELECT count(*) FROM ops.order_exceptions")).scalar() == 2
        assert conn.execute(text("SELECT count(*) FROM core.products WHERE is_placeholder")).scalar() == 1


def test_only_the_given_orders_and_only_this_stores_catalog(warehouse):
    with warehouse.begin() as conn:
        store = add_store(conn, "acme")
        other = add_store(conn, "other")
        add_product(conn, other[0], "A", EAN_A)  # another store's product never matches
        mine = add_product(conn, store[0], "B", EAN_B)
        order_one, (one,) = add_order(conn, store, {"sku": "A", "barcode": EAN_A})
        _, (two,) = add_order(conn, store, {"sku": "B", "barcode": EAN_B})
        _, (foreign,) = add_order(conn, other, {"sku": "A", "barcode": EAN_A})

        assert match_order_items(conn, store[0], order_ids=[]).items == 0
        summary = match_order_items(conn, store[0], order_ids=[order_one])
        assert summary.items == 1 and summary.exceptions_opened["product_not_found"] == 1
        assert item(conn, two)["match_status"] == "pending"
        assert item(conn, foreign)["match_status"] == "pending"

        rest = match_order_items(conn, store[0])
        assert (rest.items, rest.matched_by_gtin) == (1, 1)
        assert item(conn, two)["product_id"] == mine
        assert item(conn, one)["is_placeholder"] is True


def test_a_second_run_in_the_same_transaction_works(warehouse):
    with warehouse.begin() as conn:
        store = add_store(conn)
        add_product(conn, store[0], "A", EAN_A)
        add_order(conn, store, {"sku": "A", "barcode": EAN_A})
        assert match_order_items(conn, store[0]).matched_by_gtin == 1
        add_order(conn, store, {"sku": "A", "barcode": EAN_A})
        assert match_order_items(conn, store[0]).matched_by_gtin == 1


def test_statistics_are_refreshed_when_a_store_outgrows_them(warehouse):
    with warehouse.begin() as conn:
        # An id no earlier test used, so no statistics of this session know the store.
        store_id = conn.execute(text(
            "INSERT INTO ops.stores (store_id, code) VALUES (987654, 'fresh') RETURNING store_id")).scalar_one()
        assert refresh_catalog_statistics(conn, store_id) is False  # nothing to catch up on
        conn.execute(
            text("INSERT INTO core.products (store_id, sku) SELECT :s, 'P' || g FROM generate_series(1, 3000) g"),
            {"s": store_id},
        )
        assert refresh_catalog_statistics(conn, store_id) is True
        assert refresh_catalog_statistics(conn, store_id) is False  # the planner now knows


def test_many_products_sharing_a_gtin_list_a_bounded_set_of_candidates(warehouse):
    with warehouse.begin() as conn:
        store = add_store(conn)
        conn.execute(
            text("INSERT INTO core.products (store_id, sku, gtin14) "
                 "SELECT :s, 'D' || g, :g FROM generate_series(1, 40) g"),
            {"s": store[0], "g": G_A},
        )
        _, (line,) = add_order(conn, store, {"sku": "D1", "barcode": EAN_A})
        assert match_order_items(conn, store[0]).exceptions_opened["duplicate_gtin"] == 1
        (exc,) = exceptions_of(conn, line)
        assert len(exc["details"]["candidates"]) == 10
        assert exc["details"]["reason"] == f"several catalog products share GTIN {G_A}"
