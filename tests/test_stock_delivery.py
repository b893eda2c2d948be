"""Delivering a stock file: a local directory, real FTP/FTPS (pyftpdlib), SFTP (an in-process asyncssh
server) and HTTP PUT (uvicorn) servers on loopback; atomic replacement, retries, refusals, and the proof
that no secret reaches an error message."""
import asyncio
import base64
import json
import logging
import os
import socket
import threading
from pathlib import Path

import asyncssh
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from marketsync.resources.errors import MarketsyncError
from marketsync.resources.stock_delivery import Delivery, DeliveryError, DeliveryTarget, deliver_file, describe_location
from marketsync.sandbox.feeds.ftp_server import serve_ftp
from marketsync.sandbox.http import serve_in_thread

USER = "merchant"
PASSWORD = "s3cr:t/p@ss%+"  # characters percent-encoding changes
WRONG = "wr0ng-p@ss:word"
TOKEN = "tok-0123456789abcdef"
PASSPHRASE = "correct horse battery"
CSV = b"sku;qty\nSKU-1;3\nSKU-2;0\n"
KEY = "stock-2024-06-01T10:00:00Z"
FAST = {"retry_wait_seconds": 0.01}


def deliver(target: DeliveryTarget, filename: str = "stock.csv", data: bytes = CSV, **options) -> Delivery:
    return deliver_file(target, filename, data, idempotency_key=KEY, **{**FAST, **options})


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".part"))


def assert_no_secrets(text: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in text
        assert base64.b64encode(secret.encode()).decode() not in text


# --------------------------------------------------------------------------- local directory
def test_local_directory_atomic_replace(tmp_path):
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "stock.csv").write_bytes(b"old content")
    os.chmod(drop / "stock.csv", 0o640)
    result = deliver(DeliveryTarget(str(drop)))
    assert result == Delivery(f"{drop}/stock.csv", "stock.csv", len(CSV), None, None)
    assert (drop / "stock.csv").read_bytes() == CSV
    assert (drop / "stock.csv").stat().st_mode & 0o777 == 0o640  # the replaced file's mode is kept
    assert leftovers(drop) == []

    result = deliver(DeliveryTarget(f"file://{drop}/"), "new.csv", b"a;b\n")
    assert result.location == f"file://{drop}/new.csv"
    assert (drop / "new.csv").read_bytes() == b"a;b\n"
    assert (drop / "new.csv").stat().st_mode & 0o777 == 0o644
    assert sorted(p.name for p in drop.iterdir()) == ["new.csv", "stock.csv"]


def test_local_missing_directory_is_a_clear_permanent_error(tmp_path):
    with pytest.raises(DeliveryError) as caught:
        deliver(DeliveryTarget(str(tmp_path / "nowhere")))
    assert caught.value.kind == "missing_directory" and caught.value.retryable is False
    assert "does not exist" in str(caught.value) and caught.value.attempts == 1
    assert isinstance(caught.value, MarketsyncError)
    assert not (tmp_path / "nowhere").exists()  # never created behind the merchant's back


@pytest.mark.parametrize("filename", ["", "a/b.csv", "..", "../stock.csv", "a\\b.csv", "stock..csv", "st\nock.csv",
                                      " stock.csv", "x" * 201])
def test_bad_file_names_are_refused(tmp_path, filename):
    with pytest.raises(DeliveryError) as caught:
        deliver(DeliveryTarget(str(tmp_path)), filename)
    assert caught.value.retryable is False
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("location, words", [
    ("relative/dir", "absolute"),
    ("", "no delivery location"),
    ("scp://host/dir/", "scheme 'scp'"),
    ("s3://bucket/stock/", "scheme 's3'"),
    ("file://otherhost/dir/", "local paths"),
    ("ftp:///dir/", "no host"),
    ("sftp://host:notaport/dir/", "cannot be read"),
    ("https://host:99999/up/", "invalid port"),
])
def test_bad_locations_are_refused(location, words):
    with pytest.raises(DeliveryError) as caught:
        deliver(DeliveryTarget(location))
    assert words in str(caught.value) and caught.value.retryable is False


@pytest.mark.parametrize("location", [f"sftp://{USER}:{PASSWORD}@host/dir/", "https://user:s3cr3t-pw@host/up/",
                                      "ftp://s3cr3t-token@host/", "ftp://user:p@ss:w/rd@host:21/dir/"])
