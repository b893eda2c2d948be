"""The health of a store's integrations: per account and sync operation, when it last succeeded and its last
error (ops.sync_log), the account's open alerts, and whether the channel's API answers now.

Whether the API answers is the channel's own connection test (`connection_test` in its channel.py, what
`marketsync test-connection` runs: one cheap authorised call), made at most once a minute per account
however many ask: the answer is kept in ops.api_status, and the caller that finds it older than a minute
takes the account's advisory lock before calling, so a second caller meanwhile waits for that call and
reads its answer instead of calling too. A call has a short deadline; a failure is an answer (ok false,
with the reason in words), never an exception.

Knows nothing of HTTP: `marketsync serve` (pipelines/ops_app) shows it as JSON.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError, OperationalError

from marketsync.assets.accounts import Account, list_accounts
from marketsync.assets.channel_clients import application_client
from marketsync.assets.channel_registry import Channel, declared, load
from marketsync.assets.sync_log import describe_error
from marketsync.resources.sql_files import query_beside

log = logging.getLogger(__name__)

API_STATUS_MAX_AGE_SECONDS = 60.0
API_CALL_TIMEOUT_SECONDS = 5.0
# Advisory lock namespace "msap": one live call per account at a time (pg_advisory_xact_lock(int, int)).
_API_STATUS_LOCK = 0x6D73_6170
# Live calls run here, so that a call that outlives its deadline is left behind, not waited for. A call
# past its deadline still ends by its client's own timeout; meanwhile its account answers from the cache.
_CALLS = ThreadPoolExecutor(max_workers=8, thread_name_prefix="api-status")


@dataclass(frozen=True)
class ApiStatus:
    """The channel's answer to one cheap live call. `ok` None: no call was made (the account is
    disabled, or its channel declares no connection test). `cached`: read from ops.api_status, made by
    an earlier request within the minute."""

    ok: bool | None
    detail: str
    checked_at: datetime | None = None
    cached: bool = False

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "detail": self.detail,
                "checked_at": self.checked_at.isoformat() if self.checked_at else None, "cached": self.cached}


@dataclass(frozen=True)
class OperationHealth:
    """One sync operation of an account, from the sync log."""

    operation: str
    last_run_at: datetime | None
    last_success_at: datetime | None
    running: bool
    error_at: datetime | None = None
    error: str | None = None
    operation_failed: bool | None = None  # the operation ended on the error (else only records failed)
    records_failed: int | None = None

    def as_json(self) -> dict[str, Any]:
        last_error = None if self.error_at is None else {
            "at": self.error_at.isoformat(), "message": self.error or "(no message recorded)",
            "operation_failed": self.operation_failed, "records_failed": self.records_failed}
        return {"operation": self.operation, "last_run_at": _iso(self.last_run_at),
                "last_success_at": _iso(self.last_success_at), "running": self.running, "last_error": last_error}


@dataclass(frozen=True)
class IntegrationHealth:
    """One account of the store: its channel, whether it is enabled, its operations, its open alerts and
    its API's status."""

    account_id: int
    channel: str
    label: str
    enabled: bool
    last_synced_at: datetime | None
    operations: list[OperationHealth]
    alerts: list[dict[str, Any]]
    api: ApiStatus

    def as_json(self) -> dict[str, Any]:
        return {"channel": self.channel, "label": self.label, "account_id": self.account_id, "enabled": self.enabled,
                "last_synced_at": _iso(self.last_synced_at), "api": self.api.as_json(),
                "operations": [o.as_json() for o in self.operations], "open_alerts": self.alerts}


@dataclass(frozen=True)
class StoreHealth:
    store: str
    integrations: list[IntegrationHealth]
    store_alerts: list[dict[str, Any]] = field(default_factory=list)  # about the store as a whole

    @property
    def ok(self) -> bool:
        """No open error alert, no failing API, no operation whose last run ended on an error."""
        return (not any(a["severity"] == "error" for i in self.integrations for a in i.alerts)
                and not any(a["severity"] == "error" for a in self.store_alerts)
                and not any(i.api.ok is False for i in self.integrations)
                and not any(o.error_at is not None and o.operation_failed and
                            (o.last_success_at is None or o.error_at > o.last_success_at)
                            for i in self.integrations for o in i.operations))

    def as_json(self) -> dict[str, Any]:
        return {"store": self.store, "ok": self.ok, "integrations": [i.as_json() for i in self.integrations],
                "store_alerts": self.store_alerts}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


