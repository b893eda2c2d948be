"""The data dictionary, read from the database catalog: the comments on the schemas, tables, views and
columns of core, analytics and support (migrations and the repeatable view files write them) as markdown. The
README's data dictionary is this output (`make dictionary`), so the database and the README say one text.

Read-only and without Dagster: `marketsync db dictionary` prints it.
"""
from __future__ import annotations

from collections import defaultdict

from sqlalchemy import Connection

from marketsync.resources.sql_files import query_beside

SCHEMAS = ("core", "analytics", "support")
START_MARKER = "<!-- data-dictionary:start -->"
END_MARKER = "<!-- data-dictionary:end -->"


def _cell(value: str | None) -> str:
    """A comment as one markdown table cell: one line, pipes escaped."""
    return " ".join((value or "").split()).replace("|", "\\|")


def data_dictionary(conn: Connection, schemas: tuple[str, ...] = SCHEMAS) -> str:
    """Markdown: the schemas' comments, then a section per table and view (schema, then name order) with
    its comment and a table of its columns (column | type | description)."""
    params = {"schemas": list(schemas)}
    schema_rows = conn.execute(query_beside(__file__, "data_dictionary_schemas.sql"), params).all()
    relations = conn.execute(query_beside(__file__, "data_dictionary_relations.sql"), params).all()
    columns: dict[int, list] = defaultdict(list)
    for column in conn.execute(query_beside(__file__, "data_dictionary_columns.sql"),
                               {"relids": [r.relid for r in relations]}):
        columns[column.relid].append(column)

    lines = ["| schema | description |", "|---|---|"]
    lines += [f"| `{s.name}` | {_cell(s.description)} |" for s in schema_rows]
    for relation in relations:
        lines += ["", f"#### `{relation.schema}.{relation.name}` ({relation.kind})", "",
                  _cell(relation.description) or "(no description)", "",
                  "| column | type | description |", "|---|---|---|"]
        lines += [f"| `{c.name}` | {_cell(c.type)} | {_cell(c.description)} |" for c in columns[relation.relid]]
    return "\n".join(lines) + "\n"


def _section(document: str) -> tuple[int, int]:
    """Where the text between the data dictionary's markers starts and ends in `document`."""
    start, end = document.find(START_MARKER), document.find(END_MARKER)
    if start < 0 or end < start:
        raise ValueError(f"the document has no {START_MARKER} ... {END_MARKER} section")
    return start + len(START_MARKER), end


def replace_section(document: str, dictionary: str) -> str:
    """`document` with the text between the data dictionary's markers replaced by `dictionary`."""
    start, end = _section(document)
    return document[:start] + "\n" + dictionary + document[end:]


def readme_section(document: str) -> str:
    """The text between the markers of `document`, as data_dictionary() returns it."""
    start, end = _section(document)
    return document[start:end].removeprefix("\n")
