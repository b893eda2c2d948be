"""Bounded input everywhere (issue 20, hostile input): decompression bombs in .gz feed files and in
Content-Encoding, oversized API answers (REST, GraphQL, Google Sheets), a gigabyte line with no line
break, JSON and XML nested 100,000 deep. Each is refused with a worded error while memory stays flat,
measured: every scenario runs in a child process of its own that reports its peak memory growth
(VmHWM, the resident high-water mark, reset before the scenario) and its Python heap peak
(tracemalloc). The bodies are served from loopback, generated as they are sent; a failed import keeps
what the previous import loaded."""
from __future__ import annotations

import gzip
import http.server
import io
import json
import os
import random
import subprocess
import sys
import threading
import zlib
from pathlib import Path

import pytest
from sqlalchemy import text

from marketsync.assets.accounts import upsert_account
from marketsync.assets.feeds.bounds import FeedBoundExceeded, JsonDepthBound, ReadLimits
from marketsync.assets.feeds.loader import load_feed
from marketsync.assets.feeds.pull import import_pull_feed
from marketsync.assets.feeds.readers import CsvReader, JsonReader, XmlReader
from marketsync.assets.feeds.sources import add_source, validate_settings
from marketsync.assets.feeds.xml_safety import XmlRefused
from marketsync.resources.errors import MarketsyncError
from marketsync.resources.feed_transport import FeedTransport, FeedTransportError
from marketsync.resources.inflation import Inflater, InflateRatioExceeded, content_inflater

MIB = 1 << 20
ROOT = Path(__file__).resolve().parents[1]
ANSWER_MB = 200          # an oversized API answer, streamed in 1 MiB pieces, never built whole
FLAT_MB = 64             # the growth a refusal may cost, whatever the input's size
# A 10 MB multi-member gzip of zeros: 100 members of 100 MiB each, 10 GiB inflated.
_MEMBER = gzip.compress(bytes(100 * MIB), compresslevel=9)
GZIP_BOMB = _MEMBER * 100
DEFLATE_BOMB = zlib.compress(bytes(256 * MIB), 9)


