"""Delivering one generated file (a stock/inventory CSV) to the location a merchant configured.

Some marketplaces take stock as a file rather than through an API: the merchant tells them where to
fetch it, or gives us a place to drop it (a Letzshop inventory CSV on an SFTP box, say). `deliver_file`
puts the bytes of one such file there, whatever the location is:

===========================================  ==============================================================
location                                     how the file gets there
===========================================  ==============================================================
``/abs/dir`` or ``file:///abs/dir/``         written to a temporary file in that directory, fsync'ed, then
                                             `os.replace`d over the final name. The directory must exist.
``ftp://host[:port]/dir/``, ``ftps://...``   passive-mode binary STOR to a temporary name, then RNFR/RNTO to
                                             the final one. ftps is explicit TLS (AUTH TLS, then PROT P so the
                                             data is encrypted too), certificates verified.
``sftp://host[:port]/dir/``                  asyncssh: written to a temporary name, then renamed (the OpenSSH
                                             posix-rename extension when the server has it). The server's host
                                             key must be pinned (`host_key`) or listed (`known_hosts`).
``http(s)://host/path/`` or ``.../file``     HTTP PUT with ``Content-Type: text/csv; charset=utf-8`` and the
                                             caller's ``Idempotency-Key``; a location ending in "/" gets the
                                             file name appended, any other is used as it is.
===========================================  ==============================================================

Whatever the transport, a reader polling the destination never sees half a file: it sees the old
file or the new one. Temporary names are ``.<filename>.<random>.part`` in the destination directory,
so a poller matching ``*.csv`` skips them; a failed attempt removes its temporary file when it can.

Paths in FTP URLs are relative to the login directory, one CWD per segment (RFC 1738; ``%2F`` for an
absolute path). Paths in SFTP URLs are absolute, as curl and the SSH URI draft have them;
``sftp://host/~/dir/`` is relative to the login directory.

Failures raise `DeliveryError`, one sentence naming the redacted destination and the cause. Its
`retryable` says whether trying again later can help (connection trouble, timeouts, HTTP 5xx and 429,
FTP 4xx replies) or whether a person must change something first (credentials, host key, a missing
directory, an HTTP 4xx). `deliver_file` itself already retries the retryable ones a few times, with the
project's jittered backoff honouring Retry-After: every attempt starts over with a fresh temporary file,
and replacing a file by the same bytes (or re-PUTting it under the same Idempotency-Key) is idempotent.

Secrets live in `DeliveryTarget` (from the credential vault), never in the location: a location with
``user:password@`` in it is refused, so it cannot end up stored in plain text. Every error message is
scrubbed of the password, token, passphrase and private key, in every encoding they could take.
"""
import asyncio
import concurrent.futures
import ftplib
import io
import json
import logging
import os
import posixpath
import secrets
import socket
import ssl
import stat
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote, unquote, urlsplit
from urllib.request import url2pathname

import httpx

from resources.feed_transport import _FtpTls, _parts, credentials_scrubber, redact
from resources.http_retry import HttpCallError, retry_after_seconds, retrying
from resources.scrubbing import SecretScrubber

log = logging.getLogger(__name__)

SCHEMES = ("file", "ftp", "ftps", "sftp", "http", "https")
DEFAULT_PORTS = {"ftp": 21, "ftps": 21, "sftp": 22}
CONTENT_TYPE = "text/csv; charset=utf-8"
ANSWER_TEXT_LIMIT = 2000  # characters of a non-JSON HTTP answer kept in `Delivery.answer`
ERROR_BODY_LIMIT = 300  # characters of an HTTP error body quoted in a DeliveryError message
RETRY_ATTEMPTS = 4
RETRY_WAIT_SECONDS = 1.0  # backoff base: waits are random in [0, base * 2**n]
MAX_RETRY_WAIT_SECONDS = 30.0
LOCAL_FILE_MODE = 0o644  # a new local file; an existing one keeps its mode
_CHUNK = 1 << 20


