"""A1 notation as the Sheets API reads and writes it.

A range names an optional sheet and a block of cells: `Sheet1`, `'Inbound Control'!A1:F200`, `A2:B`
(every row from 2 down), `A:C` (whole columns), `3:5` (whole rows), `B4` (one cell). A sheet name is
quoted with single quotes when it holds anything but letters, digits and underscores (a quote inside
is doubled). Without a sheet the range is on the first sheet, unless the whole text is a sheet's name.

Everything here is zero-based and end-inclusive internally; `None` for an end means "to the edge of
the grid".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ENDPOINT = re.compile(r"^\$?([A-Za-z]{0,3})\$?(\d{0,7})$")
_PLAIN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_LOOKS_LIKE_CELL = re.compile(r"^([A-Za-z]{1,3}\d+|[Rr]\d*[Cc]\d*)$")


class RangeError(ValueError):
    """A range that cannot be parsed (the API answers 400 INVALID_ARGUMENT)."""


def column_letters(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def column_index(letters: str) -> int:
    """A -> 0, Z -> 25, AA -> 26."""
    value = 0
    for char in letters.upper():
        value = value * 26 + (ord(char) - 64)
    return value - 1


def quote_sheet(title: str) -> str:
    """The sheet name as the API writes it in a range: bare when it is a plain identifier that
    cannot be mistaken for a cell, else in single quotes with inner quotes doubled."""
    if _PLAIN_NAME.match(title) and not _LOOKS_LIKE_CELL.match(title):
        return title
    return "'" + title.replace("'", "''") + "'"


def cell_name(row: int, col: int) -> str:
    return f"{column_letters(col)}{row + 1}"


@dataclass(frozen=True)
class Block:
    """Rows r0..r1 and columns c0..c1 (inclusive, zero-based); r1/c1 None: up to the grid's edge."""

    r0: int
    c0: int
    r1: int | None
    c1: int | None

    @property
    def single_cell(self) -> bool:
        return self.r1 == self.r0 and self.c1 == self.c0

    def bounded(self, rows: int, cols: int) -> Block:
        return Block(self.r0, self.c0, rows - 1 if self.r1 is None else self.r1,
                     cols - 1 if self.c1 is None else self.c1)

    def a1(self) -> str:
        """Cell part of a bounded block: `A1` for one cell, else `A1:D4`."""
        if self.r1 is None or self.c1 is None:
            raise ValueError("a1() needs a bounded block (see `bounded`)")
        first = cell_name(self.r0, self.c0)
        if self.single_cell:
            return first
        return f"{first}:{cell_name(self.r1, self.c1)}"


WHOLE_SHEET = Block(0, 0, None, None)


@dataclass(frozen=True)
class ParsedRange:
    """`sheet` is the sheet's title as written (unquoted), or None when the range named no sheet."""

    sheet: str | None
    block: Block
    text: str


def split_sheet(text: str) -> tuple[str | None, str | None]:
    """('Sheet name' unquoted or None, cell part or None). Raises RangeError on broken quoting."""
    if text.startswith("'"):
        i, name = 1, []
        while i < len(text):
            char = text[i]
            if char == "'":
                if text[i + 1:i + 2] == "'":
                    name.append("'")
                    i += 2
                    continue
                rest = text[i + 1:]
                if rest == "":
                    return "".join(name), None
                if rest.startswith("!"):
                    return "".join(name), rest[1:]
                raise RangeError(text)
            name.append(char)
            i += 1
        raise RangeError(text)
    if "!" in text:
        sheet, _, cells = text.rpartition("!")
        if "'" in sheet or "!" in sheet:
            raise RangeError(text)
        return sheet, cells
    return None, text


def _endpoint(text: str) -> tuple[int | None, int | None]:
    """(row, col) of one side of a range; either may be None (a whole column or row)."""
    match = _ENDPOINT.match(text)
    if not match or not (match.group(1) or match.group(2)):
        raise RangeError(text)
    letters, digits = match.groups()
    row = int(digits) - 1 if digits else None
    if row is not None and row < 0:
        raise RangeError(text)
    return row, (column_index(letters) if letters else None)


def parse_cells(text: str) -> Block:
    """The block of a cell part: `A1`, `A1:B2`, `A:B`, `2:5`, `A2:B`, `A:B5`."""
    if not text:
        raise RangeError(text)
    first, sep, second = text.partition(":")
    r0, c0 = _endpoint(first)
    if not sep:
        if r0 is None or c0 is None:  # a lone column or row is not a range
            raise RangeError(text)
        return Block(r0, c0, r0, c0)
    r1, c1 = _endpoint(second)
    if c0 is None or c1 is None:  # whole rows (2:5): both sides are rows only
        if c0 is not None or c1 is not None or r0 is None or r1 is None:
            raise RangeError(text)
        return Block(min(r0, r1), 0, max(r0, r1), None)
    start_col, end_col = min(c0, c1), max(c0, c1)
    if r0 is None and r1 is None:  # whole columns (A:C)
        return Block(0, start_col, None, end_col)
    if r1 is None:  # A2:B: from row 2 to the bottom
        return Block(r0, start_col, None, end_col)
    if r0 is None:  # A:B5: from the top to row 5
        return Block(0, start_col, r1, end_col)
    return Block(min(r0, r1), start_col, max(r0, r1), end_col)


def parse_range(text: str, sheet_titles: list[str]) -> ParsedRange:
    """Parse `text` against the spreadsheet's sheet titles (first = default sheet).

    A text without `!` is a whole sheet when it is a sheet's name (quoted or not), else a cell range
    on the first sheet. Raises RangeError for anything unparsable or an unknown sheet.
    """
    text = text.strip()
    if not text:
        raise RangeError(text)
    sheet, cells = split_sheet(text)
    if sheet is None:
        if text in sheet_titles:
            return ParsedRange(text, WHOLE_SHEET, text)
        block = parse_cells(text)
        if not sheet_titles:
            raise RangeError(text)
        return ParsedRange(None, block, text)
    if sheet not in sheet_titles:
        raise RangeError(text)
    if cells is None:
        return ParsedRange(sheet, WHOLE_SHEET, text)
    return ParsedRange(sheet, parse_cells(cells), text)


def format_range(title: str, block: Block) -> str:
    return f"{quote_sheet(title)}!{block.a1()}"
