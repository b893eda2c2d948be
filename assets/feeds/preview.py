"""`marketsync feeds preview FEED`: the first rows of a feed as the mapping reads them, and the rows it
would reject, without loading anything.

This is how a merchant checks a new supplier's mapping before the first import: the same reader and the
same compiled mapping as the loader, and no database connection at all. Every record is read (up to
MAX_SCAN_RECORDS: a larger feed is judged on that sample, and the answer says so) so the count of rows
it would reject holds for bad rows anywhere in the feed; only the first `limit` good rows are shown.
"""
from __future__ import annotations

import os
from datetime import datetime
from decimal import Decimal
from typing import IO, Any

import orjson

from marketsync.assets.catalog.columns import PRODUCT_COLUMNS
from marketsync.assets.feeds.loader import open_feed
from marketsync.assets.feeds.mapping import Rejected
from marketsync.assets.feeds.staging import prepare

# How many records preview reads at most: enough for almost every supplier's whole feed, bounded so a
# huge one still answers in seconds (mapping runs at several hundred thousand records a second).
MAX_SCAN_RECORDS = 1_000_000


def preview_feed(source: dict[str, Any], path_or_file: str | os.PathLike | IO[bytes], limit: int = 20,
                 max_records: int = MAX_SCAN_RECORDS) -> dict[str, Any]:
    """{"columns": [...], "rows": [the first `limit` mapped rows as dicts], "rejected": [(line, raw,
    reason)] (the first `limit` bad rows), "records_read", "rejected_count", "complete", "skipped"}.

    `skipped` counts the rows that are no product of their own (the mapping's `skip` rules, and rows
    that only add an image to their group): they are neither read as records nor rejected.

    `columns` are the canonical columns, then title_<lang> and description_<lang> per mapped language;
    rows hold JSON-friendly values (prices as decimal strings, timestamps in ISO 8601, attributes as an
    object). `rejected_count` counts every bad row of the records read; `complete` is False when the
    feed has more than `max_records` records and only those were read.
    """
    rejected: list[tuple[int, str, str]] = []
    bad = 0

    def on_bad(position: int, raw: str, reason: str) -> None:
        nonlocal bad
        bad += 1
        if len(rejected) < limit:
            rejected.append((position, raw, reason))

    read = 0
    complete = True
    with open_feed(path_or_file) as handle:
        reader, compiled = prepare(source, handle, on_bad)
        columns = list(PRODUCT_COLUMNS) + [f"{kind}_{lang}" for lang in compiled.languages
                                           for kind in ("title", "description", "description_text")]
        rows: list[dict[str, Any]] = []
        for position, raw, record in reader:
            if read >= max_records:
                complete = False
                break
            read += 1
            try:
                mapped = compiled.map(record)
            except Rejected as exc:
                on_bad(position, raw if raw is not None else reader.render(record), str(exc))
                continue
            if len(rows) < limit:
                rows.append(_row(mapped.product, mapped.translations, compiled.languages))
    return {"columns": columns, "rows": rows, "rejected": rejected, "records_read": read,
            "rejected_count": bad, "complete": complete, "skipped": getattr(reader, "skipped", 0)}


def _row(product: tuple, translations: list[tuple], languages: tuple[str, ...]) -> dict[str, Any]:
    row = {column: _plain(value) for column, value in zip(PRODUCT_COLUMNS, product, strict=True)}
    row["attributes"] = orjson.loads(product[PRODUCT_COLUMNS.index("attributes")])
    for language in languages:
        row[f"title_{language}"] = row[f"description_{language}"] = row[f"description_text_{language}"] = None
    for _external_id, language, title, description, text in translations:
        row[f"title_{language}"], row[f"description_{language}"] = title, description
        row[f"description_text_{language}"] = text
    return row


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value
