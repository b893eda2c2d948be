"""Values as COPY text, the form the feed stage is loaded in: fields escaped, Postgres arrays and JSON
attributes, and prices and timestamps checked as strictly as their parsers but kept as the text Postgres
reads, skipping the round trip through Python types."""
from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import orjson

from marketsync.assets.feeds.mapping.parsers import Rejected, parse_price, parse_timestamp
from marketsync.resources.scrubbing import excerpt

# A price Postgres reads as it stands: digits, then optionally a decimal part (numeric(14, 4) holds
# ten integer digits). With decimal_comma the separator is a comma, turned into a dot.
# At most four decimals: what the column keeps, so Postgres never rounds 9999999999.99995 up past it.
_PLAIN_DECIMAL = re.compile(r"[0-9]{1,10}(?:\.[0-9]{1,4})?")
_PLAIN_DECIMAL_COMMA = re.compile(r"[0-9]{1,10}(?:,[0-9]{1,4})?")


def price_text(raw: Any, decimal_comma: bool = False) -> tuple[str, str | None]:
    """parse_price, as COPY text."""
    value, currency = parse_price(raw, decimal_comma)
    return str(value), currency


# An ISO 8601 timestamp in the extended form both Python and Postgres read the same way, with the time
# of day in range; the date is checked against the calendar separately (once per distinct date).
_ISO_TIMESTAMP = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2})[T ](?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\.[0-9]{1,6})?)?"
    r"(?:Z|[+-](?:0[0-9]|1[0-4])(?::?[0-5][0-9])?)?"
).fullmatch
_VALID_DATES: dict[str, bool] = {}


def timestamp_text(raw: Any) -> str:
    """parse_timestamp, as COPY text (a zone-less time is read as UTC: the load runs with TimeZone UTC)."""
    if type(raw) is str:
        text = raw.strip()
        match = _ISO_TIMESTAMP(text)
        if match:
            day = match.group(1)
            valid = _VALID_DATES.get(day)
            if valid is None:
                try:
                    datetime.fromisoformat(day)
                    valid = True
                except ValueError:
                    valid = False
                if len(_VALID_DATES) < 100_000:
                    _VALID_DATES[day] = valid
            if not valid:
                raise Rejected(f"timestamp {excerpt(text)} is not a valid date and time")
            return text
    return parse_timestamp(raw).isoformat()


def _attributes_json(attributes: dict[str, Any]) -> str:
    try:
        return orjson.dumps(attributes, default=_json_default).decode()
    except orjson.JSONEncodeError as exc:  # an integer beyond 64 bits, say
        raise Rejected(f"an attribute cannot be stored as JSON: {exc}") from None


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError


def copy_escape(value: str) -> str:
    """One field in COPY text format (backslash, tab, newline and carriage return escaped)."""
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def escaped_line(fields: Sequence[str]) -> str:
    """A COPY text line from fields that may need escaping (the rare, slow path)."""
    return "\t".join(copy_escape(f) for f in fields) + "\n"



def pg_array(values: list[str]) -> str:
    """A Postgres text[] literal ({"a","b"}), each element quoted so commas and braces are safe."""
    return "{" + ",".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values) + "}"
