"""Writing one download to disk: the partial file (`Sink`), streaming gzip inflation (`Gunzip`) under the
ratio cap of resources.inflation, the size cap (`TooLarge`, `SizeLimit`: the cap and the setting that
set it), a refused write (`WriteFailed`), and what a download remembers between its attempts
(`Attempts`) so that a broken transfer resumes rather than restarts."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from marketsync.resources.errors import MarketsyncError
from marketsync.resources.inflation import DEFAULT_MAX_RATIO, GZIP_WBITS, STEP, Inflater

_GZIP_MAGIC = b"\x1f\x8b"
MIB = 1 << 20
# Every feed's download cap unless its own settings say otherwise (max_download_mb): the 1,000,000-row
# benchmark's files are 204 MB (Shopify CSV) to 673 MB (XML), so 2 GiB is three times the largest.
MAX_DOWNLOAD_ENV = "MARKETSYNC_FEED_MAX_DOWNLOAD_MB"
DEFAULT_MAX_DOWNLOAD_MB = 2048


@dataclass(frozen=True)
class SizeLimit:
    """A download's cap in bytes (what is written, inflated) and the setting that set it, for messages."""

    bytes: int
    setting: str

    def reason(self) -> str:
        """Why a feed over this limit is refused, and what raises it."""
        return (f"the feed is larger than the {size_text(self.bytes)} limit ({self.setting}); raise it for this feed "
                f"with its max_download_mb setting, or for every feed with {MAX_DOWNLOAD_ENV}")


def default_size_limit(configured: int | None = None) -> SizeLimit:
    """The cap of a feed whose settings name none: `configured` (the resource's max_download_bytes), else
    MARKETSYNC_FEED_MAX_DOWNLOAD_MB, else 2,048 MB."""
    if configured is not None:
        return SizeLimit(int(configured), "max_download_bytes")
    text = os.environ.get(MAX_DOWNLOAD_ENV, "").strip()
    try:
        mb = float(text) if text else DEFAULT_MAX_DOWNLOAD_MB
    except ValueError:
        mb = -1.0
    if not mb > 0:
        raise MarketsyncError(f"{MAX_DOWNLOAD_ENV} must be a positive number of megabytes, not '{text}'")
    return SizeLimit(int(mb * MIB), MAX_DOWNLOAD_ENV)


def size_text(size: int) -> str:
    """A size as limits are set: whole megabytes (of 1,048,576 bytes), or bytes below one."""
    if size >= MIB:
        return f"{size / MIB:,.{0 if size % MIB == 0 else 1}f} MB"
    return f"{size:,} byte"


class TooLarge(Exception):
    """The feed is over the size limit (the download's max bytes): never worth a retry."""


class WriteFailed(Exception):
    """The local disk refused a write (full, read-only): never worth a retry."""

    def __init__(self, error: OSError):
        super().__init__(error.strerror or type(error).__name__)


class Gunzip(Inflater):
    """Streaming gzip inflation of a .gz payload, multi-member files included, with bounded output per
    step (one megabyte) and the ratio cap of resources.inflation, so a decompression bomb is refused
    after its first megabytes instead of ballooning in memory or on disk."""

    STEP = STEP

    def __init__(self, max_ratio: float | None = DEFAULT_MAX_RATIO) -> None:
        super().__init__(GZIP_WBITS, max_ratio=max_ratio, multi_member=True, strict=True)


class Sink:
    """The partial file of one download. Counts the bytes received (where a resumed attempt picks
    up), inflates a gzip payload unless the destination is itself named *.gz, and stops at the
    size limit, which therefore also bounds what a gzip bomb can write; the bomb is refused sooner by
    the ratio cap (`max_ratio`, InflateRatioExceeded) of the inflation."""

    def __init__(self, path: Path, limit: int, inflate: bool, max_ratio: float | None = DEFAULT_MAX_RATIO):
        self.path, self.limit, self._inflate, self._max_ratio = path, limit, inflate, max_ratio
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
                self._gunzip = Gunzip(self._max_ratio)
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