# --------------------------------------------------------------------------- API
@dataclass(frozen=True)
class DeliveryTarget:
    """Where a file goes and how to get in. `location` is a URL or an absolute path WITHOUT
    credentials (those come from the vault, in the fields below). `timeout`: seconds allowed for
    connecting and for each step after (a reply, a chunk of data)."""

    location: str
    username: str | None = None  # FTP (default: anonymous), SFTP (required), HTTP Basic
    password: str | None = None
    token: str | None = None  # HTTP bearer token (wins over username/password)
    private_key: str | None = None  # SFTP: PEM or OpenSSH private key text
    passphrase: str | None = None  # of private_key, if it is encrypted
    host_key: str | None = None  # SFTP: expected server public key line, "ssh-ed25519 AAAA..."
    known_hosts: str | None = None  # SFTP: path of a known_hosts file (instead of host_key)
    timeout: float = 60.0

    def __repr__(self) -> str:  # dataclass's repr would print the secrets
        return f"DeliveryTarget(location={describe_location(self.location)!r}, username={self.username!r})"


@dataclass(frozen=True)
class Delivery:
    """A delivered file. `location`: the redacted full destination (the file's URL or path);
    `status_code` and `answer` (the response body, JSON parsed, else text) for HTTP only."""

    location: str
    filename: str
    bytes: int
    status_code: int | None
    answer: dict | list | str | None


class DeliveryError(HttpCallError):
    """A file that could not be delivered, as one sentence naming the redacted destination and the
    cause; never contains a password, token, passphrase or key.

    `kind`: rejected (the location, file name or settings are wrong), auth, host_key, missing_directory,
    not_found, denied, tls, disk (local write failed), or the transient ones: server (HTTP 5xx/408,
    FTP 4xx), rate_limited, unreachable, timeout, broken. `retryable` is True for the transient kinds.
    For HTTP errors `status_code` and `answer` (the body, JSON parsed, else text) say what the server
    answered: a 400/422 often carries the per-row report."""

    TRANSIENT: ClassVar[frozenset[str]] = frozenset({"server", "rate_limited", "unreachable", "timeout", "broken"})

    def __init__(self, message: str, kind: str = "rejected", *, retry_after: float | None = None,
                 status_code: int | None = None, answer: dict | list | str | None = None):
        super().__init__(message, kind, retry_after)
        self.status_code = status_code
        self.answer = answer
        self.attempts = 1

    @property
    def retryable(self) -> bool:
        return self.transient


def describe_location(location: str) -> str:
    """The location as it may be shown in logs and the UI: any userinfo hidden whole (``***@``),
    secret-looking query values as ``***``; a local path comes back as it is."""
    location = (location or "").strip()
    parts = _parts(location)
    if parts is None:
        return location
    if parts.userinfo:
        location = f"{parts.prefix}***@{parts.hostport}{parts.tail}"
    return redact(location)


def deliver_file(target: DeliveryTarget, filename: str, data: bytes, *, idempotency_key: str,
                 attempts: int = RETRY_ATTEMPTS, retry_wait_seconds: float = RETRY_WAIT_SECONDS) -> Delivery:
    """Put `data` at `target` under the name `filename`, atomically (see the module's doc).

    `idempotency_key` identifies this file's content (the same key for a retry of the same bytes); it
    is sent as the HTTP ``Idempotency-Key`` header. Retryable failures are retried up to `attempts`
    tries in all. Raises DeliveryError (a MarketsyncError) when the file could not be delivered."""
    scrubber = _scrubber_of(target)
    location = (target.location or "").strip()
    scheme, parsed = _classify(location)
    _check_filename(filename)
    _check_idempotency_key(idempotency_key)
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise DeliveryError("deliver_file needs the file's bytes (encode the CSV first)")
    data = bytes(data)
    if not target.timeout or target.timeout <= 0:
        raise DeliveryError(f"the delivery timeout must be positive, not {target.timeout!r}")
    if scheme in ("http", "https"):
        url = location + quote(filename) if location.endswith("/") else location
    else:
        url = f"{location.rstrip('/')}/{filename}"
    call = _Call(target, filename, data, idempotency_key, describe_location(url), scrubber)
    senders: dict[str, Callable[[_Call, Any], Delivery]] = {
        "file": _send_local, "ftp": _send_ftp, "ftps": _send_ftp, "sftp": _send_sftp,
        "http": _send_http, "https": _send_http}
    send = senders[scheme]
    destination = url if scheme in ("http", "https") else parsed  # what the sender needs to know
    count = 0

    def before_sleep(state) -> None:
        exc = state.outcome.exception()
        log.warning("delivering %s: attempt %d of %d failed (%s); retrying in %.1f s", call.where,
                    state.attempt_number, attempts, exc, state.next_action.sleep if state.next_action else 0.0)

    log.debug("delivering %s (%d bytes)", call.where, len(data))
    try:
        for attempt in retrying(DeliveryError, attempts, retry_wait_seconds, MAX_RETRY_WAIT_SECONDS,
                                before_sleep=before_sleep):
            with attempt:
                count += 1
                delivery = send(call, destination)
    except DeliveryError as exc:
        exc.attempts = count
        message = exc.args[0] if exc.args else str(exc)
        if count > 1:
            message += f" (gave up after {count} attempts)"
        exc.args = (scrubber.scrub(message),)
        log.warning("%s", exc.args[0])
        raise exc from None
    log.info("delivered %s: %d bytes%s", call.where, len(data),
             f", HTTP {delivery.status_code}" if delivery.status_code else "")
    return delivery


