"""assets/table_columns.json: the columns, with their comments, of every table an asset is stored in (each
asset definition's `dagster/table_name`), read from a migrated database. Asset definitions carry them as
`dagster/column_schema` (assets/table_metadata.stored_in), so the Dagster UI's catalog shows where each
asset lives and what its columns mean before anything ran; `make dictionary` rewrites it with the README's
data dictionary, from the same comments, and tests/test_dagster_definitions.py fails when they differ."""
from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import Connection


def asset_tables() -> list[str]:
    """Every table named by an asset definition's `dagster/table_name`."""
    from marketsync.pipelines.definitions import defs

    graph = defs.get_repository_def().asset_graph
    return sorted({str(graph.get(key).metadata["dagster/table_name"]) for key in graph.get_all_asset_keys()
                   if "dagster/table_name" in graph.get(key).metadata})


def write_table_columns(conn: Connection) -> Path:
    """Rewrite assets/table_columns.json from `conn`'s database; returns its path."""
    from marketsync.assets.table_metadata import TABLE_COLUMNS_FILE, columns_snapshot

    snapshot = columns_snapshot(conn, asset_tables())
    TABLE_COLUMNS_FILE.write_text(json.dumps(snapshot, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return TABLE_COLUMNS_FILE
