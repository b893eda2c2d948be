"""Drains the outbound queue: for each account with writes due, open its channel session and let the
queue attempt them with that channel's handlers."""
from __future__ import annotations

from collections.abc import Mapping

from marketsync.assets import outbound_queue
from marketsync.assets.accounts import Account, list_accounts
from marketsync.assets.channel_clients import channel_resource, client_from_env
from marketsync.assets.channel_registry import Channel, channels
from marketsync.assets.sync_log import SyncLog
from marketsync.resources.errors import MarketsyncError
from marketsync.resources.sql_files import query_beside
from marketsync.resources.vault import CredentialVault
from marketsync.resources.warehouse import Warehouse

# An account's request timeout when its settings give none; a claimed write's lease outlasts it fourfold.
DEFAULT_REQUEST_TIMEOUT_SECONDS = 30.0


def _client_for(channel: Channel, clients: Mapping[str, object]):
    """The client the channel's opener is given, or a worded error naming the variables that configure it."""
    key = channel.outbound.client or channel.key
    client = clients.get(key)
    app = channel.application_client
    if app is not None and (client is None or not getattr(client, "client_id", None)):
        raise MarketsyncError(f"{channel.name} writes are due but no {channel.name} application client is "
                              f"configured (set {app.id_variable} and {app.secret_variable})")
    return client


def accounts_with_due_writes(warehouse: Warehouse, account_id: int | None = None) -> list[tuple[int, str]]:
    """(account_id, channel) of every account with writes due now (only `account_id`'s, when given)."""
    with warehouse.begin() as conn:
        return [tuple(r) for r in conn.execute(query_beside(__file__, "due_outbound_accounts.sql"),
                                               {"account_id": account_id})]


def drain(warehouse: Warehouse, vault: CredentialVault, clients: Mapping[str, object] | None = None, *,
          store: str | None = None, triggered_by: str = "cli", run_id: str | None = None,
          lease_seconds: float | None = None, channel: str | None = None,
          account_id: int | None = None) -> dict[str, dict]:
    """Attempt every due write, account by account (only of `store`, `channel` or `account_id` when
    given); returns a summary per account. Each channel's handlers come from its declaration
    (assets/channel_registry.py); its client from `clients` by the channel's resource key (the code
    location's resources), else from the environment (assets/channel_clients.py), so the CLI drains
    every channel whose client is configured."""
    due = {account: ch for account, ch in accounts_with_due_writes(warehouse, account_id)
           if channel is None or ch == channel}
    with warehouse.begin() as conn:
        accounts: list[Account] = [a for a in list_accounts(conn, store=store) if a.account_id in due]
    results: dict[str, dict] = {}
    clients = dict(clients or {})
    declared = channels()
    for name in {a.channel for a in accounts}:
        declaration = declared.get(name)
        if declaration is not None and clients.get(declaration.key) is None:
            clients[declaration.key] = client_from_env(name) if declaration.application_client else \
                channel_resource(declaration)
    for account in accounts:
        declaration = declared.get(account.channel)
        if declaration is None or declaration.outbound is None:
            continue
        name = f"{account.store}/{account.channel}"
        # The lease must outlast the slowest request, or a slow worker would look dead.
        timeout = float(account.setting("request_timeout_seconds") or DEFAULT_REQUEST_TIMEOUT_SECONDS)
        with SyncLog(warehouse.engine, "outbound", "outbound", account_id=account.account_id,
                     triggered_by=triggered_by, run_id=run_id) as log:
            try:
                opener = declaration.outbound.opener()
                with opener(warehouse, vault, _client_for(declaration, clients), account) as handlers:
                    summary = outbound_queue.process_queue(
                        warehouse.engine, handlers, account_ids=[account.account_id],
                        lease_seconds=lease_seconds or max(120.0, 4 * timeout))
            except MarketsyncError as exc:
                log.error(str(exc))
                results[name] = {"error": str(exc)}
                continue
            log.add(processed=summary.processed, succeeded=summary.succeeded, failed=summary.failed + summary.dead)
            for error in summary.errors:
                log.error(error)
        results[name] = vars(summary)
    return results
