"""Supplier feeds onto disk: real HTTP, FTP and FTPS servers on loopback, faults included, and the
proof that a feed password never surfaces in errors, logs or results."""
from __future__ import annotations

import base64
import csv
import functools
import gzip
import hashlib
import logging
import socket
import threading
import time
import traceback
import xml.sax
import xml.sax.handler
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from marketsync.resources.errors import MarketsyncError
from marketsync.resources.feed_transport import FeedTransport, FeedTransportError, redact, split_credentials
from marketsync.sandbox.feeds.ftp_server import serve_ftp
from marketsync.sandbox.feeds.hostile import (
    FORMULA_CELLS,
    serve_canary,
    write_billion_laughs,
    write_formula_injection_csv,
    write_oversized_line_csv,
    write_xxe_file,
    write_xxe_http,
)
from marketsync.sandbox.feeds.http_server import create_app
from marketsync.sandbox.http import serve_in_thread

USER = "feeds"
PASSWORD = "p@ss:w/rd%+"  # every character percent-encoding changes
WRONG = "wr0ng@p:ss/%+x"  # a mistyped password is a secret too
ENCODED = quote(PASSWORD, safe="")


def fast(**overrides) -> FeedTransport:
    """Quick retries and short timeouts: the faults are simulated, the waits need not be real."""
    settings = {"retry_wait_seconds": 0.01, "max_retry_wait_seconds": 2.0, "connect_timeout_seconds": 2.0,
                "read_timeout_seconds": 5.0, "retry_attempts": 4}
    settings.update(overrides)
    return FeedTransport(**settings)


@pytest.fixture
def feed_dir(tmp_path: Path) -> Path:
    root = tmp_path / "srv"
    (root / "exports" / "daily").mkdir(parents=True)
    rows = "".join(f"SKU-{i},{4000000000000 + i},Product {i},{i % 100}.99\n" for i in range(20_000))
    (root / "feed.csv").write_text("sku,gtin,title,price\n" + rows)
    (root / "exports" / "daily" / "stock file.csv").write_text("sku,qty\nA,1\nB,2\n")
    (root / "feed.csv.gz").write_bytes(gzip.compress((root / "feed.csv").read_bytes()))
    return root


@pytest.fixture
def http_feeds(feed_dir: Path):
    app = create_app(feed_dir, auth=(USER, PASSWORD))
    with serve_in_thread(app) as server:
        yield server, app.state.feeds


def _url(server, path: str, password: str | None = PASSWORD) -> str:
    userinfo = f"{USER}:{quote(password, safe='')}@" if password is not None else ""
    return f"http://{userinfo}127.0.0.1:{server.port}/{path}"


def _closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


class _Silent:
    """A listener that completes TCP handshakes and then says nothing: a hung server."""

    def __enter__(self) -> int:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        return self.sock.getsockname()[1]

    def __exit__(self, *exc) -> None:
        self.sock.close()


# ------------------------------------------------------------------------------------ URLs
def test_redact_and_split_credentials():
    url = f"ftp://{USER}:{ENCODED}@127.0.0.1:2121/exports/feed.csv"
    assert redact(url) == "ftp://feeds:***@127.0.0.1:2121/exports/feed.csv"
    assert split_credentials(url) == ("ftp://127.0.0.1:2121/exports/feed.csv",
                                      {"username": "feeds", "password": PASSWORD})
    # Pasted without percent-encoding: still split at the right '@', still hidden.
    raw = f"ftp://{USER}:{PASSWORD}@host.example/feed.csv"
    assert redact(raw) == "ftp://feeds:***@host.example/feed.csv"
    assert split_credentials(raw)[1] == {"username": USER, "password": PASSWORD}
    # RFC 1738: '+' is a plus, not a space.
    assert split_credentials("ftp://u:a+b%20c@h/f")[1] == {"username": "u", "password": "a+b c"}
    assert redact("https://h/x?page=2&api_key=s3cr3t") == "https://h/x?page=2&api_key=***"
    assert redact("https://TOKEN123@h/x") == "https://***@h/x"
    assert redact("https://h/path/a@b.csv") == "https://h/path/a@b.csv"
    assert redact("/srv/drop/feed.csv") == "/srv/drop/feed.csv"
    assert "s3" not in redact("ftp://u:s3#cret@h/f")  # unreadable: hidden whole
    assert split_credentials("https://h/x") == ("https://h/x", None)


