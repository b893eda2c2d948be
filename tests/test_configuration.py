"""Configuration fails closed: outside the embedded development setup, a process without its own credential
keys refuses to start, saying what to set, before it touches any database."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from marketsync.pipelines.cli import main
from marketsync.pipelines.environment import ConfigurationError, prepare_environment, require_secret_keys

REPO = Path(__file__).resolve().parents[1]
MARKETSYNC = str(Path(sys.executable).with_name("marketsync"))


@pytest.fixture
def bare_env(monkeypatch, tmp_path):
    """No keys, no MARKETSYNC_ENV, a throwaway home; DATABASE_URL as each test sets it."""
    for name in ("MARKETSYNC_SECRET_KEYS", "MARKETSYNC_ENV", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MARKETSYNC_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def _env(**values) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("MARKETSYNC_SECRET_KEYS", "MARKETSYNC_ENV", "DATABASE_URL")}
    return {**env, **values}


@pytest.mark.unit
def test_own_database_without_keys_refuses_to_start(bare_env, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@db.invalid:5432/shop")
    with pytest.raises(ConfigurationError, match="MARKETSYNC_SECRET_KEYS is not set and DATABASE_URL names"):
        prepare_environment()
    assert not bare_env.exists(), "no development key is written when it would not be used"
    assert "MARKETSYNC_SECRET_KEYS" not in os.environ


@pytest.mark.unit
def test_production_without_keys_refuses_even_the_embedded_database(bare_env, monkeypatch):
    monkeypatch.setenv("MARKETSYNC_ENV", "production")
    with pytest.raises(ConfigurationError, match="MARKETSYNC_ENV is production"):
        prepare_environment()
    assert "DATABASE_URL" not in os.environ, "the check comes before the embedded server starts"


@pytest.mark.unit
def test_a_declared_development_database_may_use_the_development_key(bare_env, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@db.invalid:5432/shop")
    monkeypatch.setenv("MARKETSYNC_ENV", "development")
    chosen = prepare_environment()
    assert chosen == {"MARKETSYNC_SECRET_KEYS": "development key"}
    Fernet(os.environ["MARKETSYNC_SECRET_KEYS"].encode())
    assert (bare_env / "development-secret-key").stat().st_mode & 0o077 == 0


@pytest.mark.unit
def test_keys_given_start_anywhere(bare_env, monkeypatch):
    monkeypatch.setenv("MARKETSYNC_ENV", "production")
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@db.invalid:5432/shop")
    monkeypatch.setenv("MARKETSYNC_SECRET_KEYS", Fernet.generate_key().decode())
    require_secret_keys()


@pytest.mark.unit
def test_an_unknown_environment_name_is_refused(bare_env, monkeypatch):
    monkeypatch.setenv("MARKETSYNC_ENV", "prod")
    with pytest.raises(ConfigurationError, match="MARKETSYNC_ENV must be one of development, production"):
        require_secret_keys()


@pytest.mark.unit
def test_the_cli_says_it_in_one_line(bare_env, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@db.invalid:5432/shop")
    assert main(["account", "list"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: MARKETSYNC_SECRET_KEYS is not set")
    assert "marketsync credentials new-key" in err[0]


@pytest.mark.unit
def test_new_key_needs_no_configuration(bare_env, capsys):
    assert main(["credentials", "new-key"]) == 0
    Fernet(capsys.readouterr().out.strip().encode())
    assert not bare_env.exists()


@pytest.mark.integration
def test_the_code_location_does_not_load_without_keys():
    """What `dagster code-server` or `dagster dev` on a production database meets: the load fails with
    the worded reason, so the UI shows it instead of runs failing one by one."""
    result = subprocess.run([sys.executable, "-c", "import marketsync.pipelines.definitions"], cwd=REPO,
                            capture_output=True, text=True, timeout=120,
                            env=_env(DATABASE_URL="postgresql://nobody@db.invalid:5432/shop"))
    assert result.returncode != 0
    assert "ConfigurationError: MARKETSYNC_SECRET_KEYS is not set and DATABASE_URL names" in result.stderr


@pytest.mark.integration
def test_the_installed_command_refuses_before_connecting():
    result = subprocess.run([MARKETSYNC, "db", "upgrade"], cwd=REPO, capture_output=True, text=True, timeout=120,
                            env=_env(DATABASE_URL="postgresql://nobody@db.invalid:5432/shop"))
    assert result.returncode == 1
    assert result.stderr.startswith("error: MARKETSYNC_SECRET_KEYS is not set"), result.stderr
    assert "db.invalid" not in result.stderr, "it stops before any connection is tried"
