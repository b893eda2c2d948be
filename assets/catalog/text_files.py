"""Reading a merchant's uploaded file (a product list, a key pool) as text, with a worded error. No Dagster
here: read-only commands import it."""
from __future__ import annotations

from pathlib import Path

from marketsync.resources.errors import MarketsyncError


def read_text_file(path: Path, what: str = "products file") -> str:
    """A merchant's file as text (UTF-8, a BOM allowed), or a worded error naming `what` it is and the line
    of the first bad byte."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise MarketsyncError(f"cannot read {what} {path}: {exc.strerror or exc}") from exc
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise MarketsyncError(
            f"{what} {path} is not UTF-8 text (first bad byte on line {line}): save it as 'CSV UTF-8'"
        ) from exc
    if "\x00" in content:
        # Postgres text cannot hold NUL, and a file full of them is usually a UTF-16 export.
        raise MarketsyncError(f"{what} {path} contains NUL characters: save it as 'CSV UTF-8'")
    return content
