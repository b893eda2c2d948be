"""Orders from the store's own shop, received through its API: each applied once, whatever is retried.

`receive_orders` takes a batch of validated orders (one per request, several requests per transaction:
the HTTP app writes whatever arrived while the last batch was being written) and, in the caller's
transaction:

1. claims each request's Idempotency-Key (ops.api_idempotency_keys). A key already answered gets its
   stored answer again when the body is the same and a 409 when it differs; a key another transaction
   is applying right now is waited for, then answered the same way;
2. recognises an order the shop sent before under another key: the same document (any version it ever
   had) answers 200 with the order as it is now, another document under a known order number is a 409
   (a status change is a PATCH, a correction is a new order number);
3. lands each new order raw (raw.channel_orders), merges it into the canonical orders like every
   channel's import (assets/orders/load.py), and links its lines to the catalog by GTIN or SKU so its
   units are reserved at once (the follow-up's matching step does the rest, as for every channel);
4. stores every 2xx answer under its key for the retries.

`change_status` applies a PATCH the same way: a new version of the document, merged, so the status
history, the stock reservation (a cancelled or refunded order holds nothing) and the analytics follow
the shop's change. Nothing is ever sent back to the shop: it is where the changes come from.
"""
from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from marketsync.assets.accounts import Account
from marketsync.assets.orders.load import NormalisedPage, land_raw_versions, merge_pages
from marketsync.assets.storefront.document import NEXT_STATUSES, StatusChange, StorefrontOrder
from marketsync.assets.storefront.normalise import Version, add_to_page, document_sha, order_document
from marketsync.resources.sql_files import query_beside

REPLAYED_HEADER = "Idempotent-Replayed"


@dataclass(frozen=True)
class Submission:
    """One POSTed order: the account it is for, its Idempotency-Key, and the order as validated."""

    account: Account
    idempotency_key: str
    version: Version

    @classmethod
    def of(cls, account: Account, idempotency_key: str, order: StorefrontOrder) -> Submission:
        return cls(account, idempotency_key, Version.of(order_document(order)))

    @property
    def sha(self) -> str:
        return self.version.sha

    @property
    def order_number(self) -> str:
        return self.version.document["order_number"]

    @property
    def key(self) -> tuple[int, str]:
        return self.account.account_id, self.idempotency_key


@dataclass(frozen=True)
class Answer:
    """What a request is answered: an HTTP status and a JSON body; `replayed` when it is the stored
    answer of an earlier request with the same key."""

    status: int
    body: dict[str, Any]
    replayed: bool = False

    @property
    def stored(self) -> bool:
        return 200 <= self.status < 300


def refusal(status: int, error: str, message: str) -> Answer:
    return Answer(status, {"error": error, "message": message})


def _key_reused(key: str) -> Answer:
    return refusal(409, "idempotency_key_reused",
                   f"Idempotency-Key '{key}' was already used for a different request; use a new key for a new "
                   f"order, or send the same body to get the first answer again")


def _order_exists(number: str) -> Answer:
    return refusal(409, "order_exists",
                   f"order {number} was already received with other content; change its status with PATCH "
                   f"/stores/{{store}}/orders/{number}, or send a correction as a new order")


def order_answers(conn: Connection, order_ids: list[int]) -> dict[int, dict[str, Any]]:
    """order_id -> the API's view of the order (no buyer data)."""
    rows = conn.execute(query_beside(__file__, "order_answers.sql"), {"order_ids": order_ids}).all()
    return {row.order_id: {"order_id": row.order_id, "order_number": row.order_number, "status": row.channel_state,
                           "canonical_status": row.status, "total": str(row.total), "currency": row.currency,
                           "items": row.items} for row in rows}


def _claim(conn: Connection, requests: list[tuple[int, str, str]]) -> dict[tuple[int, str], str]:
    """Claim the (account_id, key, request hash) of each request; returns the keys claimed here, each
    with its row's ctid (where its answer is recorded)."""
    rows = conn.execute(query_beside(__file__, "claim_keys.sql"), {"requests": json.dumps(
        [{"account_id": a, "idempotency_key": k, "request_sha": sha} for a, k, sha in requests])}).all()
    return {(row.account_id, row.idempotency_key): row.row_ctid for row in rows}


