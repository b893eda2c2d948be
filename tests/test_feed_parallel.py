"""Parsing a big feed on several cores (assets/feeds/parallel.py) against the reference, a load in one
process: every format that can be cut gives exactly the same catalog, quarantine (line numbers, raw
text, reasons) and counts; cuts that are not record boundaries are caught and the file is read in one
process; a repeated id across parts still lets the last one in the file win."""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from sqlalchemy import text

from marketsync.assets.accounts import upsert_account
from marketsync.assets.feeds import parallel
from marketsync.assets.feeds.loader import load_feed
from marketsync.assets.feeds.sources import add_source
from marketsync.resources.errors import MarketsyncError
from marketsync.sandbox.feeds.generators import generate, source_format

STORE = "parallelshop"


@pytest.fixture
def store(warehouse):
    with warehouse.begin() as conn:
        upsert_account(conn, STORE, "letzshop")


@pytest.fixture
def workers(monkeypatch):
    """Parallel parsing for files of any size, with `n` workers."""
    def use(n: int) -> None:
        monkeypatch.setenv(parallel.PARSE_WORKERS_ENV, str(n))
        monkeypatch.setenv(parallel.PARALLEL_MIN_BYTES_ENV, "1")
    return use


def make_source(warehouse, name: str, fmt: str, mapping: dict, encoding: str = "utf-8") -> dict:
    with warehouse.begin() as conn:
        return add_source(conn, STORE, name, "pull_feed", source_format(fmt), None, mapping, encoding,
                          {"max_bad_share": 0.5})


def catalog(warehouse, source_id: int) -> list[tuple]:
    with warehouse.begin() as conn:
        products = conn.execute(text(
            "SELECT external_id, gtin14, sku, mpn, brand, price, currency, availability, quantity, product_type, "
            "attributes::text, source_updated_at, content_sha FROM core.marketplace_products "
            "WHERE source_id = :s ORDER BY external_id"), {"s": source_id}).all()
        translations = conn.execute(text(
            "SELECT m.external_id, t.language, t.title, t.description FROM core.marketplace_product_translations t "
            "JOIN core.marketplace_products m USING (marketplace_product_id) WHERE m.source_id = :s "
            "ORDER BY 1, 2"), {"s": source_id}).all()
    return [tuple(r) for r in products] + [tuple(r) for r in translations]


def quarantine(warehouse, import_run_id: int) -> list[tuple]:
    with warehouse.begin() as conn:
        return [tuple(r) for r in conn.execute(text(
            "SELECT line_number, raw_text, reason FROM ops.quarantine WHERE import_run_id = :r ORDER BY 1, 2"),
            {"r": import_run_id}).all()]


def load_both(warehouse, workers, path: Path, fmt: str, mapping: dict, encoding: str = "utf-8", n: int = 3):
    """The same file loaded in one process and with `n` parse workers, into two sources."""
    name = path.stem.replace("_", "-").replace(".", "-")
    workers(1)
    one = make_source(warehouse, f"{name}-one", fmt, mapping, encoding)
    sequential = load_feed(warehouse.engine, one, path)
    workers(n)
    many = make_source(warehouse, f"{name}-many", fmt, mapping, encoding)
    split = load_feed(warehouse.engine, many, path)
    assert sequential.parse_workers == 1
    return (one, sequential), (many, split)


def assert_same(warehouse, one, sequential, many, split) -> None:
    assert catalog(warehouse, many["source_id"]) == catalog(warehouse, one["source_id"])
    assert quarantine(warehouse, split.import_run_id) == quarantine(warehouse, sequential.import_run_id)
    for field in ("status", "rows_read", "rows_loaded", "rows_unchanged", "rows_quarantined", "inserted"):
        assert getattr(split, field) == getattr(sequential, field), field


@pytest.mark.parametrize("fmt, encoding", [("csv", "utf-8-sig"), ("csv", "cp1252"), ("tsv", "utf-8"),
                                           ("xml", "utf-8"), ("xml", "cp1252"), ("ndjson", "utf-8")])
def test_parts_load_exactly_what_one_process_loads(warehouse, store, workers, tmp_path, fmt, encoding):
    path = tmp_path / f"feed-{fmt}-{encoding}.{fmt}"
    # Bad rows of every kind and quoted newlines (every 10th CSV description spans two lines).
    mapping = generate(fmt, path, 3000, seed=7, encoding=encoding, bad_share=0.02, quoted_newlines=True)
    (one, sequential), (many, split) = load_both(warehouse, workers, path, fmt, mapping, encoding)
    assert split.parse_workers == 3
    assert sequential.rows_quarantined > 0
    assert_same(warehouse, one, sequential, many, split)