# ------------------------------------------------------------------------------------ HTTP
def test_http_download_with_basic_auth_in_url_or_credentials(http_feeds, feed_dir, tmp_path):
    server, state = http_feeds
    result = fast().download(_url(server, "files/feed.csv"), tmp_path / "a.csv")
    assert result.path.read_bytes() == (feed_dir / "feed.csv").read_bytes()
    assert result.bytes == (feed_dir / "feed.csv").stat().st_size and result.content_type.startswith("text/csv")
    # Credentials passed separately win over the (wrong) ones in the URL.
    fast().download(_url(server, "files/exports/daily/stock%20file.csv", WRONG), tmp_path / "b.csv",
                    credentials={"username": USER, "password": PASSWORD})
    assert (tmp_path / "b.csv").read_text() == "sku,qty\nA,1\nB,2\n"
    assert [r.status for r in state.requests] == [200, 200]


@pytest.mark.integration
def test_http_bearer_token(feed_dir, tmp_path):
    app = create_app(feed_dir, token="tok-123")
    with serve_in_thread(app) as server:
        url = f"http://127.0.0.1:{server.port}/files/feed.csv"
        fast().download(url, tmp_path / "a.csv", credentials={"token": "tok-123"})
        with pytest.raises(FeedTransportError) as err:
            fast().download(url, tmp_path / "b.csv", credentials={"token": "nope"})
    assert err.value.kind == "auth" and "HTTP 401" in str(err.value)


def test_http_retries_through_500s_and_honours_retry_after(http_feeds, feed_dir, tmp_path):
    server, state = http_feeds
    state.faults.fail(2, status=503)
    result = fast().download(_url(server, "files/feed.csv"), tmp_path / "a.csv")
    assert result.attempts == 3 and [r.status for r in state.requests] == [503, 503, 200]

    state.faults.rate_limit(1, retry_after=1)
    started = time.monotonic()
    result = fast().download(_url(server, "files/feed.csv"), tmp_path / "b.csv")
    assert time.monotonic() - started >= 0.95, "Retry-After: 1 must be waited out"
    assert result.attempts == 2 and (tmp_path / "b.csv").read_bytes() == (feed_dir / "feed.csv").read_bytes()

    state.faults.fail(10)
    with pytest.raises(FeedTransportError) as err:
        fast(retry_attempts=3).download(_url(server, "files/feed.csv"), tmp_path / "c.csv")
    assert str(err.value) == (f"could not download http://feeds:***@127.0.0.1:{server.port}/files/feed.csv: "
                              "server error (HTTP 500) (gave up after 3 attempts)")
    assert not (tmp_path / "c.csv").exists() and not list(tmp_path.glob(".*.part"))


def test_http_404_and_401_are_one_sentence_and_not_retried(http_feeds, tmp_path):
    server, state = http_feeds
    with pytest.raises(MarketsyncError) as err:
        fast().download(_url(server, "files/missing.csv"), tmp_path / "a.csv")
    assert str(err.value) == (f"could not download http://feeds:***@127.0.0.1:{server.port}/files/missing.csv: "
                              "the server has no such file (HTTP 404)")
    with pytest.raises(FeedTransportError) as err:
        fast().download(_url(server, "files/feed.csv", WRONG), tmp_path / "a.csv")
    assert err.value.kind == "auth" and err.value.status == 401
    assert [r.status for r in state.requests] == [404, 401]