class _Handler(http.server.BaseHTTPRequestHandler):
    """GET /bomb.csv.gz (the bomb as a file), /encoded.csv (Content-Encoding gzip), /deflate.csv
    (Content-Encoding deflate), /api/gzip (an API answer that is a bomb); any other GET and POST
    /graphql: a 200 MB JSON answer with no declared length."""

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self._stream_answer()

    def do_GET(self) -> None:
        bodies = {"/bomb.csv.gz": (GZIP_BOMB, None), "/encoded.csv": (GZIP_BOMB, "gzip"),
                  "/deflate.csv": (DEFLATE_BOMB, "deflate"), "/api/gzip": (GZIP_BOMB, "gzip")}
        if self.path not in bodies:
            self._stream_answer()
            return
        body, encoding = bodies[self.path]
        self.send_response(200)
        self.send_header("Content-Type", "application/json" if self.path.startswith("/api") else "text/csv")
        if encoding:
            self.send_header("Content-Encoding", encoding)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self._write(body)

    def _stream_answer(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()  # no length: the answer ends when the connection closes
        row = b'{"id": "P1", "title": "' + b"x" * 1000 + b'"},'
        piece = row * (MIB // len(row))
        self._write(b'{"data": {"items": [')
        for _ in range(ANSWER_MB):
            if not self._write(piece):
                return
        self._write(b"{}]}}")

    def _write(self, data: bytes) -> bool:
        try:
            self.wfile.write(data)
            return True
        except (BrokenPipeError, ConnectionResetError):
            return False  # the client refused the rest, as it should


@pytest.fixture(scope="module")
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


# ---------------------------------------------------------------- the scenarios, each in a child process

_SCENARIO = r'''
import io, json, sys, tempfile, tracemalloc
from pathlib import Path

def hwm_kb():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))

class Endless(io.RawIOBase):
    """`head`, then `size` bytes of `fill`, then `tail`: a huge file that is never on disk."""
    def __init__(self, head, fill, size, tail=b""):
        self.head, self.fill, self.left, self.tail = head, fill * (1 << 20), size, tail
    def readable(self):
        return True
    def readinto(self, buffer):
        if self.head:
            data, self.head = self.head[:len(buffer)], self.head[len(buffer):]
        elif self.left > 0:
            data = self.fill[:min(len(buffer), self.left)]
            self.left -= len(data)
        else:
            data, self.tail = self.tail[:len(buffer)], self.tail[len(buffer):]
        buffer[:len(data)] = data
        return len(data)

from marketsync.assets.feeds.readers import CsvReader, JsonReader, XmlReader
from marketsync.resources.feed_transport import FeedTransport
from marketsync.resources.google_sheets import GoogleSheetsResource
from marketsync.resources.http_client import HttpClient
from marketsync.resources.http_retry import HttpCallError
from marketsync.resources.letzshop.client import LetzshopApi

name, base = sys.argv[1], sys.argv[2]
tmp = Path(tempfile.mkdtemp())
GIB = 1 << 30

def rest(path):
    with HttpClient("the shop", HttpCallError, base_url=base) as client:
        client.send("GET", path, "the products").json()

def stream(url):
    with FeedTransport(retry_attempts=1).open_stream(url) as body:
        for _chunk in body:
            pass

def sheets():
    GoogleSheetsResource(base_url=base, bearer_token="t", attempts=1).open_spreadsheet("sheet-1")

def graphql():
    with LetzshopApi(base + "/graphql", "key", read_attempts=1) as api:
        api.ping()

SCENARIOS = {
    "gzip_file": lambda: FeedTransport(retry_attempts=1).download(base + "/bomb.csv.gz", tmp / "feed"),
    "gzip_file_size_cap": lambda: FeedTransport(retry_attempts=1, max_inflate_ratio=1e9,
                                                max_download_bytes=256 << 20).download(base + "/bomb.csv.gz",
                                                                                      tmp / "feed"),
    "gzip_encoding": lambda: FeedTransport(retry_attempts=1).download(base + "/encoded.csv", tmp / "feed"),
    "deflate_encoding_stream": lambda: stream(base + "/deflate.csv"),
    "rest_answer": lambda: rest("/api/products"),
    "rest_gzip_answer": lambda: rest("/api/gzip"),
    "graphql_answer": graphql,
    "sheets_answer": sheets,
    "csv_single_line": lambda: list(CsvReader(Endless(b"id,title\n1,", b"x", GIB))),
    "ndjson_single_line": lambda: list(JsonReader(Endless(b'{"id": "', b"x", GIB), lines=True)),
    "json_deep": lambda: list(JsonReader(Endless(b"", b"[", GIB))),
    "xml_deep": lambda: list(XmlReader(Endless(b"<products>", b"<a>", GIB), record="product")),
}

def stream_capped(url):
    with FeedTransport(retry_attempts=1).open_stream(url, max_bytes=64 << 20) as body:
        for _chunk in body:
            pass

SCENARIOS["oversized_stream"] = lambda: stream_capped(base + "/feed.json")
# Everything is imported above: what follows is the scenario's own cost.
tracemalloc.start()
tracemalloc.reset_peak()
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # resets VmHWM to the current resident size
before = hwm_kb()
try:
    SCENARIOS[name]()
    outcome = {"error": None}
except Exception as exc:
    outcome = {"error": str(exc), "type": type(exc).__name__, "kind": getattr(exc, "kind", None)}
outcome["rss_growth_mb"] = (hwm_kb() - before) / 1024
outcome["python_peak_mb"] = tracemalloc.get_traced_memory()[1] / (1 << 20)
print(json.dumps(outcome))
'''


def run_scenario(name: str, base: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MARKETSYNC_FEED_")}
    done = subprocess.run([sys.executable, "-c", _SCENARIO, name, base], capture_output=True, text=True,
                          timeout=120, cwd=ROOT, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"{name}: {outcome}")  # the figures, for the record (pytest -s)
    return outcome


@pytest.mark.integration
@pytest.mark.parametrize("name, kind, words", [
    ("gzip_file", "too_large", "inflates more than 200 to 1"),
    ("gzip_file_size_cap", "too_large", "the feed is larger than the 256 MB limit (max_download_bytes)"),
    ("gzip_encoding", "too_large", "inflates more than 200 to 1"),
    ("deflate_encoding_stream", "too_large", "inflates more than 200 to 1"),
    ("oversized_stream", "too_large", "the feed is larger than the 64 MB limit (max_download_mb of this feed)"),
])
def test_a_feed_bomb_or_oversized_feed_is_refused_with_flat_memory(server, name, kind, words):
    outcome = run_scenario(name, server)
    assert outcome["kind"] == kind and words in outcome["error"], outcome
    assert outcome["rss_growth_mb"] < FLAT_MB and outcome["python_peak_mb"] < FLAT_MB, outcome


@pytest.mark.integration
@pytest.mark.parametrize("name, words", [
    ("rest_answer", "the shop's answer to the products: the answer passed the 50.0 MiB cap"),
    ("rest_gzip_answer", "inflates more than 200 to 1"),
    ("graphql_answer", "Letzshop's answer: the answer passed the 50.0 MiB cap"),
    ("sheets_answer", "the Google Sheets answer on spreadsheets.get was refused: it passed the 50.0 MiB cap"),
])
def test_an_oversized_api_answer_is_refused_while_it_streams(server, name, words):
    """Every client family is capped at max_answer_mib (50 MiB decoded): what it holds when it refuses a
    200 MB answer is at most that, whatever the answer's size (a gzip bomb is refused sooner, at 16 MiB)."""
    outcome = run_scenario(name, server)
    assert outcome["kind"] == "too_large" and words in outcome["error"], outcome
    assert outcome["rss_growth_mb"] < 50 + 16 and outcome["python_peak_mb"] < 50 + 16, outcome


@pytest.mark.integration
@pytest.mark.parametrize("name, words", [
    ("csv_single_line", "line 2 of the CSV feed is longer than 8 MB (MARKETSYNC_FEED_MAX_RECORD_MB)"),
    ("ndjson_single_line", "line 1 of the NDJSON feed is longer than 8 MB"),
    ("json_deep", "the JSON feed nests deeper than 64 levels (MARKETSYNC_FEED_MAX_DEPTH) before the first record"),
    ("xml_deep", "the XML feed nests elements deeper than 256 levels"),
])
def test_a_gigabyte_line_or_deep_nesting_fails_the_read_with_flat_memory(server, name, words):
    outcome = run_scenario(name, server)
    assert words in outcome["error"], outcome
    assert outcome["rss_growth_mb"] < FLAT_MB and outcome["python_peak_mb"] < FLAT_MB, outcome


# ---------------------------------------------------------------- the bounds, piece by piece

def test_the_ratio_cap_spares_real_data_and_stops_a_bomb_early():
    data = b"".join(f"SKU-{i},{4000000000000 + i},Product {i},{i % 100}.99\n".encode() for i in range(400_000))
    inflater = Inflater()
    assert b"".join(inflater.feed(gzip.compress(data))) + inflater.finish() == data
    inflater, produced = Inflater(), 0
    with pytest.raises(InflateRatioExceeded) as refused:
        for piece in inflater.feed(_MEMBER):
            assert len(piece) <= MIB
            produced += len(piece)
    assert 16 * MIB <= produced <= 17 * MIB and "inflates more than 200 to 1" in str(refused.value)


def test_a_feed_may_set_its_own_download_cap(tmp_path):
    assert validate_settings({"max_download_mb": 4096})["max_download_mb"] == 4096
    for wrong in (0, -1, "big", True, 2 ** 40):
        with pytest.raises(MarketsyncError, match="max_download_mb must be a number of megabytes"):
            validate_settings({"max_download_mb": wrong})
    feed = tmp_path / "feed.csv"
    feed.write_bytes(b"id,title\n" + b"1,x\n" * 400_000)
    with pytest.raises(FeedTransportError) as refused:
        FeedTransport().download(str(feed), tmp_path / "out.csv", max_bytes=MIB)
    assert str(refused.value) == (
        f"could not download {feed}: the feed is larger than the 1 MB limit (max_download_mb of this feed); raise "
        "it for this feed with its max_download_mb setting, or for every feed with MARKETSYNC_FEED_MAX_DOWNLOAD_MB")
    assert not list(tmp_path.glob("out*")) and not list(tmp_path.glob(".out*"))


def test_the_default_download_cap_comes_from_the_environment(monkeypatch):
    assert FeedTransport().size_limit().bytes == 2048 * MIB
    monkeypatch.setenv("MARKETSYNC_FEED_MAX_DOWNLOAD_MB", "3072")
    assert FeedTransport().size_limit().bytes == 3072 * MIB
    assert FeedTransport(max_download_bytes=10).size_limit().bytes == 10
    assert FeedTransport().size_limit(5).bytes == 5


def test_an_over_long_csv_field_quarantines_its_row_and_the_next_rows_load():
    bad: list = []
    text = "id,title\nA1,ok\nA2," + "x" * (2 * MIB) + "\nA3,fine\n"
    reader = CsvReader(io.BytesIO(text.encode()), on_bad=lambda *a: bad.append(a), limits=ReadLimits(field_bytes=MIB))
    assert [row[0] for _l, _r, row in reader] == ["A1", "A3"]
    assert [(line, reason) for line, _raw, reason in bad] == [
        (3, "a field is longer than 1 MB (MARKETSYNC_FEED_MAX_FIELD_MB)")]


def test_a_csv_record_over_its_bound_across_lines_fails_the_read():
    text = 'id,title\nA1,"' + "x\n" * (600 * 1024) + '"\n'
    reader = CsvReader(io.BytesIO(text.encode()), limits=ReadLimits(field_bytes=8 * MIB, record_bytes=MIB))
    with pytest.raises(FeedBoundExceeded, match="the CSV record starting on line 2 is longer than 1 MB"):
        list(reader)


def test_the_json_depth_scan_sees_through_strings_and_escapes_at_any_block_boundary():
    records = [{"a": "[[[[\\\"{{{", "b": [[1, [2]], {"c": "\\\\"}], "d": "]]]}}}"} for _ in range(50)]
    document = json.dumps({"items": records}).encode()  # 6 levels: {items: [{b: [[.., [2]]]}]}
    for block in (1, 2, 3, 7, 64):
        bound = JsonDepthBound(io.BytesIO(document), 1 << 30, 6)
        while bound.read(block):
            pass
        assert bound._depth == 0 and not bound._in_string
        with pytest.raises(FeedBoundExceeded, match="nests deeper than 5 levels"):
            bound = JsonDepthBound(io.BytesIO(document), 1 << 30, 5)
            while bound.read(block):
                pass
    rng = random.Random(20)
    for _ in range(200):
        depth = rng.randint(1, 12)
        value = rng.choice(['"x[{\\"]"', "1", '"\\\\"'])
        for _level in range(depth):
            value = rng.choice([f"[{value}]", f'{{"k[": {value}}}'])
        data = value.encode()
        bound = JsonDepthBound(io.BytesIO(data), 1 << 30, depth)
        while bound.read(rng.randint(1, 5)):
            pass
        with pytest.raises(FeedBoundExceeded):
            bound = JsonDepthBound(io.BytesIO(data), 1 << 30, depth - 1)
            while bound.read(rng.randint(1, 5)):
                pass


def test_xml_and_json_refuse_more_than_a_record_bound_between_records():
    document = b"<products><product><id>1</id></product><junk>" + b"<j/>" * (MIB // 2) + b"</junk></products>"
    with pytest.raises(FeedBoundExceeded, match="more than 1 MB of the XML feed lie after record 1"):
        list(XmlReader(io.BytesIO(document), record="product", limits=ReadLimits(record_bytes=MIB)))
    document = b'[{"id": "1"}, {"id": "' + b"x" * (2 * MIB) + b'"}]'
    with pytest.raises(FeedBoundExceeded, match="more than 1 MB of the JSON feed lie after record 1"):
        list(JsonReader(io.BytesIO(document), limits=ReadLimits(record_bytes=MIB)))
    with pytest.raises(XmlRefused, match="deeper than 256 levels"):
        list(XmlReader(io.BytesIO(b"<p>" + b"<a>" * 300 + b"</a>" * 300 + b"</p>"), record="product"))


# ---------------------------------------------------------------- a refusal loses nothing already loaded

STORE = "boundshop"
MAPPING = {"external_id": "id", "title": {"en": "title"}, "price": "price", "defaults": {"currency": "EUR"}}


def _products(warehouse, source_id: int) -> int:
    with warehouse.begin() as conn:
        return conn.execute(text("SELECT count(*) FROM core.marketplace_products WHERE source_id = :s"),
                            {"s": source_id}).scalar()


@pytest.mark.integration
def test_a_refused_feed_fails_its_run_and_keeps_the_previous_import(warehouse, vault, server, tmp_path):
    with warehouse.begin() as conn:
        upsert_account(conn, STORE, "letzshop")
        source = add_source(conn, STORE, "bombed", "pull_feed", "csv", f"{server}/bomb.csv.gz", MAPPING,
                            settings={"max_download_mb": 512})
    good = tmp_path / "good.csv"
    good.write_text("id,title,price\n" + "".join(f"P{i},Product {i},{i}.50\n" for i in range(1, 101)))
    assert load_feed(warehouse.engine, source, good).status == "completed"
    assert _products(warehouse, source["source_id"]) == 100

    # A bomb in place of the feed: the download is refused, the run fails, the catalog is as it was.
    with pytest.raises(FeedTransportError, match="inflates more than 200 to 1") as refused:
        import_pull_feed(warehouse, vault, FeedTransport(retry_attempts=1), STORE, "bombed")
    assert refused.value.kind == "too_large"
    # A gigabyte line (here 9 MB, past the 8 MB bound) after good rows: the read fails, nothing of it loads.
    broken = tmp_path / "broken.csv"
    with open(broken, "wb") as out:
        out.write(b"id,title,price\nP1,Changed,1.00\nP2," + b"x" * (9 * MIB) + b"\n")
    with pytest.raises(FeedBoundExceeded, match="line 3 of the CSV feed is longer than 8 MB"):
        load_feed(warehouse.engine, source, broken)
    assert _products(warehouse, source["source_id"]) == 100
    with warehouse.begin() as conn:
        runs = conn.execute(text("SELECT status, error FROM ops.import_runs WHERE source_id = :s "
                                 "ORDER BY import_run_id"), {"s": source["source_id"]}).all()
        title = conn.execute(text("SELECT t.title FROM core.marketplace_products m JOIN "
                                  "core.marketplace_product_translations t USING (marketplace_product_id) "
                                  "WHERE m.source_id = :s AND m.external_id = 'P1'"),
                             {"s": source["source_id"]}).scalar()
    assert [r.status for r in runs] == ["completed", "failed", "failed"]
    assert "inflates more than 200 to 1" in runs[1].error and "longer than 8 MB" in runs[2].error
    assert title == "Product 1"



def test_deflate_is_read_with_or_without_its_zlib_header():
    data = b"id,title\n" + b"1,x\n" * 10_000
    raw = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    for body in (zlib.compress(data), raw.compress(data) + raw.flush()):
        inflater = content_inflater("deflate")
        assert b"".join(inflater.feed(body)) + inflater.finish() == data
    with pytest.raises(zlib.error):
        list(content_inflater("deflate").feed(b"not deflate at all"))


def test_a_download_cap_that_is_no_number_is_a_worded_error(monkeypatch):
    monkeypatch.setenv("MARKETSYNC_FEED_MAX_DOWNLOAD_MB", "lots")
    with pytest.raises(MarketsyncError, match="MARKETSYNC_FEED_MAX_DOWNLOAD_MB must be a positive number"):
        FeedTransport().size_limit()
