"""Everything imports through the `marketsync` namespace, in code and in the code a test or benchmark hands
to a fresh interpreter (`python -c "..."`), which ruff's import rule cannot see: in a checkout the bare
folder names would import too, as second copies of the same modules."""
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# An import statement (at a line's start, or in code inside a string) of a bare folder name.
BARE = re.compile(r"""(?:^\s*|[;"']\s*)(?:from|import) (?:assets|pipelines|resources|sensors|sandbox)\b""")
FOLDERS = ("assets", "pipelines", "resources", "sensors", "sandbox", "tests", "benchmarks", "sql")


@pytest.mark.unit
def test_no_code_imports_a_bare_folder_name():
    found = []
    for folder in FOLDERS:
        for path in (REPO / folder).rglob("*.py"):
            if "node_modules" in path.parts:
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if BARE.search(line) and not line.lstrip().startswith("#"):
                    found.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert found == [], "import through marketsync.<layer>:\n" + "\n".join(found)