@pytest.mark.integration
def test_http_gzip_encoding_and_gz_files(feed_dir, tmp_path):
    plain = (feed_dir / "feed.csv").read_bytes()
    app = create_app(feed_dir, compress=True)
    with serve_in_thread(app) as server:
        base = f"http://127.0.0.1:{server.port}/files"
        with httpx.stream("GET", f"{base}/feed.csv", headers={"Accept-Encoding": "gzip"}) as response:
            assert response.headers["content-encoding"] == "gzip"
        # Content-Encoding: decoded on the fly.
        assert fast().download(f"{base}/feed.csv", tmp_path / "a.csv").path.read_bytes() == plain
        # A .gz file: inflated unless the destination keeps the .gz name.
        result = fast().download(f"{base}/feed.csv.gz", tmp_path / "b.csv")
        assert result.path.read_bytes() == plain and result.content_type == "text/csv"
        kept = fast().download(f"{base}/feed.csv.gz", tmp_path / "c.csv.gz")
        assert kept.path.read_bytes() == (feed_dir / "feed.csv.gz").read_bytes()


def test_http_truncated_body_resumes_with_range(http_feeds, feed_dir, tmp_path):
    server, state = http_feeds
    state.faults.truncate(1, fraction=0.4)
    result = fast().download(_url(server, "files/feed.csv"), tmp_path / "a.csv")
    assert result.path.read_bytes() == (feed_dir / "feed.csv").read_bytes()
    first, second = state.requests
    assert first.status == 200 and second.status == 206 and second.range.startswith("bytes=")


def test_http_stream_retries_its_opening_and_fails_once_the_body_breaks(http_feeds, feed_dir):
    """`open_stream` (the Letzshop product feed reads through it): opening is retried like a download;
    once the body flows a broken connection is an error at once, scrubbed, not a retry."""
    server, state = http_feeds
    state.faults.fail(2, status=503)
    with fast().open_stream(_url(server, "files/feed.csv")) as stream:
        assert b"".join(stream) == (feed_dir / "feed.csv").read_bytes()
    assert [r.status for r in state.requests] == [503, 503, 200]
    state.faults.truncate(1, fraction=0.4)
    with fast().open_stream(_url(server, "files/feed.csv")) as stream:
        with pytest.raises(FeedTransportError) as err:
            for _chunk in stream:
                pass
    assert err.value.kind == "broken" and err.value.transient and PASSWORD not in str(err.value)
    assert str(err.value).startswith(f"could not download http://feeds:***@127.0.0.1:{server.port}/files/feed.csv: "
                                     "the connection broke after ")
    assert len(state.requests) == 4  # not asked again
    with pytest.raises(FeedTransportError) as err:
        fast().open_stream(_url(server, "files/feed.csv", WRONG))
    assert err.value.kind == "auth" and WRONG not in str(err.value)
    with pytest.raises(FeedTransportError) as err:
        fast().open_stream(str(feed_dir / "feed.csv"))
    assert err.value.kind == "rejected"


def test_http_size_limit_and_timeout(http_feeds, tmp_path):
    server, state = http_feeds
    tmp_path = tmp_path / "out"
    with pytest.raises(FeedTransportError) as err:
        fast(max_download_bytes=10_000).download(_url(server, "files/feed.csv"), tmp_path / "a.csv")
    assert err.value.kind == "too_large" and "10,000 byte limit" in str(err.value)
    # A gzip body is limited by what it inflates to (a decompression bomb stops at the limit).
    with pytest.raises(FeedTransportError) as err:
        fast(max_download_bytes=10_000).download(_url(server, "files/feed.csv.gz"), tmp_path / "a.csv")
    assert err.value.kind == "too_large"
    state.faults.slow(3.0)
    started = time.monotonic()
    with pytest.raises(FeedTransportError) as err:
        fast(read_timeout_seconds=0.3, retry_attempts=1).download(_url(server, "files/feed.csv"), tmp_path / "a.csv")
    assert err.value.kind == "timeout" and "(timeout)" in str(err.value) and time.monotonic() - started < 2.5
    assert not list(tmp_path.iterdir())


