"""Cells of a Letzshop product feed that a spreadsheet would run, written escaped and read back as they were.

A merchant opens a feed file in a spreadsheet, where a cell starting with `=`, `+`, `-` or `@` (or a tab
or carriage return, which some programs skip before looking) is run as a formula (OWASP, "CSV
Injection"). The export writes such a text cell with a leading apostrophe, the escaping OWASP and the
spreadsheet programs use; the feed reader takes one leading apostrophe off again. So that this gives back
every value exactly, a value that already starts with apostrophes followed by one of those characters
(`'=x`) gets one more (`''=x`, read back as `'=x`); any other value is written as it is, and a cell the
reader finds without such a prefix (`'quoted'`, `it's`) is read as it is.

Numbers (a price, a quantity) are written by us and are not text: `-3` is a number to a spreadsheet,
not a formula, and stays as it is.
"""
from __future__ import annotations

import re

# A cell a spreadsheet would run, after any apostrophes: what gets (or got) one more apostrophe.
_RUNNABLE = re.compile(r"'*[=+\-@\t\r]")
# A cell written escaped: one apostrophe or more, then a character a spreadsheet would run.
ESCAPED = re.compile(r"'+[=+\-@\t\r]")


def escape_cell(value: str) -> str:
    """`value` as a spreadsheet shows it and never runs: a leading apostrophe when it would run."""
    return "'" + value if _RUNNABLE.match(value) else value


def unescape_cell(cell: str) -> str:
    """The value `escape_cell` was given: one leading apostrophe off an escaped cell."""
    return cell[1:] if ESCAPED.match(cell) else cell
