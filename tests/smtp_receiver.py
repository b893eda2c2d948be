"""The local SMTP server the e-mail tests deliver to (marketsync.sandbox.smtp): import it as
`from smtp_receiver import Recorder, free_port, serving`."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from marketsync.sandbox.smtp import MailRecorder as Recorder
from marketsync.sandbox.smtp import SmtpServer, free_port

__all__ = ["Recorder", "free_port", "serving"]


@contextmanager
def serving() -> Iterator[tuple[Recorder, str]]:
    """A plain SMTP server on loopback (a local relay: no TLS, no login): (its recorder, its endpoint)."""
    with SmtpServer() as server:
        yield server.recorder, server.endpoint