@pytest.mark.integration
def test_sandbox_http_validators_ranges_and_paged_api(feed_dir):
    items = [{"id": i, "sku": f"SKU-{i}"} for i in range(25)]
    (feed_dir / "products.json").write_text(__import__("json").dumps(items))
    with serve_in_thread(create_app(feed_dir)) as server, httpx.Client(base_url=server.base_url) as client:
        first = client.get("/files/exports/daily/stock%20file.csv")
        etag = first.headers["etag"]
        assert client.get("/files/exports/daily/stock%20file.csv", headers={"If-None-Match": etag}).status_code == 304
        part = client.get("/files/exports/daily/stock%20file.csv", headers={"Range": "bytes=4-"})
        assert part.status_code == 206 and part.content == first.content[4:]
        stale = client.get("/files/exports/daily/stock%20file.csv", headers={"Range": "bytes=4-", "If-Range": '"old"'})
        assert stale.status_code == 200 and stale.content == first.content
        assert client.get("/files/../../etc/passwd").status_code == 404
        seen, url = [], "/api/products?per_page=10"
        while url:
            page = client.get(url).json()
            seen += page["data"]
            url = page["next"]
        assert seen == items


# ------------------------------------------------------------------------------------ FTP / FTPS
@pytest.mark.integration
@pytest.mark.parametrize("tls", [False, True], ids=["ftp", "ftps"])
def test_ftp_download_with_rfc1738_credentials(feed_dir, tmp_path, tls):
    with serve_ftp(feed_dir, USER, PASSWORD, tls=tls) as ftp:
        url = ftp.url("exports/daily/stock file.csv")
        assert f"{USER}:{ENCODED}@" in url and "stock%20file.csv" in url
        # Plain FTP sends the login in clear: only where the feed says so (plain_ftp_login).
        download = functools.partial(fast(ca_file=ftp.cert_file).download, plain_ftp_login=not tls)
        result = download(url, tmp_path / "stock.csv")
        assert result.path.read_text() == "sku,qty\nA,1\nB,2\n" and result.bytes == 16
        assert download(ftp.url("feed.csv.gz"), tmp_path / "feed.csv").path.read_bytes() == \
            (feed_dir / "feed.csv").read_bytes()
        # Separate credentials win over the URL's.
        download(ftp.url("feed.csv").replace(ENCODED, quote(WRONG, safe="")), tmp_path / "c.csv",
                           credentials={"username": USER, "password": PASSWORD})
        with pytest.raises(FeedTransportError) as err:
            download(ftp.url("feed.csv").replace(ENCODED, "nope"), tmp_path / "d.csv")
        assert err.value.kind == "auth" and "reply 530" in str(err.value)
        with pytest.raises(FeedTransportError) as err:
            download(ftp.url("exports/missing.csv"), tmp_path / "d.csv")
        scheme = "ftps" if tls else "ftp"
        assert str(err.value) == (f"could not download {scheme}://feeds:***@127.0.0.1:{ftp.port}/exports/missing.csv: "
                                  "the FTP server has no such file or denies access to it (RETR answered 550)")


@pytest.mark.integration
@pytest.mark.parametrize("tls", [False, True], ids=["ftp", "ftps"])
def test_ftp_short_transfer_resumes_with_rest(feed_dir, tmp_path, tls):
    with serve_ftp(feed_dir, USER, PASSWORD, tls=tls) as ftp:
        ftp.activity.truncate_next(1, fraction=0.3)
        result = fast(ca_file=ftp.cert_file).download(ftp.url("feed.csv"), tmp_path / "a.csv", plain_ftp_login=not tls)
        (first, start), (second, offset) = ftp.activity.retrievals
    assert result.path.read_bytes() == (feed_dir / "feed.csv").read_bytes() and result.attempts == 2
    assert first == second == "/feed.csv" and start == 0
    assert offset == int((feed_dir / "feed.csv").stat().st_size * 0.3)  # REST picked up where it stopped


