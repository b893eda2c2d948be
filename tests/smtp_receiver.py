"""A real SMTP server on loopback (aiosmtpd) that keeps what it accepts, for the tests that deliver
e-mail: import it as `from smtp_receiver import Recorder, free_port, serving`."""
from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from contextlib import contextmanager

from aiosmtpd.controller import Controller


class Recorder:
    """An SMTP handler that keeps what it accepts. `replies`: answers to give to the next messages
    instead of accepting them ("451 ..." or "550 ..."); `always`: an answer given to every message."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.replies: list[str] = []
        self.always: str | None = None

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's hook name
        if self.always:
            return self.always
        if self.replies:
            return self.replies.pop(0)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(email.message_from_bytes(envelope.original_content or envelope.content,
                                                      policy=email.policy.default))
        return "250 OK: queued"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving() -> Iterator[tuple[Recorder, str]]:
    """A plain SMTP server on loopback (a local relay: no TLS, no login): (its recorder, its endpoint)."""
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield recorder, f"smtp://127.0.0.1:{controller.port}"
    finally:
        controller.stop()
