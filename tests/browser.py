"""What the browser tests need (Debian's chromium, node, playwright-core from npm in tests/ui), shared by
the Dagster UI test and the status page test: `from browser import CHROMIUM, UI, missing`."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

UI = Path(__file__).resolve().parent / "ui"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def missing() -> str | None:
    """Why the browser tests cannot run here (each is skipped with it), or None."""
    if not Path(CHROMIUM).exists():
        return f"no chromium at {CHROMIUM} (apt-get install chromium; .ci/run does)"
    if shutil.which("node") is None:
        return "no node on PATH (apt-get install nodejs)"
    if not (UI / "node_modules" / "playwright-core").exists():
        return "playwright-core is not installed: run `npm ci` in tests/ui (.ci/run does)"
    return None
