"""The products CSV load on a real Postgres: rejects with reasons, writes only what changed."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from marketsync.assets.catalog.matching import match_order_items
from marketsync.assets.catalog.products import import_products_csv
from marketsync.resources.errors import MarketsyncError

EAN_A = "4006381333931"
EAN_B = "5901234123457"


def add_store(conn, code: str = "acme") -> int:
    return conn.execute(text("INSERT INTO ops.stores (code) VALUES (:c) RETURNING store_id"), {"c": code}).scalar_one()


def write(tmp_path, content: str, name: str = "products.csv", encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_bytes(content.encode(encoding))
    return path


def products(conn, store_id: int) -> dict[str, dict]:
    rows = conn.execute(
        text("SELECT sku, gtin14, title, attributes, updated_at FROM core.products WHERE store_id = :s"),
        {"s": store_id},
    )
    return {r.sku: dict(r._mapping) for r in rows}


def test_loads_valid_rows_and_keeps_other_columns_as_attributes(warehouse, tmp_path):
    path = write(tmp_path, "\ufeffSKU,Title,gtin,Brand,Colour\n"
                           f"A-1,Lamp,{EAN_A},Acme,red\n"
                           "B-2,  Chair ,036000291452,,\n"
                           '"C-3","Table, oak","",Acme,"dark\nbrown"\n')
    with warehouse.begin() as conn:
        store_id = add_store(conn)
        result = import_products_csv(conn, store_id, path)
        assert (result.read, result.loaded, result.unchanged, result.rejected, result.inserted) == (3, 3, 0, [], 3)
        stored = products(conn, store_id)
    assert stored["A-1"]["gtin14"] == "04006381333931"
    assert stored["A-1"]["attributes"] == {"Brand": "Acme", "Colour": "red"}
    assert stored["B-2"]["title"] == "Chair" and stored["B-2"]["gtin14"] == "00036000291452"
    assert stored["B-2"]["attributes"] == {}  # empty cells are left out
    assert stored["C-3"]["gtin14"] is None and stored["C-3"]["title"] == "Table, oak"
    assert stored["C-3"]["attributes"] == {"Brand": "Acme", "Colour": "dark\nbrown"}


def test_rejects_each_bad_row_with_its_line_and_reason(warehouse, tmp_path):
    path = write(tmp_path, "sku,gtin,title\n"
                           f"OK,{EAN_A},Fine\n"
                           ",4006381333931,No sku\n"
                           "BAD,4006381333932,Typo\n"
                           "\n"
                           "SHORT,123\n"
                           '"MULTI","x","line one\nline two"\n'
                           "OK,,Again\n"
                           "unmatched:x,,Reserved\n"
                           f"LAST,{EAN_B},Fine too\n")
    with warehouse.begin() as conn:
        store_id = add_store(conn)
        result = import_products_csv(conn, store_id, path)
        assert set(products(conn, store_id)) == {"OK", "LAST"}
    assert result.read == 8  # the blank line is not a record
    assert (result.loaded, result.unchanged) == (2, 0)
    assert result.read == result.loaded + result.unchanged + len(result.rejected)
    assert result.rejected == [
        (3, ",4006381333931,No sku", "sku is empty"),
        (4, "BAD,4006381333932,Typo", "barcode 4006381333932 has a wrong check digit (expected 1)"),
        (6, "SHORT,123", "has 2 fields but the header has 3"),
        (7, '"MULTI","x","line one\nline two"', "barcode 'x' contains characters other than digits"),
        (9, "OK,,Again", "sku 'OK' already appears on line 2"),
        (10, "unmatched:x,,Reserved", "SKUs starting with 'unmatched:' are reserved for placeholder products"),
    ]


def test_reimport_writes_only_changed_rows(warehouse, tmp_path):
    first = write(tmp_path, f"sku,gtin,title,brand\nA,{EAN_A},Lamp,Acme\nB,{EAN_B},Chair,Acme\nC,,Table,\n", "v1.csv")
    second = write(tmp_path,
                   f"sku,gtin,title,brand\nA,{EAN_A},Lamp,Acme\nB,{EAN_B},Chair,Other\nC,{EAN_A},Table,\nD,,New,\n",
                   "v2.csv")
    with warehouse.begin() as conn:
        store_id = add_store(conn)
        import_products_csv(conn, store_id, first)
    with warehouse.begin() as conn:
        before = products(conn, store_id)
        again = import_products_csv(conn, store_id, first)
        assert (again.read, again.loaded, again.unchanged, again.inserted) == (3, 0, 3, 0)
    with warehouse.begin() as conn:
        changed = import_products_csv(conn, store_id, second)
        after = products(conn, store_id)
    assert (changed.read, changed.loaded, changed.unchanged, changed.inserted) == (4, 3, 1, 1)
    assert after["A"]["updated_at"] == before["A"]["updated_at"]
    assert after["B"]["updated_at"] > before["B"]["updated_at"]
    assert after["B"]["attributes"] == {"brand": "Other"}
    assert after["C"]["gtin14"] == "04006381333931"


def test_semicolon_separated_file_and_other_stores_untouched(warehouse, tmp_path):
    path = write(tmp_path, f"sku;gtin;title\nA;{EAN_A};Lampe\n")
    with warehouse.begin() as conn:
        mine, other = add_store(conn, "mine"), add_store(conn, "other")
        conn.execute(text("INSERT INTO core.products (store_id, sku, title) VALUES (:s, 'A', 'Theirs')"), {"s": other})
        assert import_products_csv(conn, mine, path).loaded == 1
        assert products(conn, other)["A"]["title"] == "Theirs"
        assert products(conn, mine)["A"]["title"] == "Lampe"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("sku,title\nA,Lamp\n", "header lacks gtin"),
        ("sku,gtin,title,SKU\nA,,Lamp,B\n", "names sku more than once"),
        ("", "is empty"),
    ],
)
def test_unusable_files_are_refused_with_one_sentence(warehouse, tmp_path, content, message):
    path = write(tmp_path, content)
    with warehouse.begin() as conn:
        store_id = add_store(conn)
        with pytest.raises(MarketsyncError, match=message):
            import_products_csv(conn, store_id, path)


def test_non_utf8_file_is_refused(warehouse, tmp_path):
    path = write(tmp_path, "sku,gtin,title\nA,,Café\n", encoding="latin-1")
    with warehouse.begin() as conn:
        store_id = add_store(conn)
        with pytest.raises(MarketsyncError, match=r"not UTF-8 text .*line 2"):
            import_products_csv(conn, store_id, path)
        with pytest.raises(MarketsyncError, match="cannot read products file"):
            import_products_csv(conn, store_id, tmp_path / "missing.csv")


def test_loading_the_missing_product_resolves_pending_exceptions(warehouse, tmp_path):
    with warehouse.begin() as conn:
        store_id = add_store(conn)
        account_id = conn.execute(
            text("INSERT INTO ops.accounts (store_id, channel) VALUES (:s, 'letzshop') RETURNING account_id"),
            {"s": store_id},
        ).scalar_one()
        order_id = conn.execute(
            text("""INSERT INTO core.orders (store_id, account_id, channel, channel_order_id, channel_shipment_id,
                                             order_number, channel_state, source_payload_sha)
                    VALUES (:s, :a, 'letzshop', 'o1', 's1', 'R1', 'unconfirmed', 'x') RETURNING order_id"""),
            {"s": store_id, "a": account_id},
        ).scalar_one()
        conn.execute(
            text("""INSERT INTO core.order_items (order_id, channel_item_id, sku, barcode, gtin14, channel_state)
                    VALUES (:o, '1', 'CHAN-1', :b, '04006381333931', 'unconfirmed')"""),
            {"o": order_id, "b": EAN_A},
        )
        assert match_order_items(conn, store_id).exceptions_opened["product_not_found"] == 1

    with warehouse.begin() as conn:
        result = import_products_csv(conn, store_id, write(tmp_path, f"sku,gtin,title\nLAMP,{EAN_A},Lamp\n"))
        assert result.auto_resolved == 1
        line = conn.execute(text("""SELECT p.sku, i.match_status, i.matched_by FROM core.order_items i
                                    JOIN core.products p USING (product_id)""")).one()
        assert tuple(line) == ("LAMP", "matched", "gtin")
        exc = conn.execute(text("SELECT status, resolution, resolved_by FROM ops.order_exceptions")).one()
        assert exc.status == "resolved" and exc.resolution.startswith("resolved automatically")
        # The placeholder lost its only line and is gone.
        assert conn.execute(text("SELECT count(*) FROM core.products WHERE is_placeholder")).scalar() == 0