# --------------------------------------------------------------------------- checks
def _classify(location: str) -> tuple[str, Any]:
    """(scheme, parsed location) for a location that is safe to use, else DeliveryError."""
    if not location:
        raise DeliveryError("no delivery location is configured")
    if any(ord(c) < 32 or ord(c) == 127 for c in location):
        raise DeliveryError("the delivery location contains control characters")
    parts = _parts(location)
    shown = describe_location(location)
    if parts is None:
        if not os.path.isabs(location):
            raise DeliveryError(f"the delivery location {shown!r} is neither an absolute directory path nor a URL "
                                "(file:///dir/, ftp://, ftps://, sftp://, http:// or https://)")
        return "file", Path(location)
    if parts.userinfo == "" and not parts.hostport:  # feed_transport's reading of "unreadable"
        raise DeliveryError(f"the delivery location {shown} cannot be read: its port must be a number, and "
                            "credentials belong in the target's credentials, not in the location")
    if parts.userinfo is not None:
        raise DeliveryError(f"the delivery location {shown} contains credentials: remove them from the "
                            "location and store them as the target's credentials (username/password or token)")
    parsed = urlsplit(location)
    scheme = parsed.scheme.lower()
    if scheme not in SCHEMES:
        raise DeliveryError(f"the delivery location {shown} has the scheme '{scheme}', which is not supported "
                            f"(use {', '.join(SCHEMES[:-1])} or {SCHEMES[-1]}, or an absolute path)")
    if scheme == "file":
        if parsed.netloc not in ("", "localhost"):
            raise DeliveryError(f"the delivery location {shown} names another host: file:// locations must "
                                "be local paths (file:///dir/)")
        if parsed.query or parsed.fragment:
            raise DeliveryError(f"the delivery location {shown} has a query or fragment; a directory cannot")
        return scheme, Path(url2pathname(parsed.path))
    try:
        port = parsed.port
    except ValueError:
        raise DeliveryError(f"the delivery location {shown} has an invalid port") from None
    if not parsed.hostname:
        raise DeliveryError(f"the delivery location {shown} names no host")
    if scheme in ("ftp", "ftps", "sftp"):
        if parsed.query or parsed.fragment:
            raise DeliveryError(f"the delivery location {shown} has a query or fragment; a directory cannot")
        if any(ord(c) < 32 or ord(c) == 127 for c in unquote(parsed.path)):
            raise DeliveryError(f"the delivery location {shown} has control characters in its path")
    return scheme, (parsed, port)


def _check_filename(filename: Any) -> None:
    if not isinstance(filename, str) or not filename:
        raise DeliveryError("the file to deliver needs a name")
    shown = repr(filename[:80])
    if "/" in filename or "\\" in filename:
        raise DeliveryError(f"the file name {shown} must not contain a path separator")
    if filename in (".", "..") or ".." in filename:
        raise DeliveryError(f"the file name {shown} must not contain '..'")
    if any(ord(c) < 32 or ord(c) == 127 for c in filename):
        raise DeliveryError(f"the file name {shown} contains control characters")
    if filename != filename.strip():
        raise DeliveryError(f"the file name {shown} starts or ends with white space")
    if len(filename.encode()) > 200:  # room for the temporary name's prefix and suffix within 255
        raise DeliveryError(f"the file name {shown}... is longer than 200 bytes")


