"""A small SMTP client over the standard library's `smtplib`: one session to a server named by an
`smtp://host:port` or `smtps://host:port` URL, STARTTLS or implicit TLS (certificates verified, against a
given CA file when one is set), a login when credentials are given, messages sent as
`email.message.EmailMessage`, every step bounded by a timeout.

A failure is an `SmtpError` whose `kind` says whether a later try can succeed: `unreachable` (refused,
no route, a dropped connection before the message went out), `timeout`, `temporary` (a 4xx reply) and
`outcome_unknown` (the connection broke while the message was being sent: it may have arrived) are
transient; `rejected` (a 5xx reply), `auth` (the login was refused), `tls` (no STARTTLS offered, a
certificate that does not verify) and `config` (an endpoint we cannot use) are permanent. The password
never appears in an error: each is scrubbed with the session's `SecretScrubber`. No schema knowledge here.
"""
from __future__ import annotations

import smtplib
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from urllib.parse import urlsplit

from dagster import ConfigurableResource

from marketsync.resources.errors import first_line
from marketsync.resources.http_retry import HttpCallError
from marketsync.resources.scrubbing import SecretScrubber
from marketsync.resources.url_policy import UrlRefused, connect_checked

SECURITY = ("starttls", "tls", "none")
DEFAULT_TIMEOUT_SECONDS = 30.0
_DEFAULT_PORTS = {"smtp": 25, "smtps": 465}


class SmtpError(HttpCallError):
    """A failed SMTP step (see the module's docstring for the kinds). `code`: the server's reply code,
    when it gave one."""

    TRANSIENT = frozenset({"unreachable", "timeout", "temporary", "outcome_unknown"})

    def __init__(self, message: str, kind: str, *, code: int | None = None):
        super().__init__(message, kind)
        self.code = code


def parse_endpoint(endpoint: str, security: str = "starttls") -> tuple[str, int, str]:
    """(host, port, security) of an `smtp://` or `smtps://` URL. `smtps://` is implicit TLS whatever
    `security` says; `smtp://` takes `security` ("starttls", "tls" for implicit TLS, or "none")."""
    parts = urlsplit(endpoint or "")
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise SmtpError(f"SMTP endpoint '{_without_userinfo(endpoint)}' is not an smtp://host:port or "
                        "smtps://host:port URL", "config")
    if parts.username or parts.password:
        raise SmtpError("the SMTP endpoint must not hold a login: store it with `marketsync credentials set`",
                        "config")
    if security not in SECURITY:
        raise SmtpError(f"SMTP security '{security}' is not one of {', '.join(SECURITY)}", "config")
    try:
        port = parts.port or _DEFAULT_PORTS[parts.scheme]
    except ValueError:
        raise SmtpError(f"SMTP endpoint '{endpoint}' has an invalid port", "config") from None
    return parts.hostname, port, "tls" if parts.scheme == "smtps" else security


class _PolicySmtp(smtplib.SMTP):
    """smtplib's client, its socket opened through the outbound URL policy (resources.url_policy): the host
    resolved once, every address and the peer checked. TLS still verifies the host name."""

    def _get_socket(self, host, port, timeout):  # smtplib's hook for the connection (SMTP_SSL wraps it)
        return connect_checked(host, port, timeout, self.source_address, "the SMTP server")


class _PolicySmtpSsl(smtplib.SMTP_SSL, _PolicySmtp):
    """Implicit TLS over the policy's socket: SMTP_SSL wraps what `_PolicySmtp` opened."""


def _without_userinfo(endpoint: str) -> str:
    parts = urlsplit(endpoint or "")
    return endpoint if not parts.password else endpoint.replace(parts.netloc, parts.hostname or "")


def tls_context(ca_file: str | None = None) -> ssl.SSLContext:
    """A verifying client context: the system's trusted CAs, or only `ca_file`'s when given."""
    context = ssl.create_default_context(cafile=ca_file) if ca_file else ssl.create_default_context()
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


class SmtpSession:
    """One open, greeted (and, when credentials were given, logged-in) SMTP connection."""

    def __init__(self, smtp: smtplib.SMTP, where: str, scrubber: SecretScrubber):
        self._smtp = smtp
        self.where = where
        self._scrubber = scrubber

    def send(self, message: EmailMessage) -> dict[str, object]:
        """Send `message` to the recipients its headers name; returns the refused recipients (empty when
        every one was accepted). All refused: an SmtpError."""
        try:
            refused = self._smtp.send_message(message)
        except Exception as exc:  # every failure is classified into an SmtpError
            raise _classified(exc, self.where, "sending the message", self._scrubber, data_sent=True) from None
        return {"refused": {rcpt: f"{code} {first_line(_text(reply))}" for rcpt, (code, reply) in refused.items()}}

    def noop(self) -> None:
        """An SMTP NOOP: the server answers 250 when the session is alive."""
        try:
            code, reply = self._smtp.noop()
        except Exception as exc:  # every failure is classified into an SmtpError
            raise _classified(exc, self.where, "NOOP", self._scrubber) from None
        if code != 250:
            raise _reply_error(code, reply, self.where, "NOOP", self._scrubber)


