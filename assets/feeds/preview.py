"""`marketsync feeds preview FEED`: the first rows of a feed as the mapping reads them, and the rows it
would reject, without loading anything.

This is how a merchant checks a new supplier's mapping before the first import: the same reader and the
same compiled mapping as the loader, stopped after `limit` good rows, and no database connection at all.
"""
from __future__ import annotations

import itertools
import os
from decimal import Decimal
from datetime import datetime
from typing import IO, Any

import orjson

from assets.catalog.columns import PRODUCT_COLUMNS
from assets.feeds.loader import open_feed
from assets.feeds.staging import prepare
from assets.feeds.mapping import Rejected

# How many records preview reads at most while looking for `limit` good rows: a feed whose rows are
# all bad still answers quickly.
MAX_SCAN_FACTOR = 50


def preview_feed(source: dict[str, Any], path_or_file: str | os.PathLike | IO[bytes], limit: int = 20
                 ) -> dict[str, Any]:
    """{"columns": [...], "rows": [mapped rows as dicts], "rejected": [(line, raw, reason)]}.

    `columns` are the canonical columns, then title_<lang> and description_<lang> per mapped language;
    rows hold JSON-friendly values (prices as decimal strings, timestamps in ISO 8601, attributes as an
    object). `rejected` lists the bad rows met before the limit was reached (at most `limit` of them).
    """
    rejected: list[tuple[int, str, str]] = []

    def on_bad(position: int, raw: str, reason: str) -> None:
        if len(rejected) < limit:
            rejected.append((position, raw, reason))

    with open_feed(path_or_file) as handle:
        reader, compiled = prepare(source, handle, on_bad)
        columns = list(PRODUCT_COLUMNS) + [f"{kind}_{lang}" for lang in compiled.languages
                                           for kind in ("title", "description")]
        rows: list[dict[str, Any]] = []
        for position, raw, record in itertools.islice(reader, max(limit, 1) * MAX_SCAN_FACTOR):
            try:
                mapped = compiled.map(record)
            except Rejected as exc:
                on_bad(position, raw if raw is not None else reader.render(record), str(exc))
                continue
            rows.append(_row(mapped.product, mapped.translations, compiled.languages))
            if len(rows) >= limit:
                break
    return {"columns": columns, "rows": rows, "rejected": rejected}


def _row(product: tuple, translations: list[tuple], languages: tuple[str, ...]) -> dict[str, Any]:
    row = {column: _plain(value) for column, value in zip(PRODUCT_COLUMNS, product)}
    row["attributes"] = orjson.loads(product[PRODUCT_COLUMNS.index("attributes")])
    for language in languages:
        row[f"title_{language}"] = row[f"description_{language}"] = None
    for _external_id, language, title, description in translations:
        row[f"title_{language}"], row[f"description_{language}"] = title, description
    return row


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value