def _stored(conn: Connection, keys: list[tuple[int, str]]) -> dict[tuple[int, str], Any]:
    if not keys:
        return {}
    rows = conn.execute(query_beside(__file__, "stored_answers.sql"), {"keys": json.dumps(
        [{"account_id": a, "idempotency_key": k} for a, k in keys])}).all()
    return {(row.account_id, row.idempotency_key): row for row in rows}


def _stored_or_busy(stored: Any, key: str, sha: str) -> Answer:
    """The answer to a key claimed before: its stored answer (same body), a 409 (another body), or a
    503 when its transaction rolled back after ours looked (the shop simply retries)."""
    if stored is None:
        return refusal(503, "retry", "a request with this Idempotency-Key was still being applied; retry")
    if stored.request_sha != sha:
        return _key_reused(key)
    return Answer(stored.status_code, stored.answer, replayed=True)


def _record(conn: Connection, claimed: dict[tuple[int, str], str],
            answered: list[tuple[tuple[int, str], Answer, int | None]]) -> None:
    """Store the 2xx answers under their claimed keys; release the keys of the others (a refused request
    may be sent again, corrected, under the same key)."""
    kept = [{"row_ctid": claimed[k], "status_code": a.status, "answer": a.body, "order_id": o}
            for k, a, o in answered if a.stored]
    if kept:
        conn.execute(query_beside(__file__, "record_answers.sql"), {"answers": json.dumps(kept)})
    released = [claimed[k] for k, a, _ in answered if not a.stored]
    if released:
        conn.execute(query_beside(__file__, "release_keys.sql"), {"ctids": released})


def merge_documents(conn: Connection, versions: list[tuple[Account, Version]], cause: str) -> None:
    """Land the order versions raw and merge them into the canonical orders, (account, version) each,
    whatever their accounts: one set of statements for the whole batch."""
    land_raw_versions(conn, ((a.account_id, v.document["order_number"], v.text, v.sha) for a, v in versions))
    pages: dict[int, NormalisedPage] = defaultdict(NormalisedPage)
    for account, version in versions:
        add_to_page(version.document, version.sha, pages[account.account_id])
    merge_pages(conn, list(pages.items()), cause)


def _by_number(conn: Connection, sql: str, keys: list[tuple[int, str]]) -> Sequence[Any]:
    """The rows `sql` finds for (account_id, order number) pairs (passed as one JSON document: psycopg
    dumps a long text array element by element in Python, json is one string)."""
    return conn.execute(query_beside(__file__, sql), {"orders": json.dumps(
        [{"account_id": a, "number": n} for a, n in keys])}).all()


def _apply(conn: Connection, submissions: list[Submission]) -> list[tuple[Answer, int | None]]:
    """Each submission (its key claimed here) applied: (its answer, its order's id)."""
    keys = sorted({(s.account.account_id, s.order_number) for s in submissions})
    versions: dict[tuple[int, str], dict[str, int | None]] = defaultdict(dict)
    for row in _by_number(conn, "received_versions.sql", keys):
        versions[(row.account_id, row.channel_order_id)][row.payload_sha] = row.order_id
    # Per submission: a refusal, or where its order comes from: an order received before (its id), or
    # the first submission of this batch with its order number (created here).
    outcomes: list[Answer | int | Submission] = []
    new: dict[tuple[int, str], Submission] = {}
    for submission in submissions:
        key = (submission.account.account_id, submission.order_number)
        if key in versions:
            known = versions[key].get(submission.sha)
            outcomes.append(known if known is not None else _order_exists(submission.order_number))
        else:
            first = new.setdefault(key, submission)
            outcomes.append(first if first.sha == submission.sha else _order_exists(submission.order_number))
    created: dict[tuple[int, str], int] = {}
    if new:
        merge_documents(conn, [(s.account, s.version) for s in new.values()],
                        cause="storefront API: order received")
        created = {(row.account_id, row.channel_shipment_id): row.order_id
                   for row in _by_number(conn, "order_ids.sql", list(new))}
        conn.execute(query_beside(__file__, "match_by_sku.sql"), {"order_ids": list(created.values())})
    ids = [o if isinstance(o, int) else created[(o.account.account_id, o.order_number)]
           if isinstance(o, Submission) else None for o in outcomes]
    views = order_answers(conn, [i for i in ids if i is not None])
    results: list[tuple[Answer, int | None]] = []
    for submission, outcome, order_id in zip(submissions, outcomes, ids, strict=True):
        if isinstance(outcome, Answer) or order_id is None:
            results.append((outcome if isinstance(outcome, Answer) else _order_exists(submission.order_number), None))
        else:  # 201 for the request that created the order, 200 for one that found it received
            results.append((Answer(201 if outcome is submission else 200, views[order_id]), order_id))
    return results