# ------------------------------------------------------------------------------------------ what is stored
def operations_by_account(conn: Connection, store_id: int) -> dict[int, list[OperationHealth]]:
    """Every sync operation of the store's accounts, by account."""
    found: dict[int, list[OperationHealth]] = {}
    for row in conn.execute(query_beside(__file__, "health_operations.sql"), {"store_id": store_id}).mappings():
        values = dict(row)
        account_id = values.pop("account_id")
        values["error"] = values.pop("message")
        found.setdefault(account_id, []).append(OperationHealth(**values))
    return found


def open_alerts(conn: Connection, store_id: int | None) -> list[dict[str, Any]]:
    """Open alerts (of one store, or of every store), errors first, each with the integration it is about
    (a channel, "feed:<name>", "orders", "digital", or "store")."""
    return [dict(row) for row in conn.execute(query_beside(__file__, "health_open_alerts.sql"),
                                              {"store_id": store_id}).mappings()]


def _alert_json(alert: dict[str, Any]) -> dict[str, Any]:
    return {"alert_id": alert["alert_id"], "severity": alert["severity"], "source": alert["source"],
            "message": alert["message"], "occurrences": alert["occurrences"],
            "since": alert["created_at"].isoformat(), "last_seen_at": alert["last_seen_at"].isoformat(),
            "acknowledged": alert["acked_at"] is not None}


# -------------------------------------------------------------------------------------------- the live call
class EngineWarehouse:
    """The warehouse as a channel's connection test takes it (`begin()`, `engine`), over an engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def begin(self) -> AbstractContextManager[Connection]:
        return self.engine.begin()


class _LockBusy(Exception):
    """Another caller's live call of the account outlasted our wait for its lock."""


def api_status(engine: Engine, account_id: int, call: Callable[[], object], *,
               max_age_seconds: float = API_STATUS_MAX_AGE_SECONDS,
               timeout_seconds: float = API_CALL_TIMEOUT_SECONDS) -> ApiStatus:
    """The account's API status: from ops.api_status when checked within `max_age_seconds`, else from
    `call()` (one live call, `timeout_seconds` at most), recorded for the next minute's callers. Two
    callers at once make one call: the second waits on the account's lock, then reads the first's answer."""
    with engine.connect() as conn:
        row = conn.execute(query_beside(__file__, "api_status_read.sql"),
                           {"account_id": account_id, "max_age": max_age_seconds}).first()
    if row is not None and row.fresh:
        return ApiStatus(row.ok, row.detail, row.checked_at, cached=True)
    try:
        with engine.begin() as conn:
            # Wait for a call in progress at most as long as it may take, then answer from what is stored.
            conn.execute(text(f"SET LOCAL lock_timeout = '{int((timeout_seconds + 5) * 1000)}ms'"))
            try:
                conn.execute(text("SELECT pg_advisory_xact_lock(:ns, CAST(:a AS integer))"),
                             {"ns": _API_STATUS_LOCK, "a": account_id % 2_147_483_647})
            except OperationalError as exc:  # lock_timeout: leave the transaction, it is aborted
                raise _LockBusy from exc
            row = conn.execute(query_beside(__file__, "api_status_read.sql"),
                               {"account_id": account_id, "max_age": max_age_seconds}).first()
            if row is not None and row.fresh:  # made while we waited for the lock
                return ApiStatus(row.ok, row.detail, row.checked_at, cached=True)
            ok, detail = _call_with_deadline(call, timeout_seconds)
            checked_at = conn.execute(query_beside(__file__, "api_status_record.sql"),
                                      {"account_id": account_id, "ok": ok, "detail": detail}).scalar_one()
    except _LockBusy:
        if row is not None:
            return ApiStatus(row.ok, row.detail, row.checked_at, cached=True)
        return ApiStatus(None, "another check of this account is still waiting for the API's answer")
    return ApiStatus(ok, detail, checked_at, cached=False)