@contextmanager
def smtp_session(endpoint: str, *, security: str = "starttls", username: str | None = None,
                 password: str | None = None, timeout: float = DEFAULT_TIMEOUT_SECONDS,
                 ca_file: str | None = None, local_hostname: str | None = None) -> Iterator[SmtpSession]:
    """An SMTP session to `endpoint`: connected, secured as `security` says (never falling back to plain
    text when STARTTLS is asked for and not offered), logged in when `username` and `password` are given.
    The connection is closed (QUIT) when the block ends."""
    host, port, security = parse_endpoint(endpoint, security)
    where = f"SMTP server {host}:{port}"
    scrubber = SecretScrubber(password, username=username)
    if username and password:
        scrubber.pin(f"\0{username}\0{password}")  # AUTH PLAIN's base64 of the login
    context = tls_context(ca_file) if security != "none" else None
    smtp: smtplib.SMTP | None = None
    step = "connecting"
    try:
        if security == "tls":
            smtp = _PolicySmtpSsl(host, port, local_hostname=local_hostname, timeout=timeout, context=context)
        else:
            smtp = _PolicySmtp(host, port, local_hostname=local_hostname, timeout=timeout)
        step = "EHLO"
        smtp.ehlo()
        if security == "starttls":
            step = "STARTTLS"
            if not smtp.has_extn("starttls"):
                raise SmtpError(f"{where} does not offer STARTTLS: the login and message are not sent in "
                                "plain text (set security=tls for implicit TLS, or use an smtps:// endpoint)",
                                "tls")
            smtp.starttls(context=context)
            smtp.ehlo()
        if username and password:
            step = "login"
            smtp.login(username, password)
    except SmtpError:
        _close(smtp)
        raise
    except UrlRefused as exc:
        _close(smtp)
        raise SmtpError(str(exc), "config") from None
    except Exception as exc:  # every failure is classified into an SmtpError
        _close(smtp)
        raise _classified(exc, where, step, scrubber) from None
    try:
        yield SmtpSession(smtp, where, scrubber)
    finally:
        _close(smtp)


def _close(smtp: smtplib.SMTP | None) -> None:
    if smtp is None:
        return
    try:
        smtp.quit()
    except Exception:  # the session is over either way; a failed QUIT changes nothing
        smtp.close()


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _reply_error(code: int, reply: bytes | str, where: str, step: str, scrubber: SecretScrubber,
                 auth: bool = False) -> SmtpError:
    text = first_line(_text(reply))
    if 400 <= code < 500:
        kind = "temporary"
    elif auth:
        kind = "auth"
    else:
        kind = "rejected"
    what = "refused the login" if auth and kind == "auth" else "answered"
    return SmtpError(f"{where} {what} at {step}: {code} {text}", kind, code=code).scrubbed(scrubber)


def _classified(exc: BaseException, where: str, step: str, scrubber: SecretScrubber,
                data_sent: bool = False) -> SmtpError:
    """The SmtpError a failure of `step` is. `data_sent`: the message may have left (a dropped
    connection or a timeout then leaves its outcome unknown)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        replies = list(exc.recipients.values())
        code, reply = next(((c, r) for c, r in replies if 400 <= c < 500), replies[0] if replies else (550, b""))
        return _reply_error(code, reply, where, "RCPT TO", scrubber)
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return _reply_error(exc.smtp_code, exc.smtp_error, where, step, scrubber, auth=True)
    if isinstance(exc, smtplib.SMTPResponseException):
        return _reply_error(exc.smtp_code, exc.smtp_error, where, step, scrubber)
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return SmtpError(f"{where} does not support {step}: {first_line(exc)}", "config").scrubbed(scrubber)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return SmtpError(f"{where}: its TLS certificate does not verify ({exc.verify_message})", "tls")
    if isinstance(exc, ssl.SSLError):
        return SmtpError(f"{where}: TLS failed at {step} ({first_line(exc.reason or exc)})", "tls")
    if isinstance(exc, TimeoutError | socket.timeout):
        kind = "outcome_unknown" if data_sent else "timeout"
        return SmtpError(f"{where} did not answer in time at {step}", kind)
    if isinstance(exc, ConnectionRefusedError):
        return SmtpError(f"{where} is unreachable: it refused the connection", "unreachable")
    if isinstance(exc, smtplib.SMTPServerDisconnected | ConnectionError):
        kind = "outcome_unknown" if data_sent else "unreachable"
        return SmtpError(f"{where} closed the connection at {step}: {first_line(exc) or type(exc).__name__}",
                         kind).scrubbed(scrubber)
    if isinstance(exc, OSError):
        return SmtpError(f"{where} is unreachable ({exc.strerror or type(exc).__name__})", "unreachable")
    if isinstance(exc, smtplib.SMTPException):
        return SmtpError(f"{where} failed at {step}: {first_line(exc)}", "rejected").scrubbed(scrubber)
    return SmtpError(f"{where} failed at {step}: {type(exc).__name__}", "outcome_unknown" if data_sent else
                     "unreachable")


class SmtpResource(ConfigurableResource):
    """The e-mail channel's client: opens sessions to a store's SMTP server (its e-mail account's
    endpoint; the login from the vault). `timeout_seconds` bounds each step when the account sets none."""

    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS

    def session(self, endpoint: str, *, security: str = "starttls", username: str | None = None,
                password: str | None = None, timeout: float | None = None,
                ca_file: str | None = None):
        return smtp_session(endpoint, security=security, username=username, password=password,
                            timeout=timeout or self.timeout_seconds, ca_file=ca_file)