def _check_idempotency_key(key: Any) -> None:
    if not isinstance(key, str) or not key.strip():
        raise DeliveryError("an idempotency key is required (the same one for every try of the same file)")
    if len(key) > 255 or any(not (32 < ord(c) < 127) for c in key):
        raise DeliveryError("the idempotency key must be at most 255 visible ASCII characters")


def _scrubber_of(target: DeliveryTarget) -> SecretScrubber:
    """The target's password, token, passphrase and private key, in every spelling they could take."""
    scrubber = credentials_scrubber({"username": target.username or "", "password": target.password or "",
                                     "token": target.token or ""})
    scrubber.pin(target.passphrase)
    scrubber.pin(target.private_key.strip() if target.private_key else None)
    return scrubber


# --------------------------------------------------------------------------- shared plumbing
@dataclass(frozen=True)
class _Call:
    target: DeliveryTarget
    filename: str
    data: bytes
    idempotency_key: str
    where: str  # redacted destination of the file, for messages
    scrubber: SecretScrubber

    def error(self, reason: str, kind: str, **extra: Any) -> DeliveryError:
        return DeliveryError(self.scrubber.scrub(f"could not deliver {self.filename} to {self.where}: {reason}"),
                             kind, **extra)

    def delivered(self, status_code: int | None = None, answer: Any = None) -> Delivery:
        return Delivery(self.where, self.filename, len(self.data), status_code, answer)


def _temporary_name(filename: str) -> str:
    return f".{filename}.{secrets.token_hex(4)}.part"


def _tls_context() -> ssl.SSLContext:
    """The system's trust store (honours SSL_CERT_FILE/SSL_CERT_DIR), hostname checking on. Made per
    delivery: a few milliseconds against a network upload, and it sees a changed trust store."""
    return ssl.create_default_context()


# --------------------------------------------------------------------------- local directory
def _send_local(call: _Call, directory: Path) -> Delivery:
    if not directory.is_absolute():
        raise call.error("the directory must be an absolute path", "rejected")
    if not directory.exists():
        raise call.error(f"the directory {directory} does not exist (create it first)", "missing_directory")
    if not directory.is_dir():
        raise call.error(f"{directory} is not a directory", "missing_directory")
    final = directory / call.filename
    try:
        mode = stat.S_IMODE(final.stat().st_mode)
    except OSError:  # usually: no such file yet
        mode = LOCAL_FILE_MODE
    temporary: str | None = None
    try:
        fd, temporary = tempfile.mkstemp(dir=directory, prefix=f".{call.filename}.", suffix=".part")
        with os.fdopen(fd, "wb") as handle:
            handle.write(call.data)
            handle.flush()
            os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
        os.replace(temporary, final)
        temporary = None
        _fsync_directory(directory)
    except OSError as exc:
        raise call.error(f"could not write it ({exc.strerror or type(exc).__name__})", "disk") from None
    finally:
        if temporary is not None:
            try:
                os.unlink(temporary)
            except OSError:
                pass
    return call.delivered()


