"""Feed URLs and their credentials: reading a URL that may be malformed, hiding its secrets (`redact`),
taking the credentials out of it (`split_credentials`), and the scrubber of those credentials.

Credentials arrive in the URL (RFC 1738: `ftp://user:p%40ss@host:21/exports/feed.csv`) or separately;
whatever shows a URL in a log line, an error or a return value shows it through `redact` (`user:***@host`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, unquote

from marketsync.resources.errors import MarketsyncError
from marketsync.resources.scrubbing import SecretScrubber

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*")
# Query parameters that carry secrets in feed URLs more often than not (`?token=`, `?apikey=`,
# signed-URL signatures); their values are hidden like a password.
_SECRET_PARAM = re.compile(r"pass|pwd|secret|token|key|sig|auth|credential|session", re.I)


@dataclass(frozen=True)
class UrlParts:
    prefix: str  # "scheme://", as written
    userinfo: str | None  # percent-encoded, as written
    hostport: str
    tail: str  # path, query and fragment, as written


def _first(text: str, chars: str, start: int = 0) -> int:
    found = [i for i in (text.find(c, start) for c in chars) if i != -1]
    return min(found) if found else len(text)


def _port_ok(hostport: str) -> bool:
    """True when `hostport` is a plausible host[:port]: a non-numeric "port" means a password that
    was pasted without percent-encoding has swallowed the real host."""
    if hostport.startswith("["):
        close = hostport.find("]")
        rest = hostport[close + 1:] if close != -1 else ":x"
    else:
        rest = hostport[hostport.find(":"):] if ":" in hostport else ""
    return rest == "" or (rest.startswith(":") and rest[1:].isdigit()) or rest == ":"


def url_parts(url: str) -> UrlParts | None:
    """Splits a URL without trusting it to be well-formed; None when it has no `scheme://`.

    RFC 3986 wants reserved characters in a password percent-encoded, but people paste them raw.
    When the strict reading gives an implausible host (`user:p@ss:w/rd@host` reads as host `ss:w`),
    the userinfo is taken to run to the last '@' before the query: over-hiding beats leaking."""
    scheme, sep, rest = url.partition("://")
    if not sep or not _SCHEME.fullmatch(scheme):
        return None
    prefix = url[: len(scheme) + 3]
    end = _first(rest, "/?#")
    authority = rest[:end]
    if "@" not in authority and _port_ok(authority):
        return UrlParts(prefix, None, authority, rest[end:])
    at = authority.rfind("@")
    if at != -1 and _port_ok(authority[at + 1:]) and authority[at + 1:]:
        return UrlParts(prefix, authority[:at], authority[at + 1:], rest[end:])
    at = rest.rfind("@", 0, _first(rest, "?#"))
    if at == -1:
        return UrlParts(prefix, "", "", "")  # unreadable: hide all of it
    after = rest[at + 1:]
    end = _first(after, "/?#")
    if not _port_ok(after[:end]):
        return UrlParts(prefix, "", "", "")
    return UrlParts(prefix, rest[:at], after[:end], after[end:])


def _redact_query(tail: str) -> str:
    path, q, rest = tail.partition("?")
    if not q:
        return tail
    query, hash_, fragment = rest.partition("#")
    params = []
    for param in query.split("&"):
        name, eq, _ = param.partition("=")
        params.append(f"{name}=***" if eq and _SECRET_PARAM.search(unquote(name)) else param)
    return f"{path}?{'&'.join(params)}{hash_}{fragment}"


def redact(url: str) -> str:
    """The URL as it may be shown anywhere: `ftp://user:***@host/path`, secret-looking query values
    as `***`. A local path comes back unchanged; a URL too malformed to read is hidden whole."""
    parts = url_parts(url)
    if parts is None:
        return url
    if parts.userinfo == "" and not parts.hostport:
        return parts.prefix + "***"
    userinfo = ""
    if parts.userinfo is not None:
        user, colon, _ = parts.userinfo.partition(":")
        # A user without a password is often a token (`https://TOKEN@host`): hide it whole.
        userinfo = f"{user}:***@" if colon else "***@"
    return f"{parts.prefix}{userinfo}{parts.hostport}{_redact_query(parts.tail)}"


def split_credentials(url: str) -> tuple[str, dict[str, str] | None]:
    """`(url_without_credentials, {"username", "password"})`, the values percent-decoded per RFC 1738
    (`%40` is '@'; '+' stays '+'), or `(url, None)` when the URL carries none. The project stores the
    first in plain text and the second encrypted."""
    parts = url_parts(url)
    if parts is None or parts.userinfo is None:
        return url, None
    if not parts.hostport:
        raise MarketsyncError(f"the feed URL {redact(url)} cannot be read: percent-encode "
                              "the reserved characters ('/', '?', '#') in its password")
    user, _, password = parts.userinfo.partition(":")
    return f"{parts.prefix}{parts.hostport}{parts.tail}", {"username": unquote(user), "password": unquote(password)}


def credentials_scrubber(*credentials: dict[str, str] | None) -> SecretScrubber:
    """A scrubber of every password and token in `credentials` ({"username", "password"} or {"token"}),
    in every spelling (resources/scrubbing.py), the Basic pair with the username included."""
    scrubber = SecretScrubber()
    for creds in credentials:
        for name in ("password", "token", "bearer_token"):
            scrubber.pin((creds or {}).get(name), username=(creds or {}).get("username") or "")
    return scrubber


def shown_as(bare: str, creds: dict | None) -> str:
    """The URL as shown in logs and errors, with the user that is logging in (if any)."""
    shown = redact(bare)
    parts = url_parts(bare)
    if parts is None or not creds or not (creds.get("username") or creds.get("token") or creds.get("bearer_token")):
        return shown
    user = quote(creds.get("username") or "", safe="")
    # A user without a password is usually a token in disguise (`https://TOKEN@host`).
    at = f"{user}:***@" if user and creds.get("password") else "***@"
    return shown.replace(parts.prefix, parts.prefix + at, 1)