def _call_with_deadline(call: Callable[[], object], timeout_seconds: float) -> tuple[bool, str]:
    started = time.perf_counter()
    future = _CALLS.submit(call)
    try:
        future.result(timeout=timeout_seconds)
    except FutureTimeout:
        return False, f"no answer within {timeout_seconds:g} s"
    except Exception as exc:  # any failure of the call is its answer, worded; never the caller's exception
        return False, describe_error(exc)
    return True, f"answered in {(time.perf_counter() - started) * 1000:.0f} ms"


class ChannelClients:
    """Each channel's API resource for the connection tests, built once per process: its application
    client's id and secret read from the environment now (an unconfigured client fails its test naming
    the variables to set), else the channel's declared resource. Plain objects, not initialised through
    Dagster (which would give each an instance of its own, in whichever thread first asks)."""

    def __init__(self) -> None:
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def __call__(self, channel: Channel) -> Any:
        with self._lock:
            if channel.name not in self._clients:
                self._clients[channel.name] = (
                    application_client(channel.name, deferred=False) if channel.application_client
                    else load(channel.resource)() if channel.resource else None)
            return self._clients[channel.name]


def account_api_status(engine: Engine, vault: Any, account: Account, clients: Callable[[Channel], Any], *,
                       max_age_seconds: float = API_STATUS_MAX_AGE_SECONDS,
                       timeout_seconds: float = API_CALL_TIMEOUT_SECONDS) -> ApiStatus:
    """The API status of one account through its channel's declared connection test (none made for a
    disabled account or a channel without a test)."""
    channel = declared(account.channel)
    if channel is None or not channel.connection_test:
        return ApiStatus(None, f"the {account.channel} channel declares no connection test")
    if not account.enabled:
        return ApiStatus(None, "the account is disabled: its API is not called")

    def call() -> object:
        check = load(channel.connection_test)
        return check(EngineWarehouse(engine), vault, clients(channel), account.store)

    try:
        return api_status(engine, account.account_id, call, max_age_seconds=max_age_seconds,
                          timeout_seconds=timeout_seconds)
    except DBAPIError as exc:
        log.warning("api status of account %s not recorded: %s", account.account_id, type(exc).__name__)
        return ApiStatus(False, "the API status could not be recorded: the database did not answer")


# ------------------------------------------------------------------------------------------------ together
def store_health(engine: Engine, vault: Any, store: str, store_id: int, clients: Callable[[Channel], Any], *,
                 max_age_seconds: float = API_STATUS_MAX_AGE_SECONDS,
                 timeout_seconds: float = API_CALL_TIMEOUT_SECONDS) -> StoreHealth:
    """Every account of the store with its operations, open alerts and API status (the accounts' live
    calls side by side, so a store answers within one call's deadline)."""
    with engine.connect() as conn:
        accounts = list_accounts(conn, store=store)
        operations = operations_by_account(conn, store_id)
        alerts = open_alerts(conn, store_id)
    statuses = _side_by_side([lambda a=a: account_api_status(engine, vault, a, clients, max_age_seconds=max_age_seconds,
                                                             timeout_seconds=timeout_seconds)
                              for a in accounts])
    by_account: dict[int, list[dict[str, Any]]] = {}
    store_alerts = []
    for alert in alerts:
        if alert["account_id"] is not None:
            by_account.setdefault(alert["account_id"], []).append(_alert_json(alert))
        else:
            store_alerts.append({**_alert_json(alert), "integration": alert["integration"]})
    integrations = []
    for account, status in zip(accounts, statuses, strict=True):
        channel = declared(account.channel)
        integrations.append(IntegrationHealth(
            account.account_id, account.channel, channel.label if channel else account.channel, account.enabled,
            account.last_synced_at, operations.get(account.account_id, []), by_account.get(account.account_id, []),
            status))
    return StoreHealth(store, integrations, store_alerts)


def _side_by_side(calls: Sequence[Callable[[], ApiStatus]]) -> list[ApiStatus]:
    if len(calls) <= 1:
        return [call() for call in calls]
    results: list[ApiStatus | None] = [None] * len(calls)

    def run(index: int) -> None:
        try:
            results[index] = calls[index]()
        except Exception as exc:  # one account's check never stops the others'
            log.warning("api status check failed: %s", describe_error(exc))
            results[index] = ApiStatus(False, describe_error(exc))

    threads = [threading.Thread(target=run, args=(i,), name="api-status-account") for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [r if r is not None else ApiStatus(False, "the check ended without an answer") for r in results]
