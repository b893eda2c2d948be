"""Writing one download to disk: the partial file (`Sink`), streaming gzip inflation (`Gunzip`), the size
cap (`TooLarge`), a refused write (`WriteFailed`), and what a download remembers between its attempts
(`Attempts`) so that a broken transfer resumes rather than restarts."""
from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

_GZIP_MAGIC = b"\x1f\x8b"


class TooLarge(Exception):
    """The feed is over the size limit (max_download_bytes): never worth a retry."""


class WriteFailed(Exception):
    """The local disk refused a write (full, read-only): never worth a retry."""

    def __init__(self, error: OSError):
        super().__init__(error.strerror or type(error).__name__)


class Gunzip:
    """Streaming gzip inflation, multi-member files included, with bounded output per step so a
    small compressed chunk cannot balloon in memory (a decompression bomb hits the size limit
    one megabyte at a time instead)."""

    STEP = 1 << 20

    def __init__(self) -> None:
        self._inflater = zlib.decompressobj(wbits=31)
        self._started = False
        self._done = False  # finished a member and saw nothing after it yet

    def feed(self, data: bytes) -> Iterator[bytes]:
        while data:
            if self._done:
                if not data.startswith(_GZIP_MAGIC[: len(data)]):
                    return  # trailing padding some tools append: not another member
                self._inflater, self._done = zlib.decompressobj(wbits=31), False
            self._started = True
            piece = self._inflater.decompress(data, self.STEP)
            if piece:
                yield piece
            if self._inflater.eof:
                self._done = True
                data = self._inflater.unused_data
            else:
                data = self._inflater.unconsumed_tail

    def finish(self) -> bytes:
        if self._done or not self._started:
            return b""
        tail = self._inflater.flush()
        if not self._inflater.eof:
            raise zlib.error("the gzip stream ends early")
        return tail


class Sink:
    """The partial file of one download. Counts the bytes received (where a resumed attempt picks
    up), inflates a gzip payload unless the destination is itself named *.gz, and stops at the
    size limit, which therefore also bounds what a gzip bomb can write."""

    def __init__(self, path: Path, limit: int, inflate: bool):
        self.path, self.limit, self._inflate = path, limit, inflate
        self._file = open(path, "wb")  # noqa: SIM115 - kept on the sink across writes; close() closes it
        self.received = 0
        self.written = 0
        self._head = b""
        self._gunzip: Gunzip | None = None
        self._decided = False

    @property
    def inflating(self) -> bool:
        return self._gunzip is not None

    def write(self, chunk: bytes) -> None:
        self.received += len(chunk)
        if not self._decided:
            self._head += chunk
            if len(self._head) < len(_GZIP_MAGIC):
                return
            chunk, self._head, self._decided = self._head, b"", True
            if self._inflate and chunk.startswith(_GZIP_MAGIC):
                self._gunzip = Gunzip()
        if self._gunzip is None:
            self._emit(chunk)
        else:
            for piece in self._gunzip.feed(chunk):
                self._emit(piece)

    def _emit(self, data: bytes) -> None:
        if self.written + len(data) > self.limit:
            raise TooLarge
        try:
            self._file.write(data)
        except OSError as exc:
            raise WriteFailed(exc) from None
        self.written += len(data)

    def finish(self) -> None:
        if self._head:
            self._emit(self._head)
            self._head = b""
        if self._gunzip is not None:
            self._emit(self._gunzip.finish())
        self._file.close()

    def reset(self) -> None:
        """Start over: the server would not resume, or the file changed under us."""
        self._file.seek(0)
        self._file.truncate()
        self.received = self.written = 0
        self._head, self._gunzip, self._decided = b"", None, False

    def discard(self) -> None:
        self._file.close()
        self.path.unlink(missing_ok=True)


@dataclass
class Attempts:
    """What one download remembers between attempts, to resume rather than restart."""

    validator: str | None = None  # HTTP strong ETag or Last-Modified of the first response
    resumable: bool = False
    ftp_size: int | None = None
    content_type: str | None = None
    count: int = 0
    step: str = "connect"  # the FTP command under way, for error messages
    plain_ftp_login: bool = False  # the feed says its FTP login may cross the network unencrypted