# What a Shopify export needs (the shopify-products preset reads the same columns and more).
SHOPIFY_GROUPED = {
    "external_id": "Variant SKU", "sku": "Variant SKU", "gtin": "Variant Barcode", "price": "Variant Price",
    "sale_price": "Variant Compare At Price", "quantity": "Variant Inventory Qty", "brand": "Vendor",
    "title": {"en": "Title"}, "description": {"en": "Body (HTML)"}, "images": ["Image Src", "Variant Image"],
    "weight": "Variant Grams", "weight_unit": "g", "defaults": {"currency": "EUR"},
    "option_pairs": [["Option1 Name", "Option1 Value"], ["Option2 Name", "Option2 Value"]],
    "group": {"by": "Handle", "inherit": ["title", "description", "brand", "option_pairs"], "collect": ["images"]},
}


def test_a_grouped_export_is_cut_only_where_a_product_begins(warehouse, store, workers, tmp_path):
    """Each part starts with a product's first row, so every variant inherits its title in parallel as in
    one process; image-only rows and negative stock behave the same."""
    path = tmp_path / "shopify.csv"
    generate("shopify", path, 3000, seed=5, bad_share=0.01)
    parts = parallel.plan_parts(path, {"format": "csv", "mapping": SHOPIFY_GROUPED}, workers=3, smallest=1)
    assert parts is not None and len(parts) == 3
    data = path.read_bytes()
    for part in parts[1:]:
        first_row = next(csv.reader(io.StringIO(data[part.start:part.start + 4096].decode("utf-8", "replace"))))
        assert first_row[1], f"part {part.index} starts inside a product: {first_row[:3]}"  # a Title: a first row
    (one, sequential), (many, split) = load_both(warehouse, workers, path, "csv", SHOPIFY_GROUPED, n=3)
    assert split.parse_workers == 3
    assert sequential.rows_quarantined > 0
    assert_same(warehouse, one, sequential, many, split)
    # Every fifth product's image-only row: no product, counted apart, the same in parts as in one process.
    image_only = sum(1 for row in csv.DictReader(io.StringIO(path.read_text(encoding="utf-8")))
                     if not (row["Variant SKU"] or row["Variant Price"] or row["Variant Barcode"]))
    assert split.rows_skipped == sequential.rows_skipped == image_only > 0
    assert sequential.rows_read + sequential.rows_skipped == 3000
    with warehouse.begin() as conn:
        untitled = conn.execute(text(
            "SELECT count(*) FROM core.marketplace_products m LEFT JOIN core.marketplace_product_translations t "
            "USING (marketplace_product_id) WHERE m.source_id = :s AND t.title IS NULL"),
            {"s": many["source_id"]}).scalar()
        texts = conn.execute(text(
            "SELECT count(*) FILTER (WHERE t.description_text IS NOT NULL), count(*) "
            "FROM core.marketplace_product_translations t JOIN core.marketplace_products m "
            "USING (marketplace_product_id) WHERE m.source_id = :s"), {"s": many["source_id"]}).one()
        recorded = dict(conn.execute(text("SELECT import_run_id, rows_skipped FROM ops.import_runs")).tuples().all())
    assert recorded[split.import_run_id] == recorded[sequential.import_run_id] == image_only
    assert untitled == 0
    assert texts[0] == texts[1] > 0


def test_a_repeated_id_in_a_later_part_wins(warehouse, store, workers, tmp_path):
    path = tmp_path / "repeated.csv"
    rows = [f"P{i:05d},{i}.00,Product {i}\n" for i in range(4000)]
    rows.insert(10, "P03990,1.00,early copy\n")  # the same id again, near the end of the file: that one wins
    path.write_text("id,price,title\n" + "".join(rows))
    mapping = {"external_id": "id", "price": "price", "title": {"en": "title"}, "defaults": {"currency": "EUR"}}
    (one, sequential), (many, split) = load_both(warehouse, workers, path, "csv", mapping, n=2)
    assert split.parse_workers == 2
    assert_same(warehouse, one, sequential, many, split)
    with warehouse.begin() as conn:
        price = conn.execute(text("SELECT price FROM core.marketplace_products WHERE source_id = :s AND "
                                  "external_id = 'P03990'"), {"s": many["source_id"]}).scalar()
    assert str(price) == "3990.0000"


def test_a_cut_inside_a_quoted_field_is_caught_and_the_file_read_in_one_process(warehouse, store, workers, tmp_path):
    # The middle of the file is one quoted description whose lines look exactly like records: the planner
    # cuts there, the first part does not meet a record on the cut's line, and the load starts over.
    fake = "".join(f"Q{i:05d},9.99,looks like a record\n" for i in range(3000))
    head = "".join(f"P{i:05d},{i}.00,Product {i}\n" for i in range(500))
    tail = "".join(f"R{i:05d},{i}.00,Product {i}\n" for i in range(500))
    path = tmp_path / "trap.csv"
    path.write_text(f'id,price,title\n{head}X00001,1.00,"{fake}"\n{tail}P00001,bad price,oops\n')
    mapping = {"external_id": "id", "price": "price", "title": {"en": "title"}, "defaults": {"currency": "EUR"}}
    parts = parallel.plan_parts(path, {"format": "csv", "mapping": mapping}, workers=2, smallest=1)
    assert parts is not None and len(parts) == 2  # the trap works: a cut was planned inside the field
    (one, sequential), (many, split) = load_both(warehouse, workers, path, "csv", mapping, n=2)
    assert split.parse_workers == 1
    assert sequential.rows_read == 1002 and sequential.rows_quarantined == 1
    assert_same(warehouse, one, sequential, many, split)


