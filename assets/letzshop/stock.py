"""Letzshop's stock adapters.

Letzshop's published GraphQL schema has queries and mutations for orders only: stock reaches Letzshop
as a CSV inventory file delivered to a configured location (a local folder, FTP/FTPS, SFTP, or an HTTP
endpoint taking PUT). When the location answers with a per-row processing report (the sandbox does, see
sandbox/letzshop/README.md), each row's outcome becomes the listing's answer; otherwise the whole file
counts as delivered.

A file under a fixed name (the default `{store}-stock.csv`) replaces the one before it, perhaps before
Letzshop has read that one, so such a file always carries every listing: the changed ones at their new
number, the others at the number the channel acknowledged (a snapshot, which is also what an inventory
import reads). Deltas go out only where that cannot drop a listing: under names that cannot collide
(`{sync_id}` in the pattern; a `{timestamp}` of seconds alone can), or to an HTTP intake that read the
previous file on receipt (it answered it row by row).

`letzshop_graphql` is the adapter for the day the schema has a stock mutation: it asks the live schema
(introspection) and refuses, with that answer, until the configured mutation exists.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import httpx
from sqlalchemy import Connection

from marketsync.assets.accounts import get_account_by_id
from marketsync.assets.letzshop.channel import CHANNEL
from marketsync.assets.stock.channels import NoSecrets, delivery_target, load_secrets, read_on_receipt
from marketsync.assets.stock.channels.base import ChannelPushError, PushOutcome, StockAnswer, StockChannel, StockUpdate
from marketsync.assets.stock.inventory_file import inventory_csv
from marketsync.assets.stock.settings import StockSettings
from marketsync.resources.errors import MarketsyncError
from marketsync.resources.stock_delivery import DeliveryError, DeliveryTarget, deliver_file
from marketsync.resources.vault import CredentialVault

DEFAULT_FILENAME = "{store}-stock.csv"


def _filename(pattern: str, store: str, sync_id: int) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return pattern.format(store=store, sync_id=sync_id, timestamp=stamp)


def names_collide(pattern: str) -> bool:
    """Whether two deliveries may get the same file name, the later replacing the earlier: unless the
    pattern has the push's own number in it."""
    return "{sync_id}" not in pattern


def answers_from_report(report: object, updates: Sequence[StockUpdate]) -> list[StockAnswer]:
    """Per-row answers from a processing report `{"results": [{"id", "status", "message"}]}`; without
    one, every row counts as delivered."""
    results = report.get("results") if isinstance(report, dict) else None
    if not isinstance(results, list):
        return [StockAnswer(u.sku, "delivered") for u in updates]
    sent = {u.sku for u in updates}
    answers: dict[str, StockAnswer] = {}
    for row in results:
        if not isinstance(row, dict) or row.get("id") not in sent:
            continue
        status = row.get("status")
        if status == "updated":
            answers[row["id"]] = StockAnswer(row["id"], "accepted")
        elif status == "rejected":
            answers[row["id"]] = StockAnswer(row["id"], "rejected", str(row.get("message") or "rejected")[:500])
    return list(answers.values())


class LetzshopCsvStock(StockChannel):
    """Writes the inventory file and delivers it."""

    name = "letzshop_csv"

    def __init__(self, target: DeliveryTarget, *, store: str, filename: str = DEFAULT_FILENAME,
                 delimiter: str = ",", read_on_receipt: bool = False):
        """`read_on_receipt`: the location read the previous file when it took it (an HTTP intake that
        answered row by row), so replacing it loses nothing."""
        self.target = target
        self.store = store
        self.filename = filename
        self.delimiter = delimiter
        self.snapshot = names_collide(filename) and not read_on_receipt

    def push(self, updates: Sequence[StockUpdate], *, idempotency_key: str, sync_id: int = 0) -> PushOutcome:
        data = inventory_csv(((u.sku, u.quantity) for u in updates), self.delimiter)
        try:
            delivery = deliver_file(self.target, _filename(self.filename, self.store, sync_id), data,
                                    idempotency_key=idempotency_key)
        except DeliveryError as exc:
            raise ChannelPushError(f"inventory file not delivered: {exc}", retryable=exc.retryable) from None
        return PushOutcome(answers_from_report(delivery.answer, updates), delivered_to=delivery.location)


# Looked up by name in the live schema; no stock mutation is known today.
_INTROSPECT_MUTATIONS = "{ __schema { mutationType { fields { name } } } }"


class LetzshopGraphqlStock(StockChannel):
    """Stock through a Letzshop GraphQL mutation, once the live schema confirms one."""

    name = "letzshop_graphql"

    def __init__(self, endpoint: str, api_key: str, mutation: str | None, timeout: float = 30.0):
        self.endpoint = endpoint
        self.api_key = api_key
        self.mutation = mutation
        self.timeout = timeout

    def mutations(self) -> list[str]:
        try:
            response = httpx.post(self.endpoint, json={"query": _INTROSPECT_MUTATIONS}, timeout=self.timeout,
                                  headers={"Authorization": f"Bearer {self.api_key}"})
            response.raise_for_status()
            fields = ((response.json().get("data") or {}).get("__schema") or {}).get("mutationType") or {}
        except (httpx.HTTPError, ValueError) as exc:
            raise ChannelPushError(f"could not read Letzshop's schema: {type(exc).__name__}", retryable=True) from None
        return sorted(f["name"] for f in fields.get("fields") or [])

    def push(self, updates: Sequence[StockUpdate], *, idempotency_key: str, sync_id: int = 0) -> PushOutcome:
        available = self.mutations()
        if not self.mutation or self.mutation not in available:
            raise ChannelPushError(
                f"Letzshop's schema has no stock mutation{f' {self.mutation!r}' if self.mutation else ''} "
                f"(it offers: {', '.join(available) or 'none'}); deliver stock as a CSV file with the "
                f"letzshop_csv adapter", retryable=False)
        raise ChannelPushError(f"the mutation {self.mutation!r} exists but its input is not modelled yet; "
                               f"use the letzshop_csv adapter", retryable=False)


def csv_adapter(conn: Connection, settings: StockSettings, vault: CredentialVault, clients) -> LetzshopCsvStock:
    """The inventory-file adapter of a store's Letzshop account, from its stock settings and credentials."""
    return LetzshopCsvStock(delivery_target(settings, load_secrets(conn, settings, vault) or NoSecrets()),
                            store=settings.store, filename=settings.delivery.get("filename", DEFAULT_FILENAME),
                            delimiter=settings.delivery.get("delimiter", ","),
                            read_on_receipt=read_on_receipt(conn, settings))


def graphql_adapter(conn: Connection, settings: StockSettings, vault: CredentialVault,
                    clients) -> LetzshopGraphqlStock:
    """The GraphQL adapter of a store's Letzshop account (its endpoint and API key)."""
    secrets = load_secrets(conn, settings, vault)
    if secrets is None:
        raise MarketsyncError(f"no credentials for {settings.store} on letzshop: "
                              f"`marketsync credentials set {settings.store} letzshop`")
    account = get_account_by_id(conn, settings.account_id)
    return LetzshopGraphqlStock(account.endpoint or CHANNEL.account_defaults["endpoint"], secrets.reveal("api_key"),
                                settings.delivery.get("graphql_mutation"))
