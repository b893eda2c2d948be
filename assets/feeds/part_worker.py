"""A parse worker: reads one part of a feed file and sends its COPY text and bad rows to the loader
(see `parallel`). Run as `python -m assets.feeds.part_worker FD`, FD a connection the loader passed.

Messages to the loader: ("rows", COPY text, row count), ("bad", position, raw text, reason),
("end", first record (position, raw), boundary record (position, raw) or None, rows skipped),
("error", message).
"""
from __future__ import annotations

import io
import os
import sys
from multiprocessing.connection import Connection
from typing import IO, Any

from marketsync.assets.feeds.staging import ALL_BAD_ABORT_ROWS, Stager, prepare, stop_at
from marketsync.resources.errors import MarketsyncError


class _Spliced(io.RawIOBase):
    """Bytes [0, head_end) of a file, then bytes [start, end of file): a later part behind the file's head."""

    def __init__(self, f: IO[bytes], head_end: int, start: int):
        super().__init__()
        self._f = f
        f.seek(0)
        self._head = f.read(head_end)
        f.seek(start)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._f.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def run_part(conn: Connection, job: dict[str, Any]) -> None:
    part = job["part"]
    stager: Stager | None = None
    bad = 0

    def add_bad(position: int, raw: str, reason: str) -> None:
        nonlocal bad
        if stager is not None:
            stager.note_first(position, raw)
        bad += 1
        conn.send(("bad", position, raw, reason))
        # The first part holds the feed's first rows: the same early stop as a load in one process.
        if part["index"] == 0 and bad == ALL_BAD_ABORT_ROWS and (stager is None or stager.staged() == 0):
            raise MarketsyncError("the first rows were all rejected")

    def on_reader_bad(position: int, raw: str, reason: str) -> None:
        if stager is not None:
            stager.note_first(position, raw)
        bounded(position, raw, reason)

    bounded = stop_at(part["stop_line"], add_bad)
    with open(job["path"], "rb", buffering=1 << 20) as f:
        stream = io.BufferedReader(_Spliced(f, part["head_end"], part["start"]), 1 << 20) if part["index"] else f
        reader, compiled = prepare(job["source"], stream, on_reader_bad)
        stager = Stager(compiled, reader, lambda data, rows: conn.send(("rows", data, rows)), add_bad,
                        prefix=f"{part['index']}\t", stop_line=part["stop_line"])
        stager.run()
    conn.send(("end", stager.first, stager.boundary, stager.skipped))


def main() -> None:
    conn = Connection(int(sys.argv[1]))
    try:
        job = conn.recv()
        run_part(conn, job)
    except MarketsyncError as exc:
        conn.send(("error", str(exc)))
    except Exception as exc:  # the loader falls back to one process and reports what that run meets
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()
        sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
