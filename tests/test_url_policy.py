"""The outbound URL policy (resources/url_policy.py): every scheme and address class it refuses, IPv4 and
IPv6; host names that resolve to internal addresses (a stubbed resolver: the tests never connect to any
address outside loopback); DNS rebinding; a redirect to an internal address; what the deployment setting
allows; and the same rules where users configure URLs (feeds, accounts, deliveries, SMTP, FTP)."""
from __future__ import annotations

import http.server
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from marketsync.resources import url_policy
from marketsync.resources.errors import MarketsyncError
from marketsync.resources.feed_transport import FeedTransport, FeedTransportError
from marketsync.resources.http_client import client_options
from marketsync.resources.smtp import SmtpError, smtp_session
from marketsync.resources.stock_delivery import DeliveryError, DeliveryTarget, deliver_file
from marketsync.resources.url_policy import (
    SETTING,
    UrlRefused,
    address_rule,
    check_local_path,
    check_url,
    connect_checked,
)

REFUSED = [  # (address, rule)
    ("127.0.0.1", "loopback"), ("127.255.0.9", "loopback"), ("::1", "loopback"),
    ("10.1.2.3", "private"), ("172.16.0.1", "private"), ("192.168.1.1", "private"),
    ("fc00::1", "private"), ("fd12:3456::1", "private"),
    ("169.254.1.1", "link-local"), ("fe80::1", "link-local"),
    ("169.254.169.254", "cloud metadata"), ("fd00:ec2::254", "cloud metadata"),
    ("100.64.0.1", "shared (carrier-grade NAT)"), ("100.127.255.254", "shared (carrier-grade NAT)"),
    ("224.0.0.1", "multicast"), ("ff02::1", "multicast"),
    ("0.0.0.0", "unspecified"), ("::", "unspecified"),
    ("240.0.0.1", "reserved"), ("192.0.2.10", "private"),
    # IPv4 inside IPv6 is judged as the IPv4 address it carries.
    ("::ffff:127.0.0.1", "loopback"), ("::ffff:169.254.169.254", "cloud metadata"),
    ("2002:a00:1::1", "private"),  # 6to4 of 10.0.0.1
]
PUBLIC = ["93.184.215.14", "2606:4700:4700::1111", "8.8.8.8", "::ffff:8.8.8.8"]


@pytest.fixture
def strict(monkeypatch):
    """The default policy: nothing private allowed, no local folder (the suite's conftest allows loopback)."""
    monkeypatch.delenv(SETTING, raising=False)
    monkeypatch.delenv(url_policy.LOCAL_DIRS_SETTING, raising=False)


@pytest.fixture
def resolver() -> Iterator[dict[str, list[str]]]:
    """A stubbed resolver: name -> addresses; a name not in it does not resolve. Nothing is looked up."""
    names: dict[str, list[str]] = {}

    def resolve(host: str, port: int) -> list[str]:
        if host not in names:
            raise socket.gaierror(socket.EAI_NONAME, "not known")
        return names[host]

    url_policy.use_resolver(resolve)
    yield names
    url_policy.use_resolver(None)


def _url(address: str) -> str:
    return f"http://[{address}]:8080/feed.csv" if ":" in address else f"http://{address}:8080/feed.csv"


# ------------------------------------------------------------------------------------ rules
@pytest.mark.unit
@pytest.mark.parametrize("address,rule", REFUSED, ids=[a for a, _ in REFUSED])
def test_each_internal_address_class_is_refused(strict, address, rule):
    import ipaddress

    assert address_rule(ipaddress.ip_address(address)) == rule
    with pytest.raises(UrlRefused) as refused:
        check_url(_url(address), what="the feed location")
    assert refused.value.rule == rule
    message = str(refused.value)
    assert rule in message and SETTING in message and "/feed.csv" not in message


@pytest.mark.unit
@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass(strict, address):
    check_url(_url(address))  # a literal address: nothing is resolved or connected


@pytest.mark.unit
@pytest.mark.parametrize("url", ["file:///proc/self/environ", "file:///etc/passwd", "data:text/plain,hello",
                                 "gopher://127.0.0.1:5432/_", "jar:http://example.com/a.jar!/", "dict://host:11211/",
                                 "ldap://host/", "javascript:alert(1)", "/etc/passwd", "FILE:///etc/passwd",
                                 "netdoc:///etc/passwd"])
def test_every_other_scheme_is_refused(strict, url):
    with pytest.raises(UrlRefused) as refused:
        check_url(url, url_policy.FEED_SCHEMES, "the feed location")
    assert refused.value.rule == "scheme"
    assert "etc" not in str(refused.value) and "environ" not in str(refused.value)