def _fsync_directory(directory: Path) -> None:
    """Makes the rename itself durable; not every platform or file system allows it."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# --------------------------------------------------------------------------- FTP and FTPS
def _send_ftp(call: _Call, parsed_port: tuple) -> Delivery:
    parsed, port = parsed_port
    step = ["connect"]  # the command under way, for error messages
    try:
        _ftp_upload(call, parsed, port, step)
    except DeliveryError:
        raise
    except (*ftplib.all_errors, ValueError) as exc:  # replies, OSError (socket, TLS), EOFError
        raise _ftp_error(call, exc, step[0]) from None
    return call.delivered()


def _ftp_upload(call: _Call, parsed, port: int | None, step: list[str]) -> None:
    """Passive binary STOR to a temporary name in the directory, then RNFR/RNTO to the final name."""
    target = call.target
    tls = parsed.scheme.lower() == "ftps"
    directories = [unquote(s) for s in parsed.path.split("/") if s]
    user = target.username or "anonymous"
    password = target.password or ("anonymous@" if user == "anonymous" else "")
    ftp: ftplib.FTP = _FtpTls(context=_tls_context()) if tls else ftplib.FTP()  # noqa: S321 - FTP and FTPS are protocols merchants' feeds use; FTPS when configured
    temporary = _temporary_name(call.filename)
    stored = False
    try:
        ftp.connect(parsed.hostname, port or DEFAULT_PORTS[parsed.scheme.lower()], timeout=target.timeout)
        if tls:
            step[0] = "AUTH TLS"
            ftp.auth()
        step[0] = "login"
        ftp.login(user, password)
        if tls:
            step[0] = "PROT P"
            ftp.prot_p()
        ftp.set_pasv(True)
        for directory in directories:
            step[0] = f"CWD {directory}"
            ftp.cwd(directory)
        step[0] = "TYPE I"
        ftp.voidcmd("TYPE I")
        step[0] = "STOR"
        stored = True  # from here on a partial temporary file may exist
        ftp.storbinary(f"STOR {temporary}", io.BytesIO(call.data), blocksize=_CHUNK)
        step[0] = "RNFR/RNTO"
        try:
            ftp.rename(temporary, call.filename)
        except ftplib.error_perm as exc:
            # Some servers (IIS, older ProFTPD setups) will not rename over an existing file: remove
            # it and rename again. Readers may then briefly find no file, but never half of one.
            if not str(exc).startswith(("550", "553")):
                raise
            try:
                ftp.delete(call.filename)
            except ftplib.error_perm:
                raise exc from None
            ftp.rename(temporary, call.filename)
        stored = False
        try:
            ftp.quit()
        except ftplib.all_errors:
            pass
    except ftplib.Error:
        # The server answered, so the control connection still works: tidy up the partial file.
        # (After a socket error or timeout, trying would only wait for the same dead connection.)
        if stored:
            try:
                ftp.delete(temporary)
            except (*ftplib.all_errors, ValueError):
                pass
        raise
    finally:
        ftp.close()


def _ftp_error(call: _Call, exc: BaseException, step: str) -> DeliveryError:
    command = step.split(" ")[0]
    if isinstance(exc, (ftplib.error_perm, ftplib.error_temp, ftplib.error_reply)):
        code = str(exc)[:3]
        if code == "530" or (step == "login" and code.startswith("5")):
            return call.error(f"the FTP server refused the login (reply {code})", "auth")
        if command == "CWD" and code.startswith("5"):
            return call.error(f"the directory {step[4:]!r} does not exist on the FTP server or is not "
                              f"accessible (CWD answered {code})", "missing_directory")
        if step == "AUTH TLS":
            return call.error(f"the FTP server does not offer explicit TLS (AUTH TLS answered {code})", "tls")
        if command in ("STOR", "RNFR/RNTO") and code in ("550", "553", "532"):
            return call.error(f"the FTP server does not let this user write or rename the file "
                              f"({command} answered {code})", "denied")
        if isinstance(exc, ftplib.error_temp):
            return call.error(f"the FTP server answered {code} to {command} (temporary)", "server")
        return call.error(f"the FTP server answered {code} to {command}", "rejected")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return call.error("the FTP server's TLS certificate is not trusted", "tls")
    if isinstance(exc, ssl.SSLError):
        return call.error(f"TLS failed during {command} ({exc.reason or 'handshake'})", "tls")
    if isinstance(exc, ConnectionRefusedError):
        return call.error("connection refused", "unreachable")
    if isinstance(exc, TimeoutError):
        return call.error(f"no answer within {call.target.timeout:g} s during {command} (timeout)", "timeout")
    if isinstance(exc, socket.gaierror):
        return call.error("the host name does not resolve", "unreachable")
    if isinstance(exc, ftplib.error_proto):
        return call.error("the FTP server's reply makes no sense", "rejected")
    if isinstance(exc, ValueError):  # ftplib refusing a line with CR/LF in it
        return call.error("a file or directory name contains characters FTP cannot carry", "rejected")
    return call.error(f"the connection broke during {command}", "broken")


# --------------------------------------------------------------------------- SFTP
def _send_sftp(call: _Call, parsed_port: tuple) -> Delivery:
    try:
        import asyncssh
    except ImportError:  # pragma: no cover - asyncssh is a dependency
        raise call.error("SFTP needs the asyncssh package, which is not installed", "rejected") from None
    parsed, port = parsed_port
    options = _sftp_options(call, asyncssh)  # checks the settings before anything touches the network
    directory = unquote(parsed.path) or "/"
    if directory == "/~" or directory.startswith("/~/"):
        directory = directory[3:] or "."  # relative to the login directory
    step = ["connect"]
    try:
        _run(lambda: _sftp_upload(call, asyncssh, parsed.hostname, port or DEFAULT_PORTS["sftp"], directory,
                                  options, step))
    except DeliveryError:
        raise
    except Exception as exc:
        raise _sftp_error(call, asyncssh, exc, step[0]) from None
    return call.delivered()


def _sftp_options(call: _Call, asyncssh) -> dict[str, Any]:
    target = call.target
    if not target.username:
        raise call.error("SFTP needs a username", "rejected")
    if not (target.password or target.private_key):
        raise call.error("SFTP needs a password or a private key", "rejected")
    options: dict[str, Any] = {
        "username": target.username,
        "config": None,  # no ~/.ssh/config: the target says everything
        "agent_path": None,  # nor an ssh-agent's keys
        "connect_timeout": target.timeout,
        "login_timeout": target.timeout,
        "gss_auth": False, "gss_kex": False,
    }
    if target.host_key and target.host_key.strip():
        keys = []
        for line in target.host_key.strip().splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            try:
                keys.append(asyncssh.import_public_key(line))
            except (asyncssh.KeyImportError, ValueError):
                raise call.error("host_key is not an OpenSSH public key line (like 'ssh-ed25519 AAAA...', "
                                 "as `ssh-keyscan` prints after the host name)", "rejected") from None
        options["known_hosts"] = (keys, [], [])
    elif target.known_hosts and target.known_hosts.strip():
        path = os.path.expanduser(target.known_hosts.strip())
        if not os.path.isfile(path):
            raise call.error(f"the known_hosts file {path} does not exist", "rejected")
        try:
            options["known_hosts"] = asyncssh.read_known_hosts(path)
        except (OSError, ValueError):
            raise call.error(f"the known_hosts file {path} cannot be read", "rejected") from None
    else:
        raise call.error("the SFTP server's host key is not configured: set host_key to the server's public "
                         "key line (`ssh-keyscan -p PORT HOST` shows it; check it with the server's owner) or "
                         "known_hosts to a known_hosts file", "rejected")
    methods: list[str] = []
    if target.private_key:
        key_text = target.private_key.strip()
        if "-----BEGIN" not in key_text:
            raise call.error("private_key must be the key itself (PEM or OpenSSH text), not a file name", "rejected")
        try:
            key = asyncssh.import_private_key(key_text + "\n", target.passphrase or None)
        except asyncssh.KeyEncryptionError:
            raise call.error("the private key cannot be decrypted: the passphrase is missing or wrong",
                             "rejected") from None
        except (asyncssh.KeyImportError, ValueError):
            raise call.error("the private key cannot be read (expected PEM or OpenSSH private key text, "
                             "with its passphrase if it has one)", "rejected") from None
        options["client_keys"] = [key]
        methods.append("publickey")
    else:
        options["client_keys"] = None
    if target.password:
        options["password"] = target.password
        methods += ["keyboard-interactive", "password"]
    options["preferred_auth"] = methods
    return options


async def _sftp_upload(call: _Call, asyncssh, host: str, port: int, directory: str,
                       options: dict[str, Any], step: list[str]) -> None:
    timeout = call.target.timeout

    async def within(awaitable):
        return await asyncio.wait_for(awaitable, timeout)

    async with await asyncssh.connect(host, port, **options) as conn:
        step[0] = "start SFTP"
        async with await within(conn.start_sftp_client()) as sftp:
            step[0] = "stat"
            if not await within(sftp.isdir(directory)):
                raise call.error(f"the directory {directory!r} does not exist on the SFTP server "
                                 "(create it first)", "missing_directory")
            temporary = posixpath.join(directory, _temporary_name(call.filename))
            final = posixpath.join(directory, call.filename)
            written = False
            try:
                step[0] = "open"
                handle = await within(sftp.open(temporary, "wb"))
                written = True
                try:
                    step[0] = "write"
                    for offset in range(0, len(call.data), _CHUNK):
                        await within(handle.write(call.data[offset:offset + _CHUNK], offset))
                finally:
                    await within(handle.close())
                step[0] = "rename"
                await within(_sftp_replace(sftp, asyncssh, temporary, final))
                written = False
            finally:
                if written:
                    try:
                        await asyncio.wait_for(sftp.remove(temporary), min(timeout, 5.0))
                    except Exception:  # the upload's own error is the one to report
                        log.debug("%s: could not remove the partial upload %s", call.where, temporary, exc_info=True)


async def _sftp_replace(sftp, asyncssh, temporary: str, final: str) -> None:
    """Atomic replace with OpenSSH's posix-rename (or SFTPv5+ rename with overwrite); on servers with
    neither, a plain rename, removing an existing file first if the server insists."""
    try:
        await sftp.posix_rename(temporary, final)
        return
    except asyncssh.SFTPOpUnsupported:
        pass
    try:
        await sftp.rename(temporary, final)
    except (asyncssh.SFTPFailure, asyncssh.SFTPFileAlreadyExists):
        if not await sftp.exists(final):
            raise
        await sftp.remove(final)
        await sftp.rename(temporary, final)


def _sftp_error(call: _Call, asyncssh, exc: BaseException, step: str) -> DeliveryError:
    if isinstance(exc, asyncssh.HostKeyNotVerifiable):
        return call.error("the SFTP server's host key does not match the configured host_key/known_hosts: "
                          "if the server's owner did not change it, someone may be intercepting the connection",
                          "host_key")
    if isinstance(exc, asyncssh.PermissionDenied):
        return call.error("the SFTP server refused the login (wrong username, password or key)", "auth")
    if isinstance(exc, asyncssh.KeyExchangeFailed):
        return call.error("the SFTP server and we share no key exchange or host key algorithm "
                          "(is the host key of the right type?)", "rejected")
    if isinstance(exc, (asyncssh.SFTPNoSuchFile, asyncssh.SFTPNoSuchPath)):
        return call.error(f"the SFTP server has no such directory ({step} failed)", "missing_directory")
    if isinstance(exc, asyncssh.SFTPPermissionDenied):
        return call.error(f"the SFTP server does not let this user {step} the file (permission denied)", "denied")
    if isinstance(exc, asyncssh.SFTPConnectionLost):
        return call.error(f"the connection broke during {step}", "broken")
    if isinstance(exc, asyncssh.SFTPError):
        return call.error(f"the SFTP server refused to {step} the file ({exc.reason})", "rejected")
    if isinstance(exc, asyncssh.ChannelOpenError):
        return call.error("the SSH server does not offer SFTP to this user", "rejected")
    if isinstance(exc, (asyncssh.ConnectionLost, asyncssh.ServiceNotAvailable)):
        return call.error(f"the connection broke during {step}", "broken")
    if isinstance(exc, asyncssh.DisconnectError):
        return call.error(f"the SSH server closed the connection during {step} ({type(exc).__name__})", "broken")
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
        return call.error(f"no answer within {call.target.timeout:g} s during {step} (timeout)", "timeout")
    if isinstance(exc, ConnectionRefusedError):
        return call.error("connection refused", "unreachable")
    if isinstance(exc, socket.gaierror):
        return call.error("the host name does not resolve", "unreachable")
    if isinstance(exc, OSError):
        return call.error(f"the server cannot be reached ({exc.strerror or type(exc).__name__})", "unreachable")
    return call.error(f"the SFTP transfer failed during {step} ({type(exc).__name__})", "broken")


def _run(make_coroutine: Callable[[], Any]) -> Any:
    """Runs a coroutine to completion from synchronous code, in a worker thread if this thread
    already runs an event loop (asyncio.run cannot nest)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make_coroutine())
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="stock-delivery") as pool:
        return pool.submit(lambda: asyncio.run(make_coroutine())).result()


