"""Drains the outbound queue: for each account with writes due, open its channel session and let the
queue attempt them with that channel's handlers."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

from assets import outbound_queue
from assets.accounts import Account, list_accounts
from assets.amazon.outbound import amazon_handlers
from assets.channel_clients import CLIENT_ENV, client_from_env
from assets.ebay.outbound import ebay_handlers
from assets.jtl_ffn.outbound import jtl_ffn_handlers
from assets.letzshop.connection import letzshop_session
from assets.letzshop.outbound import letzshop_handlers
from assets.sync_log import SyncLog
from resources.errors import MarketsyncError
from resources.letzshop import LetzshopResource
from resources.sql_files import query_beside
from resources.vault import CredentialVault
from resources.warehouse import Warehouse


@contextmanager
def _letzshop(warehouse, vault, clients, account) -> Iterator[dict]:
    with letzshop_session(warehouse, vault, clients["letzshop"], account) as api:
        yield letzshop_handlers(api)


def _application_client(clients: dict, channel: str):
    """The channel's application client, or a worded error naming the variables that configure it."""
    client = clients.get(channel)
    if client is None or not client.client_id:
        client_id, secret = CLIENT_ENV[channel]
        raise MarketsyncError(f"{channel} writes are due but no {channel} application client is configured "
                              f"(set {client_id} and {secret})")
    return client


@contextmanager
def _jtl_ffn(warehouse, vault, clients, account) -> Iterator[dict]:
    client = _application_client(clients, "jtl_ffn")
    with client.account_session(warehouse.engine, vault, account.account_id, base_url=account.endpoint) as api:
        yield jtl_ffn_handlers(api)


@contextmanager
def _ebay(warehouse, vault, clients, account) -> Iterator[dict]:
    with _application_client(clients, "ebay").session(warehouse.engine, vault, account.account_id) as api:
        yield ebay_handlers(api)


@contextmanager
def _amazon(warehouse, vault, clients, account) -> Iterator[dict]:
    with _application_client(clients, "amazon").session(warehouse.engine, vault, account.account_id) as api:
        yield amazon_handlers(api)


# channel -> how to open its handlers (a context manager yielding operation -> handler).
HANDLERS: dict[str, Callable[..., AbstractContextManager[dict]]] = {
    "letzshop": _letzshop, "jtl_ffn": _jtl_ffn, "ebay": _ebay, "amazon": _amazon}


def accounts_with_due_writes(warehouse: Warehouse, account_id: int | None = None) -> list[tuple[int, str]]:
    """(account_id, channel) of every account with writes due now (only `account_id`'s, when given)."""
    with warehouse.begin() as conn:
        return [tuple(r) for r in conn.execute(query_beside(__file__, "due_outbound_accounts.sql"),
                                               {"account_id": account_id})]


def drain(warehouse: Warehouse, vault: CredentialVault, letzshop: LetzshopResource, *, store: str | None = None,
          triggered_by: str = "cli", run_id: str | None = None, lease_seconds: float | None = None,
          jtl_ffn=None, ebay=None, amazon=None, channel: str | None = None,
          account_id: int | None = None) -> dict[str, dict]:
    """Attempt every due write, account by account (only of `store`, `channel` or `account_id` when
    given); returns a summary per account. A channel client not passed in is built from the environment
    (assets/channel_clients.py), so the CLI drains every channel whose client is configured."""
    due = {account: ch for account, ch in accounts_with_due_writes(warehouse, account_id)
           if channel is None or ch == channel}
    with warehouse.begin() as conn:
        accounts: list[Account] = [a for a in list_accounts(conn, store=store) if a.account_id in due]
    results: dict[str, dict] = {}
    clients = {"letzshop": letzshop, "jtl_ffn": jtl_ffn, "ebay": ebay, "amazon": amazon}
    for name in CLIENT_ENV:
        if clients.get(name) is None and any(a.channel == name for a in accounts):
            clients[name] = client_from_env(name)
    for account in accounts:
        opener = HANDLERS.get(account.channel)
        if opener is None:
            continue
        name = f"{account.store}/{account.channel}"
        # The lease must outlast the slowest request, or a slow worker would look dead.
        timeout = float(account.setting("request_timeout_seconds") or letzshop.timeout_seconds)
        with SyncLog(warehouse.engine, "outbound", "outbound", account_id=account.account_id,
                     triggered_by=triggered_by, run_id=run_id) as log:
            try:
                with opener(warehouse, vault, clients, account) as handlers:
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
