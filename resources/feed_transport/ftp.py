"""Feeds over FTP and FTPS (explicit TLS): one download attempt (`fetch_ftp`), a passive binary RETR resumed
with REST when the file still has the size it had, and the classification of an FTP failure as a
FeedTransportError naming the command under way."""
from __future__ import annotations

import ftplib
import logging
import mimetypes
import socket
import ssl
from urllib.parse import unquote, urlsplit

from marketsync.resources.feed_transport.errors import FeedTransportError
from marketsync.resources.feed_transport.settings import Settings, settings_tls
from marketsync.resources.feed_transport.sink import Attempts, Sink, TooLarge
from marketsync.resources.feed_transport.tls import FtpTls, connect_ftp, plain_login_refusal

log = logging.getLogger(__name__)


def fetch_ftp(settings: Settings, url: str, creds: dict | None, where: str, sink: Sink, state: Attempts) -> None:
    """One attempt at downloading an ftp:// or ftps:// feed into `sink`."""
    try:
        _transfer(settings, url, creds, where, sink, state)
    except ftplib.all_errors as exc:  # replies, OSError (socket, TLS), EOFError
        raise _from_ftp(settings, where, exc, state) from None


def _transfer(settings: Settings, url: str, creds: dict | None, where: str, sink: Sink, state: Attempts) -> None:
    """Passive-mode binary RETR; explicit TLS (AUTH TLS, then PROT P so the data is encrypted
    too) for ftps://. The path is walked with one CWD per segment, as RFC 1738 prescribes."""
    parsed = urlsplit(url)
    tls = parsed.scheme.lower() == "ftps"
    segments = [unquote(s) for s in parsed.path.split("/")]
    name = segments.pop().split(";type=")[0] if segments else ""
    directories = [s for s in segments if s]
    if not name:
        raise FeedTransportError(where, "the URL names a directory, not a file", "rejected")
    user = (creds or {}).get("username") or "anonymous"
    password = (creds or {}).get("password") or ("anonymous@" if user == "anonymous" else "")
    refusal = plain_login_refusal(tls, user, state.plain_ftp_login)
    if refusal:
        raise FeedTransportError(where, refusal, "rejected")
    ftp: ftplib.FTP = FtpTls(context=settings_tls(settings)) if tls else ftplib.FTP()  # noqa: S321 - FTP and FTPS are protocols merchants' feeds use; FTPS when configured
    state.content_type = mimetypes.guess_type(name)[0]
    try:
        state.step = "connect"
        connect_ftp(ftp, parsed.hostname or "", parsed.port or 21, settings.connect_timeout_seconds)
        ftp.sock.settimeout(settings.read_timeout_seconds)
        ftp.timeout = settings.read_timeout_seconds  # data connections use it
        if tls:
            state.step = "AUTH TLS"
            ftp.auth()
        state.step = "login"
        ftp.login(user, password)
        if tls:
            state.step = "PROT P"
            ftp.prot_p()
        ftp.set_pasv(True)
        for directory in directories:
            state.step = f"CWD {directory}"
            ftp.cwd(directory)
        state.step = "TYPE I"
        ftp.voidcmd("TYPE I")
        _retrieve(settings, ftp, name, where, sink, state)
        try:
            ftp.quit()
        except ftplib.all_errors:
            pass
    finally:
        ftp.close()


def _retrieve(settings: Settings, ftp: ftplib.FTP, name: str, where: str, sink: Sink, state: Attempts) -> None:
    """SIZE, then RETR `name` from the current directory into `sink`, from where the last attempt stopped."""
    state.step = f"SIZE {name}"
    try:
        size = ftp.size(name)
    except ftplib.error_perm:
        size = None  # SIZE is an extension; the transfer itself will tell
    if size is not None and size > sink.limit:
        raise TooLarge
    # Resume (REST) only if the file still has the size it had: FTP has no better validator.
    if sink.received and (size is None or size != state.ftp_size):
        sink.reset()
    state.ftp_size = size
    if sink.received:
        log.info("resuming %s at byte %d", where, sink.received)
    state.step = f"RETR {name}"
    ftp.retrbinary(f"RETR {name}", sink.write, blocksize=settings.chunk_bytes, rest=sink.received or None)
    if size is not None and sink.received != size:
        raise FeedTransportError(where, f"the transfer ended after {sink.received:,} "
                                 f"of {size:,} bytes", "broken")


def _from_ftp(settings: Settings, where: str, exc: BaseException, state: Attempts) -> FeedTransportError:
    step = state.step
    if isinstance(exc, (ftplib.error_perm, ftplib.error_temp, ftplib.error_reply)):
        return _from_reply(where, exc, step)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return FeedTransportError(where, "the FTP server's TLS certificate is not trusted", "tls")
    if isinstance(exc, ssl.SSLError):
        return FeedTransportError(where, f"TLS failed during {step.split(' ')[0]} ({exc.reason or 'handshake'})",
                                  "tls")
    if isinstance(exc, ConnectionRefusedError):
        return FeedTransportError(where, "connection refused", "unreachable")
    if isinstance(exc, TimeoutError):
        seconds = settings.connect_timeout_seconds if step == "connect" else settings.read_timeout_seconds
        return FeedTransportError(where, f"no answer within {seconds:g} s during {step.split(' ')[0]} (timeout)",
                                  "timeout")
    if isinstance(exc, ftplib.error_proto):
        return FeedTransportError(where, "the FTP server's reply makes no sense", "rejected")
    if isinstance(exc, socket.gaierror):
        return FeedTransportError(where, "the host name does not resolve", "unreachable")
    return FeedTransportError(where, f"the connection broke during {step.split(' ')[0]}", "broken")


def _from_reply(where: str, exc: BaseException, step: str) -> FeedTransportError:
    """An FTP error reply (4xx, 5xx or unexpected) to the command `step`."""
    code = str(exc)[:3]
    if code == "530" or (step == "login" and code.startswith("5")):
        return FeedTransportError(where, f"the FTP server refused the login (reply {code})", "auth")
    if code == "550" or (code == "450" and step.startswith("RETR")):
        return FeedTransportError(where, f"the FTP server has no such file or denies access to it "
                                  f"({step.split(' ')[0]} answered {code})", "not_found")
    if step == "AUTH TLS":
        return FeedTransportError(where, "the FTP server does not offer explicit TLS "
                                  f"(AUTH TLS answered {code})", "tls")
    kind = "server" if isinstance(exc, ftplib.error_temp) else "rejected"
    return FeedTransportError(where, f"the FTP server answered {code} to {step.split(' ')[0]}", kind)