@pytest.mark.unit
def test_a_name_is_refused_when_any_of_its_addresses_is_internal(strict, resolver):
    resolver["intranet.example"] = ["127.0.0.1"]
    resolver["mixed.example"] = ["93.184.215.14", "10.0.0.7"]  # one public, one private: refused
    resolver["shop.example"] = ["93.184.215.14", "2606:4700:4700::1111"]
    for host, rule in (("intranet.example", "loopback"), ("mixed.example", "private")):
        with pytest.raises(UrlRefused) as refused:
            check_url(f"https://{host}/export.csv")
        assert refused.value.rule == rule and host in str(refused.value)
    check_url("https://shop.example/export.csv")
    check_url("https://not-resolving.example/export.csv")  # unknown now: checked again at each connection


@pytest.mark.unit
@pytest.mark.parametrize("host", ["localhost", "2130706433", "0x7f000001", "127.1", "0177.0.0.1"])
def test_loopback_by_name_or_odd_spelling_is_refused(strict, host):
    """The system resolver reads these without asking any DNS server (the hosts file, inet_aton's forms)."""
    with pytest.raises(UrlRefused) as refused:
        check_url(f"http://{host}:5432/")
    assert refused.value.rule == "loopback"


@pytest.mark.unit
def test_the_setting_allows_networks_and_host_names(monkeypatch, resolver):
    resolver["feeds.corp.example"] = ["10.20.0.5"]
    resolver["ftp.eu.corp.example"] = ["10.30.0.5"]
    resolver["other.example"] = ["10.40.0.5"]
    monkeypatch.setenv(SETTING, "10.20.0.0/16, feeds.corp.example ,.eu.corp.example,fd00::/8")
    check_url("http://10.20.1.1/feed.csv")
    check_url("https://feeds.corp.example/feed.csv")
    check_url("ftp://ftp.eu.corp.example/feed.csv")
    check_url("http://[fd00::5]/feed.csv")
    for url in ("http://10.21.0.1/", "https://other.example/", "http://169.254.169.254/latest/meta-data/"):
        with pytest.raises(UrlRefused):
            check_url(url)
    monkeypatch.setenv(SETTING, "not a network!")
    with pytest.raises(MarketsyncError, match="neither a CIDR nor a host name"):
        check_url("http://10.20.1.1/")


@pytest.mark.unit
def test_tls_verification_cannot_be_turned_off():
    with pytest.raises(ValueError, match="cannot be turned off"):
        client_options(10.0, verify=False)


@pytest.mark.unit
def test_local_paths_only_inside_allowed_folders(strict, monkeypatch, tmp_path):
    inside = tmp_path / "drop"
    inside.mkdir()
    (inside / "feed.csv").write_text("sku\n")
    (inside / "leak.csv").symlink_to("/etc/passwd")
    for path in ("/proc/self/environ", "/etc/passwd", str(inside / "feed.csv")):
        with pytest.raises(UrlRefused) as refused:
            check_local_path(path)
        assert refused.value.rule == "local file" and url_policy.LOCAL_DIRS_SETTING in str(refused.value)
    monkeypatch.setenv(url_policy.LOCAL_DIRS_SETTING, str(inside))
    assert check_local_path(f"file://{inside}/feed.csv") == (inside / "feed.csv").resolve()
    with pytest.raises(UrlRefused):
        check_local_path(str(inside / "leak.csv"))  # a link out of the folder is judged by where it leads
    with pytest.raises(UrlRefused):
        check_local_path(f"{inside}/../../../../etc/passwd")


# ------------------------------------------------------------------------------------ connecting
class _Handler(http.server.BaseHTTPRequestHandler):
    redirect_to = ""

    def do_GET(self):
        if self.path.startswith("/redirect"):
            self.send_response(302)
            self.send_header("Location", self.redirect_to)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = b"sku,qty\nA,1\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@contextmanager
def _server(redirect_to: str = "") -> Iterator[int]:
    handler = type("Handler", (_Handler,), {"redirect_to": redirect_to})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.integration
def test_loopback_is_refused_at_connect_unless_allowed(strict, monkeypatch, tmp_path):
    with _server() as port:
        with httpx.Client(**client_options(5.0)) as client, pytest.raises(UrlRefused) as refused:
            client.get(f"http://127.0.0.1:{port}/feed.csv")
        assert refused.value.rule == "loopback"
        with pytest.raises(FeedTransportError) as failed:
            FeedTransport().download(f"http://127.0.0.1:{port}/feed.csv", tmp_path / "a.csv")
        assert failed.value.kind == "rejected" and SETTING in str(failed.value)
        monkeypatch.setenv(SETTING, "127.0.0.1/32")
        with httpx.Client(**client_options(5.0)) as client:
            assert client.get(f"http://127.0.0.1:{port}/feed.csv").text == "sku,qty\nA,1\n"


