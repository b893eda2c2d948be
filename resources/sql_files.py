"""SQL kept in .sql files beside the Python module that runs it. No Dagster here: the CLI's read-only
commands import the domain modules that use this, and should not pay for loading Dagster."""
from __future__ import annotations

from functools import cache
from pathlib import Path


@cache
def sql_beside(module_file: str, name: str) -> str:
    """The text of a .sql file kept next to the Python module that runs it."""
    return (Path(module_file).parent / "sql" / name).read_text()
