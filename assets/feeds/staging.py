"""Feed records -> COPY text for the loader's staging table: the hot loop, shared by the loader (one
process) and its parse workers (one part of a big file each, see `parallel`).

This module imports no database code, so a parse worker starts in a fraction of a second.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import IO, Any

from marketsync.assets.feeds.grouping import RowRules, compiled_mapping_for, has_row_rules
from marketsync.assets.feeds.mapping import CompiledMapping, Rejected, compile_mapping, validate_mapping
from marketsync.assets.feeds.readers import open_reader
from marketsync.resources.errors import MarketsyncError

COPY_BATCH_ROWS = 2000     # lines joined per COPY write: amortises the call, keeps memory flat
ALL_BAD_ABORT_ROWS = 1000  # a feed whose first rows are all bad has the wrong mapping: stop early

# (position, raw text, reason) of a record that cannot be loaded.
AddBad = Callable[[int, str, str], None]
# (COPY text, how many rows it holds)
WriteRows = Callable[[bytes, int], None]


def reader_format(source: dict[str, Any]) -> str:
    fmt = source.get("format")
    if fmt not in ("csv", "tsv", "xml", "json"):
        raise MarketsyncError(f"catalog source '{source.get('name')}' has no feed format (csv, tsv, xml or json)")
    return fmt


def prepare(source: dict[str, Any], raw: IO[bytes], on_bad: AddBad) -> tuple[Any, CompiledMapping]:
    """The reader and compiled mapping for one feed file of `source` (loader, workers and preview)."""
    fmt = reader_format(source)
    mapping = source.get("mapping") or {}
    reader = open_reader(fmt, raw, mapping, encoding=source.get("encoding"), on_bad=on_bad)
    if has_row_rules(mapping) and fmt in ("csv", "tsv"):
        validate_mapping(mapping, fmt)  # before its rules are read
        reader = RowRules(reader, mapping, on_bad)
        mapping = compiled_mapping_for(mapping)
    compiled = compile_mapping(mapping, "csv" if fmt == "tsv" else fmt, getattr(reader, "header", None))
    return reader, compiled


class PartEnd(Exception):
    """The reader of one part of a file reached the first record of the next part."""

    def __init__(self, position: int, raw: str):
        super().__init__(position)
        self.position, self.raw = position, raw


def stop_at(stop_line: int | None, add_bad: AddBad) -> AddBad:
    """`add_bad` for a part that ends where `stop_line` begins: a bad record there belongs to the next part."""
    if stop_line is None:
        return add_bad

    def bounded(position: int, raw: str, reason: str) -> None:
        if position >= stop_line:
            raise PartEnd(position, raw)
        add_bad(position, raw, reason)
    return bounded


class Stager:
    """Maps records to COPY lines and hands them to `write` in batches; a record the mapping rejects
    goes to `add_bad`. Every line starts with `prefix` (the stage's part column).

    With `stop_line`, reading ends at the first record (good or bad) at or after that line, which is
    where the next part of the file begins; the reader's own on_bad must then be wrapped by
    `stop_at(stop_line, ...)`, so a malformed record at the boundary ends the part too. `boundary` is
    then that record's (position, raw text); `first` is always the first record's."""

    def __init__(self, compiled: CompiledMapping, reader, write: WriteRows, add_bad: AddBad, *, prefix: str = "",
                 stop_line: int | None = None, on_batch: Callable[[int], None] | None = None):
        self.compiled, self.reader, self.write, self.add_bad = compiled, reader, write, add_bad
        self.prefix, self.stop_line, self.on_batch = prefix, stop_line, on_batch
        if isinstance(reader, RowRules):  # the rows it skips are counted up to where this part ends
            reader.count_before = stop_line
        self.written = 0
        self.skipped = 0  # rows that are no product of their own (the mapping's skip and group rules)
        self.boundary: tuple[int, str] | None = None
        self.first: tuple[int, str] | None = None
        self._batch: list[str] = []

    def staged(self) -> int:
        """Rows accepted so far, including the batch not written yet."""
        return self.written + len(self._batch)

    def note_first(self, position: int, raw: str) -> None:
        if self.first is None:
            self.first = (position, raw)

    def run(self) -> int:
        """Stage every record (up to the stop line); returns how many rows were written."""
        copy_line = self.compiled.copy_line
        reader = self.reader
        render = reader.render
        add_bad, write, prefix, stop_line, on_batch = (self.add_bad, self.write, self.prefix, self.stop_line,
                                                       self.on_batch)
        batch: list[str] = []
        positions: list[int] = []
        self._batch = batch
        records = iter(reader)
        try:
            for position, raw_text, record in records:
                if self.first is None:
                    self.note_first(position, raw_text if raw_text is not None else render(record))
                if stop_line is not None and position >= stop_line:
                    self.boundary = (position, raw_text if raw_text is not None else render(record))
                    break
                try:
                    batch.append(copy_line(record))
                except Rejected as exc:
                    add_bad(position, raw_text if raw_text is not None else render(record), str(exc))
                    continue
                positions.append(position)
                if len(batch) >= COPY_BATCH_ROWS:
                    self.written += _write(write, batch, positions, add_bad, prefix)
                    batch, positions = [], []
                    self._batch = batch
                    if on_batch is not None:
                        on_batch(self.written)
        except PartEnd as end:
            self.boundary = (end.position, end.raw)
        self.written += _write(write, batch, positions, add_bad, prefix)
        self._batch = []
        self.skipped = getattr(reader, "skipped", 0)
        return self.written


def _write(write: WriteRows, lines: list[str], positions: list[int], add_bad: AddBad, prefix: str) -> int:
    """Write a batch of lines; returns how many went. A line that cannot be encoded (a lone surrogate
    from a JSON escape) is quarantined instead, and the rest of its batch still goes."""
    if not lines:
        return 0
    try:
        data = (prefix + prefix.join(lines)).encode("utf-8")
    except UnicodeEncodeError:
        good = []
        for line, position in zip(lines, positions, strict=True):
            try:
                line.encode("utf-8")
            except UnicodeEncodeError:
                add_bad(position, line.encode("utf-8", "replace").decode("utf-8"),
                        "the record contains invalid Unicode (a lone surrogate)")
            else:
                good.append(line)
        if not good:
            return 0
        lines = good
        data = (prefix + prefix.join(lines)).encode("utf-8")
    write(data, len(lines))
    return len(lines)
