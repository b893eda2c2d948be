"""SQL kept in .sql files in the `sql/` folder beside the Python module that runs it: the one way this
project loads a statement. A module runs `query_beside(__file__, "name.sql")` (a statement ready for
`conn.execute`) or, when it fills in identifiers first, `sql_beside(__file__, "name.sql")` (the text).

No Dagster here: the CLI's read-only commands import the domain modules that use this, and should not
pay for loading Dagster."""
from __future__ import annotations

from functools import cache
from pathlib import Path

from sqlalchemy import TextClause, text


@cache
def sql_beside(module_file: str, name: str) -> str:
    """The text of `sql/<name>` next to the Python module `module_file` (read once per process)."""
    return (Path(module_file).parent / "sql" / name).read_text()


@cache
def query_beside(module_file: str, name: str) -> TextClause:
    """The statement of `sql/<name>` next to the module `module_file`, ready for `conn.execute`."""
    return text(sql_beside(module_file, name))