def test_an_xml_cut_inside_a_comment_is_caught(warehouse, store, workers, tmp_path):
    records = "".join(f"<product><id>P{i:05d}</id><price>{i}.00</price></product>\n" for i in range(400))
    commented = "".join(f"<product><id>C{i:05d}</id><price>1.00</price></product>\n" for i in range(2000))
    path = tmp_path / "comment.xml"
    path.write_text(f'<?xml version="1.0"?>\n<products>\n{records}<!--\n{commented}-->\n{records}</products>\n')
    mapping = {"record": "products/product", "external_id": "id", "price": "price", "defaults": {"currency": "EUR"}}
    assert parallel.plan_parts(path, {"format": "xml", "mapping": mapping}, workers=2, smallest=1) is not None
    (one, sequential), (many, split) = load_both(warehouse, workers, path, "xml", mapping, n=2)
    assert split.parse_workers == 1
    assert sequential.rows_read == 800
    assert_same(warehouse, one, sequential, many, split)


def _broken_xml(path: Path) -> dict:
    records = "".join(f"<product><id>P{i:05d}</id></product>\n" for i in range(2000))
    path.write_text(f"<products>\n{records}<product><id>X</id></prodct>\n{records}</products>\n")
    return {"record": "product", "external_id": "id"}


def _external_entity(path: Path) -> dict:
    records = "".join(f"<product><id>P{i:05d}</id><name>&leak;</name></product>\n" for i in range(2000))
    path.write_text(f'<?xml version="1.0"?>\n<!DOCTYPE products [<!ENTITY leak SYSTEM "file:///etc/passwd">]>\n'
                    f"<products>\n{records}</products>\n")
    return {"record": "product", "external_id": "id", "sku": "name"}


def _all_bad_csv(path: Path) -> dict:
    path.write_text("id,price\n" + "".join(f",{i}.00\n" for i in range(3000)))
    return {"external_id": "id", "price": "price"}


@pytest.mark.parametrize("fmt, write", [("xml", _broken_xml), ("xml", _external_entity), ("csv", _all_bad_csv)])
def test_a_file_that_fails_fails_as_it_does_in_one_process(warehouse, store, workers, tmp_path, fmt, write):
    path = tmp_path / f"bad.{fmt}"
    mapping = write(path)
    workers(1)
    with pytest.raises(MarketsyncError) as one:
        load_feed(warehouse.engine, make_source(warehouse, f"{write.__name__[1:]}-one".replace("_", "-"), fmt,
                                                mapping), path)
    workers(2)
    many_source = make_source(warehouse, f"{write.__name__[1:]}-many".replace("_", "-"), fmt, mapping)
    with pytest.raises(MarketsyncError) as many:
        load_feed(warehouse.engine, many_source, path)
    assert str(many.value).replace("many", "one") == str(one.value).replace("many", "one")
    with warehouse.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM core.marketplace_products WHERE source_id = :s"),
                            {"s": many_source["source_id"]}).scalar() == 0
        assert "root:" not in str(conn.execute(text("SELECT array_agg(sku) FROM core.marketplace_products")).scalar())


def test_what_cannot_be_cut_is_read_in_one_process(tmp_path):
    document = tmp_path / "doc.json"
    generate("json", document, 500, seed=1)
    assert parallel.plan_parts(document, {"format": "json", "mapping": {"record": "data.items"}},
                               workers=2, smallest=1) is None
    small = tmp_path / "small.csv"
    small.write_text("id\nA\nB\n")
    assert parallel.plan_parts(small, {"format": "csv", "mapping": {}}, workers=2, smallest=1 << 20) is None
    assert parallel.plan_parts(small, {"format": "csv", "mapping": {}}, workers=1, smallest=1) is None
    one_line = tmp_path / "one-line.xml"
    one_line.write_text("<products>" + "<product><id>A</id></product>" * 2000 + "</products>")
    assert parallel.plan_parts(one_line, {"format": "xml", "mapping": {"record": "product"}},
                               workers=2, smallest=1) is None


@pytest.mark.parametrize("data", [b"a\r\nb\rc\nd", b"\r\n\r\n", b"x\r", b"\n\n\r\r\n"])
def test_line_breaks_are_counted_as_the_readers_count_them(monkeypatch, data):
    expected = len(io.StringIO(data.decode(), newline=None).readlines()) - (0 if data.endswith((b"\n", b"\r")) else 1)
    for block in (1, 2, 3, 1 << 20):  # a \r\n may fall across two blocks
        monkeypatch.setattr(parallel, "_COUNT_BLOCK", block)
        assert parallel.count_line_breaks(io.BytesIO(data), 0, len(data), universal=True) == expected
    assert parallel.count_line_breaks(io.BytesIO(data), 0, len(data), universal=False) == data.count(b"\n")