def receive_orders(conn: Connection, submissions: list[Submission]) -> list[Answer]:
    """Apply a batch of POSTed orders in the caller's transaction; one answer per submission, in order.
    See the module docstring for the rules."""
    answers: list[Answer | None] = [None] * len(submissions)
    first_with_key: dict[tuple[int, str], int] = {}
    for i, submission in enumerate(submissions):
        first_with_key.setdefault(submission.key, i)
    leaders = sorted(set(first_with_key.values()))
    claimed = _claim(conn, [(*submissions[i].key, submissions[i].sha) for i in leaders])
    stored = _stored(conn, [submissions[i].key for i in leaders if submissions[i].key not in claimed])
    applying: list[int] = []
    for i in leaders:
        submission = submissions[i]
        if submission.key in claimed:
            applying.append(i)
        else:
            answers[i] = _stored_or_busy(stored.get(submission.key), submission.idempotency_key, submission.sha)
    answered: list[tuple[tuple[int, str], Answer, int | None]] = []
    if applying:
        for i, (answer, order_id) in zip(applying, _apply(conn, [submissions[i] for i in applying]), strict=True):
            answers[i] = answer
            answered.append((submissions[i].key, answer, order_id))
    _record(conn, claimed, answered)
    for i, submission in enumerate(submissions):
        if answers[i] is None:  # the same key again in this batch: answered as its first request
            first = submissions[first_with_key[submission.key]]
            lead = answers[first_with_key[submission.key]]
            answers[i] = (_key_reused(submission.idempotency_key) if first.sha != submission.sha
                          else Answer(lead.status, lead.body, replayed=True) if lead and lead.stored else lead)
    return [answer for answer in answers if answer is not None]


# ------------------------------------------------------------------------------------- status changes
def change_status(conn: Connection, account: Account, order_number: str, change: StatusChange,
                  idempotency_key: str | None = None, now: datetime | None = None) -> Answer:
    """Apply the shop's status change to its order, in the caller's transaction: 404 for an unknown
    order, 409 for a change its current status does not allow, 200 with the order otherwise (setting
    the status it already has changes nothing and answers the same). With an Idempotency-Key, a retry
    gets the first answer even if the order changed since."""
    if idempotency_key is None:
        return _change(conn, account, order_number, change, now)
    key = (account.account_id, idempotency_key)
    sha = document_sha({"order_number": order_number, **change.model_dump(mode="json")})
    claimed = _claim(conn, [(*key, sha)])
    if key not in claimed:
        return _stored_or_busy(_stored(conn, [key]).get(key), idempotency_key, sha)
    answer = _change(conn, account, order_number, change, now)
    _record(conn, claimed, [(key, answer, answer.body.get("order_id"))])
    return answer


def _change(conn: Connection, account: Account, order_number: str, change: StatusChange,
            now: datetime | None) -> Answer:
    row = conn.execute(query_beside(__file__, "order_for_change.sql"),
                       {"a": account.account_id, "number": order_number}).first()
    if row is None:
        return refusal(404, "unknown_order", f"no order {order_number} from this store's shop")
    current = row.channel_state
    if change.status != current:
        allowed = NEXT_STATUSES.get(current, ())
        if change.status not in allowed:
            return refusal(409, "invalid_transition",
                           f"order {order_number} is {current}; it can become "
                           + (" or ".join(allowed) if allowed else "nothing else") + f", not {change.status}")
        if row.payload is None:
            return refusal(409, "order_not_from_api", f"order {order_number} has no document to change")
        document = dict(row.payload, status=change.status,
                        status_changed_at=(change.changed_at or now or datetime.now(UTC)).isoformat())
        if change.tracking_number:
            document["tracking_number"] = change.tracking_number
        if change.carrier:
            document["carrier"] = change.carrier
        merge_documents(conn, [(account, Version.of(document))],
               cause=f"storefront API: {current} -> {change.status}")
    return Answer(200, order_answers(conn, [row.order_id])[row.order_id])


def prune_keys(conn: Connection, account: Account, days: int) -> int:
    """Forget the account's Idempotency-Keys older than `days`; returns how many."""
    return conn.execute(query_beside(__file__, "prune_keys.sql"), {"a": account.account_id, "days": days}).rowcount
