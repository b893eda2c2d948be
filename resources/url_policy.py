"""The one outbound URL policy: which URLs a user may configure, and which addresses the process may
connect to on their behalf.

Store managers configure URLs: feed locations, channel endpoints, delivery targets, alert webhooks, the
SMTP server. A URL field must not be a way into the server or the network it sits in (server-side
request forgery), so every such URL passes two checks, both here:

- **when it is configured** (`check_url`): its scheme is one we speak to remote servers (http, https,
  ftp, ftps, sftp, and smtp/smtps for the mail server): never file, data, gopher, jar and the like; a
  literal IP address, or a host name that already resolves, must not be an internal address;
- **at every connection** (`connect_checked`; for httpx, resources/http_transport.py's network backend):
  the host name is resolved once, *every* address it resolves to must be allowed, the connection goes
  to one of exactly those addresses (no second lookup, so DNS rebinding cannot slip an internal
  address in between the check and the connect), and the address actually connected is checked again.
  An HTTP redirect is a new connection, so it is checked the same way.

Refused address classes, IPv4 and IPv6 (an IPv4 address inside IPv6, mapped or 6to4, is judged as the
IPv4 address it carries): loopback, private (10/8, 172.16/12, 192.168/16, fc00::/7), link-local
(169.254/16, fe80::/10), shared (carrier-grade NAT, 100.64/10), multicast, unspecified (0.0.0.0, ::),
reserved and other non-global ranges, and the cloud metadata addresses (169.254.169.254, fd00:ec2::254).

A deployment allows what it needs with one setting, ``MARKETSYNC_ALLOW_PRIVATE_URLS``: comma-separated
CIDRs (``10.20.0.0/16``, ``127.0.0.1/32``, ``::1/128``) or host names (``ftp.corp.example``; a leading
dot, ``.corp.example``, allows every name under it). The demo, ``make dev`` and the tests set it for
loopback, where the simulators listen. The setting is read at each check, so it needs no restart.

A refusal (`UrlRefused`) names the rule and the setting, and the host as configured; it never shows
anything read from the destination.
"""
from __future__ import annotations

import functools
import ipaddress
import os
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from marketsync.resources.errors import MarketsyncError

SETTING = "MARKETSYNC_ALLOW_PRIVATE_URLS"
# Local folders a feed may be read from or a file delivered to (file:// or a plain path); none by default.
LOCAL_DIRS_SETTING = "MARKETSYNC_LOCAL_FILE_DIRS"
# The schemes of URLs to remote servers that marketsync speaks.
REMOTE_SCHEMES = frozenset({"http", "https", "ftp", "ftps", "sftp", "smtp", "smtps"})
FEED_SCHEMES = ("http", "https", "ftp", "ftps")
# Cloud instance metadata services: AWS, GCP, Azure, OpenStack on 169.254.169.254; AWS's IPv6 one.
METADATA = frozenset({ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")})
_SHARED = ipaddress.ip_network("100.64.0.0/10")

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# (host, port) -> the addresses it resolves to, in the order to try them. Replaced in tests by a stub,
# so that rules about other addresses are tested without ever connecting to them.
Resolver = Callable[[str, int], list[str]]


class UrlRefused(MarketsyncError):
    """A URL or an address the outbound URL policy refuses: `rule` names which rule."""

    def __init__(self, message: str, rule: str):
        super().__init__(message)
        self.rule = rule


def _system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]).split("%")[0] for info in infos))


_resolver: Resolver = _system_resolver


def use_resolver(resolver: Resolver | None) -> None:
    """Tests: resolve host names with `resolver` (None: the system's again)."""
    global _resolver
    _resolver = resolver or _system_resolver


# ------------------------------------------------------------------------------------ the allow list
@dataclass(frozen=True)
class Allowed:
    """What MARKETSYNC_ALLOW_PRIVATE_URLS allows: networks, exact host names, name suffixes."""

    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    hosts: frozenset[str] = frozenset()
    suffixes: tuple[str, ...] = ()

    def host(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        return host in self.hosts or any(host.endswith(suffix) for suffix in self.suffixes)

    def address(self, address: IpAddress) -> bool:
        return any(address in network for network in self.networks)


@functools.lru_cache(maxsize=8)
def _parse_allowed(text: str) -> Allowed:
    networks, hosts, suffixes = [], set(), []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item.strip("[]"), strict=False))
            continue
        except ValueError:
            pass
        name = item.lower().rstrip(".")
        if not name.replace(".", "").replace("-", "").replace("_", "").isalnum():
            raise MarketsyncError(f"{SETTING} holds '{item}', which is neither a CIDR nor a host name")
        if name.startswith("."):
            suffixes.append(name)
        else:
            hosts.add(name)
    return Allowed(tuple(networks), frozenset(hosts), tuple(suffixes))


def allowed() -> Allowed:
    """The deployment's allow list, as the environment says now."""
    return _parse_allowed(os.environ.get(SETTING, ""))


# ------------------------------------------------------------------------------------ addresses
def address_rule(address: IpAddress) -> str | None:
    """The rule that refuses `address` by default ("loopback", "private", ...), or None for a public one."""
    if isinstance(address, ipaddress.IPv6Address):
        carried = address.ipv4_mapped or address.sixtofour
        if carried is not None:
            return address_rule(carried)
    if address in METADATA:
        return "cloud metadata"
    checks = (("unspecified", address.is_unspecified), ("loopback", address.is_loopback),
              ("link-local", address.is_link_local), ("multicast", address.is_multicast),
              ("shared (carrier-grade NAT)", isinstance(address, ipaddress.IPv4Address) and address in _SHARED),
              ("reserved", address.is_reserved), ("private", address.is_private),
              ("not globally routable", not address.is_global))
    return next((rule for rule, hit in checks if hit), None)


