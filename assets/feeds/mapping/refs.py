"""What a mapping's field reference is: one source field (a column name, an XPath, a dotted JSON path), or
a list of alternatives, of which the first the feed has is read (a shop's export renames its columns
from one version to the next; one mapping reads both)."""
from __future__ import annotations

from typing import Any


def is_ref(value: Any) -> bool:
    """One source field, or a non-empty list of them (alternatives)."""
    if isinstance(value, list):
        return bool(value) and all(is_field(v) for v in value)
    return is_field(value)


def is_field(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def ref_options(ref: str | list[str]) -> list[str]:
    """The source fields a reference names: itself, or its alternatives in order."""
    return [r.strip() for r in ref] if isinstance(ref, list) else [ref.strip()]
