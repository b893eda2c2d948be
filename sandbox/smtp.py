"""A local SMTP server that keeps what it receives: the merchant's mail server in the demo, `make dev`
and the tests (aiosmtpd on loopback; no TLS, no login: a local relay). Each message accepted is kept in
`messages` and, when a folder is given, written there as an .eml file that any mail client opens."""
from __future__ import annotations

import email
import email.policy
import socket
import threading
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller


class MailRecorder:
    """An aiosmtpd handler that keeps what it accepts. `replies`: answers to give to the next messages
    instead of accepting them ("451 ..." or "550 ..."); `always`: an answer given to every message."""

    def __init__(self, folder: Path | None = None) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.replies: list[str] = []
        self.always: str | None = None
        self.folder = folder
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's hook name
        if self.always:
            return self.always
        if self.replies:
            return self.replies.pop(0)
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        with self._lock:
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self.messages.append(message)
            if self.folder is not None:
                self.folder.mkdir(parents=True, exist_ok=True)
                (self.folder / f"{len(self.messages):05d}.eml").write_bytes(raw)
        return "250 OK: queued"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpServer:
    """A running local SMTP server: `endpoint` (smtp://127.0.0.1:PORT), `recorder`, `stop()`; a context
    manager."""

    def __init__(self, port: int = 0, folder: Path | None = None) -> None:
        self.recorder = MailRecorder(folder)
        self.port = port or free_port()
        self._controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    @property
    def endpoint(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:  # what the demo's simulator list prints
        return self.endpoint

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> SmtpServer:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
