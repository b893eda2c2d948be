"""What a command works with, built on first use so that a listing pays only for what it reads.

Preparing the environment is cheap and happens at once. The warehouse (resources.database) and the vault
(resources.credentials) are plain classes, not the Dagster resources, so a read-only command never imports
Dagster and answers in a fraction of a second. The channel clients are the same resources the Dagster
code location builds (pipelines/definitions.py), loaded only by the commands that call a channel, so a
command and a run see one configuration.
"""
from __future__ import annotations

import getpass
import os
from functools import cached_property

import click

from marketsync.resources.database import WarehouseConnection


class Runtime:
    """The resources a command needs, each built when first asked for."""

    def __init__(self) -> None:
        from marketsync.pipelines.environment import prepare_environment

        prepare_environment()
        self.database_url = os.environ["DATABASE_URL"]
        self._clients: dict = {}

    @cached_property
    def warehouse(self) -> WarehouseConnection:
        # What a command writes is said to be this person's, through this command (an order's history).
        context = click.get_current_context(silent=True)
        command = context.command_path if context else "marketsync"
        return WarehouseConnection(self.database_url, actor=f"cli {_login()}: {command}")

    @cached_property
    def vault(self):
        from marketsync.resources.credentials import CredentialStore

        return CredentialStore(secret_keys=os.environ["MARKETSYNC_SECRET_KEYS"])

    @cached_property
    def _resources(self) -> dict:
        # The code location's own resource factories (definitions.py reads the channels' application
        # clients from the environment), not a copy of them.
        from marketsync.pipelines.definitions import build_resources

        return build_resources()

    def client(self, name: str):
        """A Dagster resource of the code location (`letzshop`, `ebay`, `amazon`, `jtl_ffn`,
        `codeswholesale`, `google_sheets`, ...) with its EnvVar fields read from the environment."""
        if name not in self._clients:
            self._clients[name] = resolved(self._resources[name])
        return self._clients[name]

    @property
    def letzshop(self):
        return self.client("letzshop")


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name (a container without a passwd entry)
        return "unknown"


# A command's first parameter: the Runtime of this invocation, made when the command runs (so --help needs none).
pass_runtime = click.make_pass_decorator(Runtime, ensure=True)


def resolved(resource):
    """A resource with its EnvVar fields read from the environment, for use outside a Dagster run."""
    return resource.process_config_and_initialize()