def _refusal(host: str, rule: str, what: str) -> UrlRefused:
    prefix = f"{what}: " if what else ""  # a connection's refusal is worded by whoever made it
    return UrlRefused(f"{prefix}the host {host!r} is or resolves to a {rule} address, which marketsync does not "
                      f"connect to unless the deployment allows it (add the network or the host name to {SETTING})",
                      rule)


def check_address(host: str, address: str, what: str = "the URL") -> None:
    """Refuses `address` (what `host` resolved to, or the address connected) unless it is public or allowed."""
    ip = ipaddress.ip_address(address.split("%")[0])
    rule = address_rule(ip)
    if rule is None:
        return
    permitted = allowed()
    if permitted.address(ip) or permitted.host(host):
        return
    raise _refusal(host, rule, what)


def checked_addresses(host: str, port: int, what: str = "the URL") -> list[str]:
    """The addresses `host` resolves to, once, when every one of them is allowed; else UrlRefused. A host
    that does not resolve raises OSError (socket.gaierror), as a connect would."""
    literal = _literal(host)
    addresses = [literal] if literal is not None else _resolver(host, port)
    if not addresses:
        raise socket.gaierror(socket.EAI_NONAME, "the host name does not resolve")
    for address in addresses:
        check_address(host, address, what)
    return addresses


def _literal(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host.strip("[]").split("%")[0]))
    except ValueError:
        return None


# ------------------------------------------------------------------------------------ URLs
def scheme_of(url: str) -> str | None:
    scheme, sep, _ = url.partition("://")
    return scheme.lower() if sep and scheme.replace("+", "").replace("-", "").replace(".", "").isalnum() else None


def check_url(url: str, schemes: Iterable[str] = REMOTE_SCHEMES, what: str = "the URL") -> None:
    """Checks a URL as it is configured: its scheme is one of `schemes` (always a subset of REMOTE_SCHEMES),
    it names a host, and that host is no refused address. A name that does not resolve now passes: the
    connection checks again, and a server may be unreachable from where the URL is typed."""
    permitted = [s for s in schemes if s in REMOTE_SCHEMES]
    scheme = scheme_of(url) or (urlsplit(url).scheme.lower() if ":" in url else "")
    if scheme not in permitted:
        shown = f"'{scheme}'" if scheme and scheme.isascii() and scheme.isalnum() else "no network scheme"
        raise UrlRefused(f"{what} has {shown}: only {', '.join(permitted)} URLs are allowed (local files and "
                         "other schemes are refused)", "scheme")
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        raise UrlRefused(f"{what} cannot be read: its host or port is malformed", "malformed") from None
    if not host:
        raise UrlRefused(f"{what} names no host", "malformed")
    try:
        checked_addresses(host, port or 0, what)
    except (OSError, UnicodeError):
        pass  # does not resolve (yet): checked again at every connection


def check_local_path(path: str, what: str = "the location") -> Path:
    """The real path of a local file or folder (a `file://` URL or a plain path, symbolic links resolved)
    when it lies inside one of the folders MARKETSYNC_LOCAL_FILE_DIRS names; else UrlRefused. Without
    the setting no local path is allowed: /proc/self/environ or /etc/passwd are files too."""
    if scheme_of(path) == "file":
        parts = urlsplit(path)
        if parts.netloc not in ("", "localhost"):
            raise UrlRefused(f"{what}: a file:// URL must name a local path", "scheme")
        path = unquote(parts.path)  # (a POSIX path: what url2pathname gives)
    real = Path(os.path.realpath(path))
    folders = [Path(os.path.realpath(d.strip())) for d in os.environ.get(LOCAL_DIRS_SETTING, "").split(",")
               if d.strip()]
    if not any(real == folder or folder in real.parents for folder in folders):
        raise UrlRefused(f"{what} is a local path outside the folders marketsync may read and write (the "
                         f"deployment names them in {LOCAL_DIRS_SETTING}); use an http(s), ftp(s) or sftp URL",
                         "local file")
    return real


def check_location(location: str, schemes: Iterable[str], what: str) -> None:
    """A location that is a URL or a local path, as a feed or a delivery takes it: `file://` URLs and
    plain paths through `check_local_path`, anything else with a scheme through `check_url` (so `data:`
    and its kind are refused as schemes)."""
    scheme = scheme_of(location) or (urlsplit(location).scheme.lower() if ":" in location else "")
    if scheme in ("", "file") or len(scheme) == 1:  # (a one-letter scheme is a drive: a path)
        check_local_path(location, what)
    else:
        check_url(location, schemes, what)


# ------------------------------------------------------------------------------------ connecting
def connect_checked(host: str, port: int, timeout: float | None = None,
                    source_address: tuple[str, int] | None = None, what: str = "the connection") -> socket.socket:
    """A TCP connection to `host`:`port` through the policy: resolved once, every address checked, each
    tried in turn, the peer checked once connected. For clients that open their own sockets (FTP, SMTP,
    SFTP)."""
    last: OSError | None = None
    for address in checked_addresses(host, port, what):
        try:
            sock = socket.create_connection((address, port), timeout, source_address)
        except OSError as exc:
            last = exc
            continue
        try:
            check_address(host, sock.getpeername()[0], what)
        except UrlRefused:
            sock.close()
            raise
        return sock
    raise last or OSError("no address to connect to")
