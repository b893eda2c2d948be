"""What every delivery shares: the target, the result and the error; reading and checking a
location, a file name and an idempotency key; the per-delivery `Call` the protocol modules send with.
"""
import os
import secrets
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from marketsync.resources.feed_transport import credentials_scrubber, redact, url_parts
from marketsync.resources.http_retry import HttpCallError
from marketsync.resources.scrubbing import SecretScrubber
from marketsync.resources.url_policy import UrlRefused, check_local_path, check_url

SCHEMES = ("file", "ftp", "ftps", "sftp", "http", "https")
DEFAULT_PORTS = {"ftp": 21, "ftps": 21, "sftp": 22}
CHUNK = 1 << 20


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
    plain_ftp_login: bool = False  # the FTP server takes a login only unencrypted (no FTPS): say so here
    operator_folder: bool = False  # a folder the operator named on the command line, not a configured location

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
    parts = url_parts(location)
    if parts is None:
        return location
    if parts.userinfo:
        location = f"{parts.prefix}***@{parts.hostport}{parts.tail}"
    return redact(location)


# --------------------------------------------------------------------------- checks
def classify_location(location: str, operator_folder: bool = False) -> tuple[str, Any]:
    """(scheme, parsed location) for a location that is safe to use, else DeliveryError. A configured
    location passes the outbound URL policy (resources.url_policy): a local folder only inside the folders
    the deployment allows, a network URL only to an allowed address; `operator_folder` is a folder the
    operator named on the command line."""
    scheme, parsed = _read_location(location)
    try:
        if scheme == "file" and not operator_folder:
            check_local_path(str(parsed), "the delivery location")
        elif scheme != "file":
            check_url(location, SCHEMES[1:], f"the delivery location {describe_location(location)}")
    except UrlRefused as exc:
        raise DeliveryError(str(exc)) from None
    return scheme, parsed


def _read_location(location: str) -> tuple[str, Any]:
    if not location:
        raise DeliveryError("no delivery location is configured")
    if any(ord(c) < 32 or ord(c) == 127 for c in location):
        raise DeliveryError("the delivery location contains control characters")
    parts = url_parts(location)
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


def check_filename(filename: Any) -> None:
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


def check_idempotency_key(key: Any) -> None:
    if not isinstance(key, str) or not key.strip():
        raise DeliveryError("an idempotency key is required (the same one for every try of the same file)")
    if len(key) > 255 or any(not (32 < ord(c) < 127) for c in key):
        raise DeliveryError("the idempotency key must be at most 255 visible ASCII characters")


def scrubber_of(target: DeliveryTarget) -> SecretScrubber:
    """The target's password, token, passphrase and private key, in every spelling they could take."""
    scrubber = credentials_scrubber({"username": target.username or "", "password": target.password or "",
                                     "token": target.token or ""})
    scrubber.pin(target.passphrase)
    scrubber.pin(target.private_key.strip() if target.private_key else None)
    return scrubber


# --------------------------------------------------------------------------- shared plumbing
@dataclass(frozen=True)
class Call:
    """One delivery under way, as every protocol's sender gets it: what to put where, and how to word
    its result or an error (scrubbed of the target's secrets)."""

    target: DeliveryTarget
    filename: str
    data: bytes
    idempotency_key: str
    where: str  # redacted destination of the file, for messages
    scrubber: SecretScrubber
    content_type: str = "text/csv; charset=utf-8"  # what an HTTP PUT says the file is

    def error(self, reason: str, kind: str, **extra: Any) -> DeliveryError:
        return DeliveryError(self.scrubber.scrub(f"could not deliver {self.filename} to {self.where}: {reason}"),
                             kind, **extra)

    def delivered(self, status_code: int | None = None, answer: Any = None) -> Delivery:
        return Delivery(self.where, self.filename, len(self.data), status_code, answer)


def temporary_name(filename: str) -> str:
    return f".{filename}.{secrets.token_hex(4)}.part"


def tls_context() -> ssl.SSLContext:
    """The system's trust store (honours SSL_CERT_FILE/SSL_CERT_DIR), hostname checking on. Made per
    delivery: a few milliseconds against a network upload, and it sees a changed trust store."""
    return ssl.create_default_context()