def test_credentials_in_the_location_are_refused_and_not_echoed(location):
    with pytest.raises(DeliveryError) as caught:
        deliver(DeliveryTarget(location))
    message = str(caught.value)
    assert "store them as the target's credentials" in message
    assert_no_secrets(message, PASSWORD, "s3cr3t-pw", "s3cr3t-token", "p@ss:w/rd", USER)


def test_idempotency_key_is_required(tmp_path):
    for key in ("", "two words", "line\nbreak"):
        with pytest.raises(DeliveryError, match="idempotency key"):
            deliver_file(DeliveryTarget(str(tmp_path)), "stock.csv", CSV, idempotency_key=key)


def test_describe_location_hides_secrets():
    assert describe_location("sftp://user:pw@host:22/dir/") == "sftp://***@host:22/dir/"
    assert describe_location("https://host/up/?token=abc&x=1") == "https://host/up/?token=***&x=1"
    assert describe_location(" /srv/drop ") == "/srv/drop"
    assert PASSWORD not in repr(DeliveryTarget("/srv", USER, PASSWORD, TOKEN, "KEY", PASSPHRASE))


# --------------------------------------------------------------------------- FTP and FTPS
def plain_ftp_target(location: str, username: str, password: str, timeout: float) -> DeliveryTarget:
    """A target on the plain-FTP test server, whose login crosses in clear: the target says so."""
    return DeliveryTarget(location, username, password, timeout=timeout, plain_ftp_login=True)


@pytest.fixture
def ftp_root(tmp_path) -> Path:
    root = tmp_path / "ftp"
    (root / "drop").mkdir(parents=True)
    return root


def test_ftp_upload_goes_through_a_temporary_name(ftp_root, caplog):
    caplog.set_level(logging.INFO, logger="pyftpdlib")
    (ftp_root / "drop" / "stock.csv").write_bytes(b"yesterday")
    with serve_ftp(ftp_root, USER, PASSWORD, writable=True) as ftp:
        target = plain_ftp_target(ftp.url("drop/", credentials=False), USER, PASSWORD, timeout=5)
        result = deliver(target)
    assert result.location == f"ftp://127.0.0.1:{ftp.port}/drop/stock.csv" and result.bytes == len(CSV)
    assert (ftp_root / "drop" / "stock.csv").read_bytes() == CSV
    assert sorted(p.name for p in (ftp_root / "drop").iterdir()) == ["stock.csv"]
    # What the server saw: STOR to a hidden temporary name, then RNFR it / RNTO the final name.
    lines = [r.getMessage().partition("] ")[2] for r in caplog.records if r.name.startswith("pyftpdlib")]
    stored = [line for line in lines if line.startswith("STOR ")]
    renames = [line for line in lines if line.startswith(("RNFR ", "RNTO "))]
    assert len(stored) == 1 and "completed=1" in stored[0] and len(renames) == 2
    temporary = stored[0].split(" ")[1]
    assert Path(temporary).name.startswith(".stock.csv.") and temporary.endswith(".part")
    assert renames[0].startswith(f"RNFR {temporary} ") and renames[-1].startswith(
        f"RNTO {ftp_root / 'drop' / 'stock.csv'} 250")
    assert lines.index(stored[0]) < lines.index(renames[0])
    assert_no_secrets(caplog.text, PASSWORD)


def test_ftp_wrong_password_is_permanent_and_secret(ftp_root):
    with serve_ftp(ftp_root, USER, PASSWORD, writable=True) as ftp:
        with pytest.raises(DeliveryError) as caught:
            deliver(plain_ftp_target(ftp.url("drop/", credentials=False), USER, WRONG, timeout=5))
    error = caught.value
    assert error.kind == "auth" and error.retryable is False and error.attempts == 1
    assert "refused the login" in str(error)
    assert_no_secrets(str(error), WRONG, PASSWORD)
    assert error.__cause__ is None and error.__suppress_context__  # ftplib's exception is not attached
    assert list((ftp_root / "drop").iterdir()) == []


def test_ftp_missing_directory_and_read_only_user(ftp_root):
    with serve_ftp(ftp_root, USER, PASSWORD, writable=True) as ftp:
        with pytest.raises(DeliveryError) as caught:
            deliver(plain_ftp_target(ftp.url("missing/", credentials=False), USER, PASSWORD, timeout=5))
    assert caught.value.kind == "missing_directory" and not caught.value.retryable
    with serve_ftp(ftp_root, USER, PASSWORD, writable=False) as ftp:
        with pytest.raises(DeliveryError) as caught:
            deliver(plain_ftp_target(ftp.url("drop/", credentials=False), USER, PASSWORD, timeout=5))
    assert caught.value.kind == "denied" and not caught.value.retryable
    assert list((ftp_root / "drop").iterdir()) == []