# --------------------------------------------------------------------------- HTTP(S) PUT
def _send_http(call: _Call, url: str) -> Delivery:
    target = call.target
    headers = {"Content-Type": CONTENT_TYPE, "Idempotency-Key": call.idempotency_key,
               "User-Agent": "marketsync-delivery/1", "Accept": "application/json, */*;q=0.5"}
    auth: httpx.Auth | None = None
    if target.token:
        headers["Authorization"] = f"Bearer {target.token}"
    elif target.username:
        auth = httpx.BasicAuth(target.username, target.password or "")
    try:
        with httpx.Client(timeout=httpx.Timeout(target.timeout), verify=_tls_context(),
                          follow_redirects=False) as client:
            response = client.put(url, content=call.data, headers=headers, auth=auth)
    except httpx.HTTPError as exc:
        # Not chained: httpx's own text names the URL.
        raise _httpx_error(call, exc) from None
    answer = _answer(response)
    code = response.status_code
    if 200 <= code < 300:
        return call.delivered(code, answer)
    raise _status_error(call, response, answer)


def _answer(response: httpx.Response) -> dict | list | str | None:
    """The body: parsed when it is JSON (a dict or list), else the text cut to ANSWER_TEXT_LIMIT."""
    try:
        text = response.text
    except (UnicodeDecodeError, LookupError):
        text = response.content.decode("utf-8", "replace")
    if not text.strip():
        return None
    if "json" in response.headers.get("content-type", "").lower() or text.lstrip()[:1] in ("{", "["):
        try:
            parsed = json.loads(text)
        except ValueError:
            pass
        else:
            if isinstance(parsed, (dict, list)):
                return parsed
    return text[:ANSWER_TEXT_LIMIT]


