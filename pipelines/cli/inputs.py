"""What several commands share in taking their input: the --store option, secrets read from stdin, and
the worded refusal of a channel a command does not speak or whose application client is not configured."""
from __future__ import annotations

import json
import sys

import click

from marketsync.resources.errors import MarketsyncError

store_option = click.option("--store", default=None, help="Only this store.")


def secrets_from_stdin() -> dict[str, str]:
    """Secrets come from stdin, never from arguments (which show in `ps` and shell history)."""
    try:
        fields = json.loads(sys.stdin.read())
    except ValueError:
        raise MarketsyncError("stdin must be a JSON object of secret fields, e.g. {\"api_key\": \"...\"}") from None
    if not isinstance(fields, dict) or not fields or not all(isinstance(v, str) and v for v in fields.values()):
        raise MarketsyncError("stdin must be a JSON object whose values are non-empty strings")
    if not all(v.isascii() and v.isprintable() for v in fields.values()):
        # They travel in HTTP headers and URLs, which carry printable ASCII only.
        raise MarketsyncError("secret values must be printable ASCII (check for pasted line breaks or quotes)")
    return fields


def require_channel(command: str, channel: str, channels: tuple[str, ...]) -> None:
    """Refuse a channel the command does not speak, naming the ones it does."""
    if channel not in channels:
        raise MarketsyncError(f"{command} does not support '{channel}': it supports {', '.join(channels)}")


def require_client(channel: str, client) -> None:
    """Amazon, eBay and JTL-FFN talk through the application's OAuth client, configured once per
    installation in the environment (never per store)."""
    from marketsync.assets.channel_clients import not_configured

    if not getattr(client, "client_id", None) or not getattr(client, "client_secret", None):
        raise MarketsyncError(not_configured(channel))