def test_ftps_upload_verifies_the_certificate(ftp_root, monkeypatch):
    with serve_ftp(ftp_root, USER, PASSWORD, tls=True, writable=True) as ftp:
        target = plain_ftp_target(ftp.url("drop", credentials=False), USER, PASSWORD, timeout=5)
        with pytest.raises(DeliveryError) as caught:  # the sandbox CA is not trusted yet
            deliver(target)
        assert caught.value.kind == "tls" and not caught.value.retryable
        monkeypatch.setenv("SSL_CERT_FILE", ftp.cert_file)
        result = deliver(target)
    assert result.location.startswith("ftps://") and (ftp_root / "drop" / "stock.csv").read_bytes() == CSV
    assert leftovers(ftp_root / "drop") == []


@pytest.mark.integration
def test_unreachable_server_is_retried_then_reported(tmp_path):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(DeliveryError) as caught:
        deliver(plain_ftp_target(f"ftp://127.0.0.1:{port}/drop/", USER, PASSWORD, timeout=2), attempts=2)
    assert caught.value.kind == "unreachable" and caught.value.retryable and caught.value.attempts == 2
    assert "gave up after 2 attempts" in str(caught.value)


# --------------------------------------------------------------------------- SFTP
class _SftpServer:
    """An asyncssh SFTP server on loopback in its own thread and event loop, chrooted to `root`;
    one user, who may log in with PASSWORD or with `client_key`."""

    def __init__(self, root: Path, client_key: asyncssh.SSHKey):
        self.root = root
        self.host_key = asyncssh.generate_private_key("ssh-ed25519")
        self.host_key_line = self.host_key.export_public_key().decode().strip()
        self._client_public = client_key.export_public_key()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="test-sftp", daemon=True)
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(5)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _start(self):
        client_public = asyncssh.import_public_key(self._client_public)

        class Server(asyncssh.SSHServer):
            def begin_auth(self, username: str) -> bool:
                return True

            def password_auth_supported(self) -> bool:
                return True

            def validate_password(self, username: str, password: str) -> bool:
                return username == USER and password == PASSWORD

            def public_key_auth_supported(self) -> bool:
                return True

            def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
                return username == USER and key.public_data == client_public.public_data

        chroot = os.fsencode(self.root)
        return await asyncssh.create_server(Server, "127.0.0.1", 0, server_host_keys=[self.host_key],
                                            sftp_factory=lambda chan: asyncssh.SFTPServer(chan, chroot=chroot),
                                            allow_scp=False)

    def location(self, path: str = "/drop/") -> str:
        return f"sftp://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        async def stop():
            self._server.close()
            await self._server.wait_closed()

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()


@pytest.fixture(scope="module")
def client_key() -> asyncssh.SSHKey:
    return asyncssh.generate_private_key("ssh-ed25519")


@pytest.fixture(scope="module")
def sftp(tmp_path_factory, client_key):
    server = _SftpServer(tmp_path_factory.mktemp("sftp"), client_key)
    yield server
    server.close()


@pytest.fixture
def sftp_drop(sftp) -> Path:
    drop = sftp.root / "drop"
    drop.mkdir(exist_ok=True)
    for path in drop.iterdir():
        path.unlink()
    return drop


def test_sftp_password_login_and_atomic_replace(sftp, sftp_drop):
    (sftp_drop / "stock.csv").write_bytes(b"yesterday")
    target = DeliveryTarget(sftp.location(), USER, PASSWORD, host_key=sftp.host_key_line, timeout=5)
    result = deliver(target)
    assert result == Delivery(f"sftp://127.0.0.1:{sftp.port}/drop/stock.csv", "stock.csv", len(CSV), None, None)
    assert (sftp_drop / "stock.csv").read_bytes() == CSV
    assert sorted(p.name for p in sftp_drop.iterdir()) == ["stock.csv"]


def test_sftp_key_login_with_passphrase_and_known_hosts_file(sftp, sftp_drop, client_key, tmp_path):
    pem = client_key.export_private_key("pkcs8-pem", PASSPHRASE).decode()
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(f"[127.0.0.1]:{sftp.port} {sftp.host_key_line}\n")
    target = DeliveryTarget(sftp.location("/drop"), USER, private_key=pem, passphrase=PASSPHRASE,
                            known_hosts=str(known_hosts), timeout=5)
    deliver(target, "inventory.csv")
    assert (sftp_drop / "inventory.csv").read_bytes() == CSV

    openssh = client_key.export_private_key("openssh").decode()  # unencrypted OpenSSH format
    deliver(DeliveryTarget(sftp.location(), USER, private_key=openssh, host_key=sftp.host_key_line, timeout=5),
            "inventory.csv", b"again\n")
    assert (sftp_drop / "inventory.csv").read_bytes() == b"again\n"
    assert leftovers(sftp_drop) == []