@pytest.mark.integration
def test_ftps_rejects_an_untrusted_certificate(feed_dir, tmp_path):
    with serve_ftp(feed_dir, USER, PASSWORD, tls=True) as ftp:
        with pytest.raises(FeedTransportError) as err:
            fast().download(ftp.url("feed.csv"), tmp_path / "a.csv")  # no ca_file: system CAs only
    assert err.value.kind == "tls" and "not trusted" in str(err.value)


# ------------------------------------------------------------------------------------ local drops
def test_local_paths_and_file_urls(feed_dir, tmp_path):
    expected = (feed_dir / "feed.csv").read_bytes()
    assert fast().download(str(feed_dir / "feed.csv"), tmp_path / "a.csv").path.read_bytes() == expected
    assert fast().download((feed_dir / "feed.csv.gz").as_uri(), tmp_path / "b.csv").path.read_bytes() == expected
    with pytest.raises(FeedTransportError) as err:
        fast().download(str(feed_dir / "nope.csv"), tmp_path / "c.csv")
    assert err.value.kind == "not_found"
    with pytest.raises(FeedTransportError):
        fast(allow_local_files=False).download(str(feed_dir / "feed.csv"), tmp_path / "d.csv")


# ------------------------------------------------------------------------------------ redaction proof
def _forms(*secrets: str) -> set[str]:
    forms: set[str] = set()
    for secret in secrets:
        forms |= {secret, quote(secret, safe=""), quote(secret)}
        for plain in (secret, f"{USER}:{secret}"):
            encoded = base64.b64encode(plain.encode()).decode()
            forms |= {encoded, encoded.rstrip("=")}
    return forms


@pytest.mark.integration
def test_feed_password_never_appears_anywhere(feed_dir, tmp_path, caplog):
    # Every logger at DEBUG, httpx, httpcore and pyftpdlib included, whatever level it was given.
    caplog.set_level(logging.DEBUG)
    for name in ["httpx", "httpcore", "pyftpdlib", "resources", *logging.root.manager.loggerDict]:
        caplog.set_level(logging.DEBUG, logger=name)
    seen: list[str] = []

    def attempt(transport: FeedTransport, url: str, **kwargs) -> None:
        try:
            result = transport.download(url, tmp_path / "out" / "f.csv", **kwargs)
            seen.append(repr(result))
            seen.append(str(result.path))
        except FeedTransportError as exc:
            seen.extend([str(exc), repr(exc), exc.where, exc.reason, "".join(traceback.format_exception(exc))])
            assert exc.args[0].count("\n") == 0  # one line

    app = create_app(feed_dir, auth=(USER, PASSWORD))
    with serve_in_thread(app) as server:
        http = fast(retry_attempts=2)
        attempt(http, _url(server, "files/feed.csv"))                                   # success, URL creds
        attempt(http, _url(server, "files/feed.csv", None), credentials={"username": USER, "password": PASSWORD})
        attempt(http, _url(server, "files/feed.csv", WRONG))                            # wrong password
        attempt(http, _url(server, "files/missing.csv"))                                # 404
        app.state.feeds.faults.fail(1)
        attempt(http, _url(server, "files/feed.csv"))                                   # 500 then success
        app.state.feeds.faults.slow(2.0)
        attempt(fast(retry_attempts=1, read_timeout_seconds=0.2), _url(server, "files/feed.csv"))  # timeout
    attempt(http, f"http://{USER}:{ENCODED}@127.0.0.1:{_closed_port()}/feed.csv")        # refused
    for tls in (False, True):
        with serve_ftp(feed_dir, USER, PASSWORD, tls=tls) as ftp:
            transport = fast(ca_file=ftp.cert_file, retry_attempts=2)
            attempt(transport, ftp.url("feed.csv"))                                     # success
            attempt(transport, ftp.url("feed.csv").replace(ENCODED, quote(WRONG, safe="")))  # 530
            attempt(transport, ftp.url("missing.csv"))                                  # 550
            attempt(fast(retry_attempts=2), ftp.url("feed.csv"))                        # TLS not trusted / ok
            scheme = ftp.scheme
        attempt(transport, f"{scheme}://{USER}:{ENCODED}@127.0.0.1:{_closed_port()}/feed.csv")  # refused
        with _Silent() as port:                                                         # no banner: timeout
            attempt(fast(retry_attempts=1, read_timeout_seconds=0.3, connect_timeout_seconds=0.3),
                    f"{scheme}://{USER}:{ENCODED}@127.0.0.1:{port}/feed.csv")

    records = caplog.records
    texts = seen + [caplog.text] + [r.getMessage() for r in records] + [repr(r.args) for r in records]
    assert any("feeds:***@" in text for text in texts)
    assert sum("could not download" in text for text in seen) >= 10
    for form in _forms(PASSWORD, WRONG):
        leaks = [text for text in texts if form in text]
        assert not leaks, f"secret form {form!r} leaked: {leaks[0][:300]}"