def _scrubbed(value: Any, scrubber: SecretScrubber) -> Any:
    """`value` (a parsed answer) with the secrets replaced in every string, keys included."""
    if isinstance(value, str):
        return scrubber.scrub(value)
    if isinstance(value, dict):
        return {_scrubbed(k, scrubber): _scrubbed(v, scrubber) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrubbed(v, scrubber) for v in value]
    return value


def _status_error(call: _Call, response: httpx.Response, answer: Any) -> DeliveryError:
    code = response.status_code
    answer = _scrubbed(answer, call.scrubber)
    said = ""
    if answer is not None:
        snippet = answer if isinstance(answer, str) else json.dumps(answer, ensure_ascii=False)
        snippet = " ".join(snippet.split())
        if len(snippet) > ERROR_BODY_LIMIT:
            snippet = snippet[:ERROR_BODY_LIMIT] + "..."
        said = f": {snippet}"
    extra = {"status_code": code, "answer": answer}
    if code in (401, 403):
        return call.error(f"the server refused the credentials (HTTP {code}){said}", "auth", **extra)
    if code in (404, 405, 410):
        return call.error(f"the server does not take files at this address (HTTP {code}){said}", "not_found", **extra)
    if code == 429:
        return call.error(f"the server is rate limiting us (HTTP 429){said}", "rate_limited",
                          retry_after=retry_after_seconds(response), **extra)
    if code == 408 or code >= 500:
        return call.error(f"server error (HTTP {code}){said}", "server", retry_after=retry_after_seconds(response),
                          **extra)
    if 300 <= code < 400:
        moved = describe_location(response.headers.get("location", "")) or "nowhere"
        return call.error(f"the server redirects to {moved} (HTTP {code}): configure that location instead",
                          "rejected", **extra)
    return call.error(f"the server rejected the file (HTTP {code}){said}", "rejected", **extra)


def _httpx_error(call: _Call, exc: httpx.HTTPError) -> DeliveryError:
    text = str(exc)
    timeout = call.target.timeout
    if isinstance(exc, httpx.ConnectTimeout):
        return call.error(f"no connection within {timeout:g} s (timeout)", "timeout")
    if isinstance(exc, httpx.TimeoutException):
        return call.error(f"no answer within {timeout:g} s (timeout)", "timeout")
    if isinstance(exc, httpx.ConnectError):
        if "CERTIFICATE_VERIFY_FAILED" in text or "SSL" in text:
            return call.error("the server's TLS certificate is not trusted", "tls")
        if "refused" in text.lower():
            return call.error("connection refused", "unreachable")
        if "name" in text.lower() and ("resolution" in text.lower() or "known" in text.lower()):
            return call.error("the host name does not resolve", "unreachable")
        return call.error("the server cannot be reached", "unreachable")
    if isinstance(exc, httpx.UnsupportedProtocol):
        return call.error("the URL's scheme is not supported", "rejected")
    if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError, httpx.CloseError)):
        return call.error("the connection broke", "broken")
    return call.error(f"the request failed ({type(exc).__name__})", "broken")