def test_sftp_wrong_passphrase_is_refused_without_secrets(sftp, client_key):
    pem = client_key.export_private_key("pkcs8-pem", PASSPHRASE).decode()
    with pytest.raises(DeliveryError) as caught:
        deliver(DeliveryTarget(sftp.location(), USER, private_key=pem, passphrase="not it",
                               host_key=sftp.host_key_line, timeout=5))
    assert "passphrase" in str(caught.value) and not caught.value.retryable
    assert_no_secrets(str(caught.value), "not it", PASSPHRASE, pem.splitlines()[1])


def test_sftp_wrong_host_key_is_refused(sftp, sftp_drop):
    impostor = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode()
    with pytest.raises(DeliveryError) as caught:
        deliver(DeliveryTarget(sftp.location(), USER, PASSWORD, host_key=impostor, timeout=5))
    assert caught.value.kind == "host_key" and caught.value.retryable is False and caught.value.attempts == 1
    assert "host key does not match" in str(caught.value)
    assert_no_secrets(str(caught.value), PASSWORD)
    assert list(sftp_drop.iterdir()) == []


def test_sftp_without_a_host_key_is_refused(sftp, sftp_drop):
    with pytest.raises(DeliveryError) as caught:
        deliver(DeliveryTarget(sftp.location(), USER, PASSWORD, timeout=5))
    assert "host key is not configured" in str(caught.value) and "ssh-keyscan" in str(caught.value)
    assert not caught.value.retryable
    with pytest.raises(DeliveryError, match="not an OpenSSH public key"):
        deliver(DeliveryTarget(sftp.location(), USER, PASSWORD, host_key="AAAA-not-a-key", timeout=5))
    assert list(sftp_drop.iterdir()) == []


def test_sftp_wrong_password_and_missing_directory(sftp, sftp_drop):
    with pytest.raises(DeliveryError) as caught:
        deliver(DeliveryTarget(sftp.location(), USER, WRONG, host_key=sftp.host_key_line, timeout=5))
    assert caught.value.kind == "auth" and not caught.value.retryable
    assert_no_secrets(str(caught.value), WRONG)
    with pytest.raises(DeliveryError) as caught:
        deliver(DeliveryTarget(sftp.location("/nowhere/"), USER, PASSWORD, host_key=sftp.host_key_line, timeout=5))
    assert caught.value.kind == "missing_directory" and not caught.value.retryable
    assert not (sftp.root / "nowhere").exists()


def test_sftp_from_inside_a_running_event_loop(sftp, sftp_drop):
    async def main():
        return deliver(DeliveryTarget(sftp.location(), USER, PASSWORD, host_key=sftp.host_key_line, timeout=5))

    assert asyncio.run(main()).bytes == len(CSV)
    assert (sftp_drop / "stock.csv").read_bytes() == CSV


# --------------------------------------------------------------------------- HTTP PUT
class _Receiver:
    """A merchant endpoint: records every request; answers with the scripted responses in turn,
    then with a JSON processing report."""

    def __init__(self):
        self.requests: list[dict] = []
        self.script: list[Response] = []
        self.delay = 0.0

        async def put(request: Request) -> Response:
            body = await request.body()
            self.requests.append({"method": request.method, "path": request.url.path,
                                  "headers": dict(request.headers), "body": body})
            # Taken on arrival: a request a timed-out test left sleeping must not eat the next test's answer.
            scripted = self.script.pop(0) if self.script else None
            if self.delay:
                await asyncio.sleep(self.delay)
            if scripted is not None:
                return scripted
            lines = body.decode().splitlines()[1:]
            return JSONResponse({"accepted": len(lines), "rows": [{"line": i + 2, "status": "ok"}
                                                                  for i in range(len(lines))]}, status_code=201)

        self.app = Starlette(routes=[Route("/{path:path}", put, methods=["PUT"])])

    def reset(self) -> None:
        self.requests.clear()
        self.script.clear()
        self.delay = 0.0


@pytest.fixture(scope="module")
def http_server():
    receiver = _Receiver()
    with serve_in_thread(receiver.app, grace=0.2) as server:
        yield server, receiver


