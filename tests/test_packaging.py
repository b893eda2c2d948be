"""`pip install .` (not editable) into a fresh virtualenv gives a working marketsync: `marketsync db upgrade`
and `marketsync demo` run from a folder outside the repository, with the migrations, the SQL files and the
Dagster configuration that came in the wheel; and the installed files claim no generic top-level name
(everything is under `marketsync/`). The simulators are a distribution of their own (marketsync-sandbox)
that the demo needs beside it.

Offline and quick: the wheels are built with the project's own setuptools (no build isolation) from a
copy of the files git knows, and the fresh virtualenv reaches the dependencies already installed through a
path file rather than downloading them (a path file adds the folder without running the editable
installs' own path hooks, so nothing is imported from the checkout)."""
import shutil
import subprocess
import sys
import sysconfig
import uuid
from pathlib import Path

import pytest
from demo_summary import assert_demo_summary

from marketsync.resources.database import drop_database, ensure_database

REPO = Path(__file__).resolve().parents[1]
# The newest revision in the checkout: an installed wheel must carry it and `db upgrade` must reach it.
LATEST_MIGRATION = max(path.stem for path in (REPO / "sql" / "migrations" / "versions").glob("[0-9]*.py"))
# What pip and venv themselves put into a virtualenv's site-packages.
VENV_OWN = {"pip", "setuptools", "pkg_resources", "_distutils_hack", "__pycache__"}


def _copy_of_the_tree(target: Path) -> Path:
    """The files git tracks or would track (the working tree's versions), without build leftovers."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=REPO,  # noqa: S607 - git from PATH, as the developer runs it
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file() and not name.startswith("tests/ui/"):
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def _site_packages(venv: Path) -> Path:
    return Path(subprocess.run([str(venv / "bin" / "python"), "-c",
                                "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())


@pytest.mark.e2e
def test_a_non_editable_install_migrates_a_database_and_runs_the_demo(tmp_path, server_url):
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("needs the git checkout to know which files are the project's")
    source = _copy_of_the_tree(tmp_path / "source")
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--wheel-dir", str(wheels), str(source), str(source / "sandbox")], check=True, timeout=300)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = _site_packages(venv)
    (site / "zz_marketsync_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    def install(pattern: str) -> None:
        subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--quiet",
                        "--no-deps", "--no-index", *map(str, wheels.glob(pattern))], check=True, timeout=300)

    install("marketsync-*.whl")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path / "home"), "MARKETSYNC_ENV": "development",
           "MARKETSYNC_HOME": str(tmp_path / "marketsync-home")}
    marketsync = str(venv / "bin" / "marketsync")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    # Production installs marketsync alone: the demo says what it needs instead of failing on an import.
    alone = subprocess.run([marketsync, "demo"], cwd=outside, env={**env, "DATABASE_URL": "postgresql://unused"},
                           capture_output=True, text=True, timeout=120)
    assert alone.returncode == 1 and "pip install marketsync-sandbox" in alone.stderr, alone.stderr
    install("marketsync_sandbox-*.whl")

    installed = {p.name for p in site.iterdir()} - VENV_OWN
    assert {n for n in installed if not n.endswith((".dist-info", ".pth"))} == {"marketsync"}, installed
    assert not (site / "marketsync" / "__init__.py").exists(), "marketsync stays a namespace the sandbox shares"
    assert (site / "marketsync" / "sql" / "migrations" / "env.py").exists()
    assert (site / "marketsync" / "dagster.yaml").exists() and not (site / "marketsync" / "setup.py").exists()

    database = ensure_database(server_url, f"marketsync_pkg_{uuid.uuid4().hex[:8]}")
    env["DATABASE_URL"] = database
    try:
        where = subprocess.run([str(venv / "bin" / "python"), "-c",
                                "import marketsync.pipelines.cli as c, marketsync.sandbox as s; "
                                "print(c.__file__); print(s.__file__)"],
                               cwd=outside, env=env, capture_output=True, text=True, check=True).stdout.split()
        assert all(path.startswith(str(site)) for path in where), where
        upgraded = subprocess.run([marketsync, "db", "upgrade"], cwd=outside, env=env, capture_output=True,
                                  text=True, timeout=300)
        assert upgraded.returncode == 0 and LATEST_MIGRATION in upgraded.stdout, upgraded.stderr
        demo = subprocess.run([marketsync, "demo", "--port", "0"], cwd=outside, env=env, capture_output=True,
                              text=True, timeout=900)
        assert demo.returncode == 0, demo.stderr[-3000:] + demo.stdout[-2000:]
        assert_demo_summary(demo.stdout)
        assert (tmp_path / "marketsync-home" / "dagster-home" / "dagster.yaml").exists()
    finally:
        drop_database(server_url, database)