@pytest.mark.integration
def test_a_redirect_to_an_internal_address_is_refused(monkeypatch, tmp_path):
    """The first server is allowed (127.0.0.1 only); it redirects to the metadata service and to another
    loopback address: each redirect is a new connection, checked before it is made."""
    monkeypatch.setenv(SETTING, "127.0.0.1/32")
    for target, rule in (("http://169.254.169.254/latest/meta-data/iam/", "cloud metadata"),
                         ("http://127.0.0.2:9/", "loopback"), ("http://[::1]:9/", "loopback")):
        with _server(redirect_to=target) as port:
            with pytest.raises(FeedTransportError) as failed:
                FeedTransport().download(f"http://127.0.0.1:{port}/redirect", tmp_path / "a.csv")
            assert failed.value.kind == "rejected" and rule in str(failed.value)
            assert not (tmp_path / "a.csv").exists()


@pytest.mark.integration
def test_dns_rebinding_cannot_pass(monkeypatch, resolver, tmp_path):
    """A name that resolved to a public address when it was configured and to loopback when the request is
    made is refused at the connection; and the connection goes to the address that was checked: the stub
    says where `pinned.example` is, and the request arrives there without the system resolver."""
    answers = iter([["93.184.215.14"], ["127.0.0.1"]])
    monkeypatch.delenv(SETTING)

    def rebinding(host, port):
        return next(answers)

    url_policy.use_resolver(rebinding)
    check_url("http://rebind.example/feed.csv")  # configured: public
    with pytest.raises(FeedTransportError) as failed:  # fetched: loopback now
        FeedTransport(retry_attempts=1).download("http://rebind.example/feed.csv", tmp_path / "a.csv")
    assert "loopback" in str(failed.value)

    monkeypatch.setenv(SETTING, "127.0.0.1/32")
    url_policy.use_resolver(lambda host, port: ["127.0.0.1"])
    with _server() as port:
        result = FeedTransport().download(f"http://pinned.example:{port}/feed.csv", tmp_path / "b.csv")
    assert result.path.read_text() == "sku,qty\nA,1\n"


@pytest.mark.integration
def test_ftp_smtp_and_sftp_connect_through_the_policy(strict, resolver, tmp_path):
    resolver["files.internal.example"] = ["10.9.8.7"]
    with pytest.raises(UrlRefused) as refused:
        connect_checked("files.internal.example", 21, 2.0)
    assert refused.value.rule == "private"
    with pytest.raises(FeedTransportError) as failed:
        FeedTransport().download("ftps://files.internal.example/feed.csv", tmp_path / "a.csv")
    assert "private" in str(failed.value)
    with pytest.raises(SmtpError) as smtp, smtp_session("smtp://169.254.169.254:25"):
        pass
    assert smtp.value.kind == "config" and "cloud metadata" in str(smtp.value)
    for location in ("sftp://files.internal.example/drop/", "ftps://[::1]/drop/", "https://10.0.0.1/put/"):
        with pytest.raises(DeliveryError) as delivery:
            deliver_file(DeliveryTarget(location, "u", "p", host_key="ssh-ed25519 AAAA"), "stock.csv", b"a\n",
                         idempotency_key="k1")
        assert SETTING in str(delivery.value)
    with pytest.raises(DeliveryError, match=url_policy.LOCAL_DIRS_SETTING):
        deliver_file(DeliveryTarget("/etc/"), "passwd", b"x\n", idempotency_key="k2")


@pytest.mark.integration
def test_plain_ftp_login_only_where_the_feed_says_so(tmp_path):
    from marketsync.sandbox.feeds.ftp_server import serve_ftp

    (tmp_path / "feed.csv").write_text("sku\nA\n")
    with serve_ftp(tmp_path, "feeds", "s3cret-ftp", tls=False) as ftp:
        with pytest.raises(FeedTransportError) as failed:
            FeedTransport().download(ftp.url("feed.csv"), tmp_path / "a.csv")
        assert failed.value.kind == "rejected" and "plain_ftp_login" in str(failed.value)
        assert "s3cret-ftp" not in str(failed.value)
        result = FeedTransport().download(ftp.url("feed.csv"), tmp_path / "b.csv", plain_ftp_login=True)
    assert result.path.read_text() == "sku\nA\n"


@pytest.mark.unit
def test_the_suite_allows_loopback_explicitly():
    """The tests run against simulators on loopback: conftest allows exactly the loopback networks."""
    assert os.environ[SETTING] == "127.0.0.0/8,::1/128"