@pytest.fixture
def receiver(http_server):
    server, receiver = http_server
    receiver.reset()
    receiver.base_url = server.base_url
    return receiver


def test_http_put_sends_headers_and_parses_the_json_answer(receiver):
    result = deliver(DeliveryTarget(f"{receiver.base_url}/inventory/", token=TOKEN, timeout=5), "stock file.csv")
    assert result.status_code == 201 and result.bytes == len(CSV)
    assert result.answer == {"accepted": 2, "rows": [{"line": 2, "status": "ok"}, {"line": 3, "status": "ok"}]}
    assert result.location == f"{receiver.base_url}/inventory/stock%20file.csv"
    [request] = receiver.requests
    assert request["method"] == "PUT" and request["path"] == "/inventory/stock file.csv" and request["body"] == CSV
    headers = request["headers"]
    assert headers["content-type"] == "text/csv; charset=utf-8"
    assert headers["idempotency-key"] == KEY
    assert headers["authorization"] == f"Bearer {TOKEN}"


def test_http_put_to_an_exact_url_with_basic_auth_and_a_text_answer(receiver):
    receiver.script.append(PlainTextResponse("OK " + "x" * 5000))
    result = deliver(DeliveryTarget(f"{receiver.base_url}/api/stock.csv", USER, PASSWORD, timeout=5), "ignored.csv")
    assert result.status_code == 200 and result.answer.startswith("OK x") and len(result.answer) == 2000
    [request] = receiver.requests
    assert request["path"] == "/api/stock.csv"
    expected = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    assert request["headers"]["authorization"] == f"Basic {expected}"


def test_http_503_then_200_is_retried_with_the_same_key(receiver):
    receiver.script += [PlainTextResponse("busy", 503, headers={"Retry-After": "0"}),
                        JSONResponse({"queued": True}, 429, headers={"Retry-After": "0"})]
    result = deliver(DeliveryTarget(f"{receiver.base_url}/up/", token=TOKEN, timeout=5))
    assert result.status_code == 201 and result.answer["accepted"] == 2
    assert len(receiver.requests) == 3
    assert {r["headers"]["idempotency-key"] for r in receiver.requests} == {KEY}
    assert all(r["body"] == CSV for r in receiver.requests)


def test_http_400_is_not_retried_and_the_token_never_shows(receiver):
    # A careless server echoing the request's Authorization header in its error report.
    receiver.script.append(JSONResponse({"error": "bad row 3", "echo": f"Bearer {TOKEN}", "rows": [{"line": 3}]}, 400))
    with pytest.raises(DeliveryError) as caught:
        deliver(DeliveryTarget(f"{receiver.base_url}/up/", token=TOKEN, timeout=5))
    error = caught.value
    assert len(receiver.requests) == 1
    assert error.kind == "rejected" and error.retryable is False and error.status_code == 400
    assert "HTTP 400" in str(error) and "bad row 3" in str(error)
    assert error.answer["rows"] == [{"line": 3}] and error.answer["echo"] == "Bearer ***"
    assert_no_secrets(str(error) + repr(error.args) + json.dumps(error.answer), TOKEN)


def test_http_timeouts_and_server_errors_give_up_retryable(receiver, caplog):
    caplog.set_level(logging.DEBUG)
    receiver.delay = 0.5
    with pytest.raises(DeliveryError) as caught:
        deliver(DeliveryTarget(f"{receiver.base_url}/up/", USER, PASSWORD, timeout=0.1), attempts=2)
    assert caught.value.kind == "timeout" and caught.value.retryable and caught.value.attempts == 2
    receiver.reset()
    receiver.script += [PlainTextResponse(f"down, {PASSWORD}", 500)] * 2
    with pytest.raises(DeliveryError) as caught:
        deliver(DeliveryTarget(f"{receiver.base_url}/up/", USER, PASSWORD, timeout=5), attempts=2)
    assert caught.value.kind == "server" and caught.value.retryable and caught.value.status_code == 500
    assert len(receiver.requests) == 2
    assert_no_secrets(str(caught.value) + caplog.text, PASSWORD, f"{USER}:{PASSWORD}")


def test_http_auth_failure_is_permanent(receiver):
    receiver.script.append(JSONResponse({"error": "invalid token"}, 401))
    with pytest.raises(DeliveryError) as caught:
        deliver(DeliveryTarget(f"{receiver.base_url}/up/", token="expired-token", timeout=5))
    assert caught.value.kind == "auth" and not caught.value.retryable and len(receiver.requests) == 1
    assert_no_secrets(str(caught.value), "expired-token")