# ------------------------------------------------------------------------------------ streaming
@pytest.mark.integration
def test_large_download_streams_with_flat_memory(tmp_path):
    psutil = pytest.importorskip("psutil")
    size = 200 * 1000 * 1000
    process = psutil.Process()
    with serve_in_thread(create_app(tmp_path)) as server:
        url = f"{server.base_url}/generated/bytes?size="
        fast().download(f"{url}1000", tmp_path / "warm.csv")  # imports, pools, caches
        baseline = peak = process.memory_info().rss
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, process.memory_info().rss)
                time.sleep(0.005)

        sampler = threading.Thread(target=sample)
        sampler.start()
        try:
            result = fast().download(f"{url}{size}", tmp_path / "big.csv")
        finally:
            done.set()
            sampler.join()
    assert result.bytes == size == (tmp_path / "big.csv").stat().st_size
    growth = (peak - baseline) / 1e6
    assert growth < 60, f"RSS grew by {growth:.0f} MB while downloading {size / 1e6:.0f} MB"
    (tmp_path / "big.csv").unlink()


# ------------------------------------------------------------------------------------ hostile payloads
@pytest.mark.integration
def test_hostile_payloads_are_live_and_the_canary_hears_careless_parsers(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("CANARY-SECRET-7731")
    xxe = write_xxe_file(tmp_path / "xxe.xml", secret)
    assert secret.resolve().as_uri() in xxe.read_text()
    laughs = write_billion_laughs(tmp_path / "laughs.xml")
    assert laughs.stat().st_size < 2000 and "&lol9;" in laughs.read_text()
    with serve_canary() as canary:
        payload = write_xxe_http(tmp_path / "xxe_http.xml", canary.base_url)
        # A careless parser (expat with external entities on) calls out: the payload is live...
        parser = xml.sax.make_parser()  # noqa: S317 - careless on purpose: proves the payload is live
        parser.setFeature(xml.sax.handler.feature_external_ges, True)
        parser.setContentHandler(xml.sax.handler.ContentHandler())
        with pytest.raises(xml.sax.SAXException):
            parser.parse(str(payload))
        assert "GET /entity HTTP/1.1" in canary.hits
        canary.hits.clear()
        # ...and the defaults of the standard library's parser do not.
        parser = xml.sax.make_parser()  # noqa: S317 - the test checks this parser's safe defaults
        parser.setContentHandler(xml.sax.handler.ContentHandler())
        parser.parse(str(payload))
        assert canary.hits == []

    with open(write_formula_injection_csv(tmp_path / "formulas.csv"), newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["title"] for r in rows[1:-1]] == list(FORMULA_CELLS) and len(rows) == len(FORMULA_CELLS) + 2

    big = write_oversized_line_csv(tmp_path / "oversized.csv", line_bytes=3 * 1024 * 1024)
    with open(big, "rb") as f:
        lengths = [len(line) for line in f]
    assert len(lengths) == 4 and max(lengths) > 3 * 1024 * 1024
    assert hashlib.sha256(big.read_bytes()).hexdigest()  # readable end to end
