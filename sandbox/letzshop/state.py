"""Everything the Letzshop simulator remembers: shipments, API keys, faults, a log, and the
stock delivered through the inventory file intake.

The state is plain Python, so tests can drive and inspect it directly (add a fault,
revoke a key, read the mutation log) as well as through the HTTP admin endpoints. All
access goes through one re-entrant lock because uvicorn serves from its own thread
while the test thread reads and writes.
"""

from __future__ import annotations

import base64
import binascii
import gc
import hashlib
import threading
from collections import Counter
from dataclasses import asdict, dataclass
from typing import NamedTuple

import orjson
from graphql import GraphQLError

from ..admin import FaultQueue
from .catalog import VariantMaker, gid, letzshop_variant
from .data import DEFAULT_ANOMALIES, Anomalies, build_scenario, derive_shipment_state
from .inventory import InventoryFaults, InventoryFileError, process_rows, read_inventory_csv

DEFAULT_API_KEY = "sandbox-key"
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 250

FAULT_KINDS = ("http_500", "http_429", "slow", "hang", "apply_then_drop",
               # answers that are wrong rather than failed (queries): see Fault
               "repeat_cursor", "null_nodes", "huge_answer", "graphql_internal", "graphql_invalid", "not_json")
_DROP_MODES = ("close", "502", "hang")
# What a fault's ``operation`` may name: GraphQL queries, GraphQL mutations, inventory file PUTs.
FAULT_OPERATIONS = ("query", "mutation", "inventory")


@dataclass
class Fault:
    """A misbehaviour armed for the next ``count`` matching requests.

    ``operation`` limits it to "query" or "mutation" requests on ``/graphql`` or to
    "inventory" (``PUT /inventory/{filename}``); None matches all three (apply_then_drop
    only makes sense for writes, so its default is "mutation"). ``seconds`` is the delay of
    "slow" and the longest wait of "hang"; ``retry_after`` is the header of
    "http_429"; ``then`` is how an "apply_then_drop" response is lost: "close" (the
    connection dies mid-response), "502" (a proxy answers for the dead worker), or
    "hang" (no answer until the client gives up).

    Wrong answers (for queries; HTTP 200 unless said): "repeat_cursor" (a shipments page whose
    ``endCursor`` is the cursor the request sent, with ``hasNextPage: true``: paging that never
    ends), "null_nodes" (``shipments.nodes`` is null), "huge_answer" (the real answer padded to
    ``size_mib`` MiB, default 64, streamed without a Content-Length), "graphql_internal" (a
    GraphQL error with extensions code INTERNAL_SERVER_ERROR and no data), "graphql_invalid" (a
    GraphQL validation error, code GRAPHQL_VALIDATION_FAILED), "not_json" (an HTML page).
    """

    kind: str
    count: int = 1
    seconds: float | None = None
    retry_after: float | None = None
    operation: str | None = None
    then: str = "close"
    size_mib: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {FAULT_KINDS}")
        if self.count < 1:
            raise ValueError("count must be at least 1")
        if self.kind == "apply_then_drop" and self.operation is None:
            self.operation = "mutation"
        if self.kind in FAULT_KINDS[5:] and self.operation is None:
            self.operation = "query"  # wrong answers are answers to reads
        if self.operation is not None and self.operation not in FAULT_OPERATIONS:
            raise ValueError(f"operation must be one of {FAULT_OPERATIONS} or null")
        if self.then not in _DROP_MODES:
            raise ValueError(f"then must be one of {_DROP_MODES}")
        if self.seconds is None:
            self.seconds = {"slow": 1.0, "hang": 300.0}.get(self.kind)
        if self.kind == "http_429" and self.retry_after is None:
            self.retry_after = 1
        if self.kind == "huge_answer" and self.size_mib is None:
            self.size_mib = 64.0


class MutationRecord(NamedTuple):
    """One mutation call the simulator applied, per shipment it touched.

    ``detail`` is ``((unit_id, is_available), ...)`` for confirmInventoryUnits and
    ``(code, provider)`` for setShipmentTracking. Calls that changed nothing (a repeat
    with the same values) are recorded too, and also listed in ``unchanged_calls``.
    """

    operation: str
    shipment_id: str
    detail: tuple
    idempotency_key: str | None


class InventoryUpload(NamedTuple):
    """One inventory file the intake answered with a report (HTTP 200).

    ``rows``, ``updated`` and ``rejected`` are the report's; ``dropped`` counts the rows a
    drop fault swallowed (so the file held ``rows + dropped`` data rows). ``replay`` is
    True for a repeat of an ``idempotency_key`` already served: nothing was applied and the
    first report was sent again (its counts are repeated here).
    """

    filename: str
    rows: int
    updated: int
    rejected: int
    dropped: int
    idempotency_key: str | None
    replay: bool


class _Served(NamedTuple):
    """What an Idempotency-Key was first used for, and the answer it got."""

    fingerprint: bytes
    report: bytes
    upload: InventoryUpload


class InventoryAnswer(NamedTuple):
    """The intake's answer to a file: HTTP status and JSON body."""

    status: int
    body: bytes


def _encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"sandbox-cursor:{seq}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, seq = text.partition(":")
        if prefix != "sandbox-cursor" or not seq.isdigit():
            raise ValueError
        return int(seq)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise GraphQLError(f"Invalid cursor: {cursor!r}") from None


class _Listings:
    """Membership in the catalog's SKUs or the added ones, without merging the sets."""

    __slots__ = ("added", "catalog")

    def __init__(self, catalog: frozenset[str], added: frozenset[str]):
        self.catalog, self.added = catalog, added

    def __contains__(self, sku: object) -> bool:
        return sku in self.catalog or sku in self.added


def _user_error(code: str, message: str, id_: str | None = None) -> dict:
    return {"id": id_, "code": code, "message": message}


class LetzshopState(FaultQueue):
    """The simulated shop account: its shipments, keys, armed faults and call history.

    ``echo_tracking=False`` reproduces what integrators report of the real API:
    tracking set through the API is kept (``tracking_by_shipment``) but not read back
    in ``Shipment.tracking``. ``freeze_gc=True`` (for a process of its own) moves the
    generated shipments out of the cyclic GC's sight (``gc.freeze``), so full
    collections do not walk ~10^5 long-lived dicts in the middle of requests.
    """

    fault_type = Fault  # armed and cleared as FaultQueue does

    def __init__(self, seed: int = 42, size: int = 200, *, api_keys=(DEFAULT_API_KEY,),
                 catalog_size: int | None = None, anomalies: Anomalies = DEFAULT_ANOMALIES,
                 history_rate: float = 0.0, echo_tracking: bool = True,
                 default_page_size: int = DEFAULT_PAGE_SIZE, max_page_size: int = MAX_PAGE_SIZE,
                 freeze_gc: bool = False):
        self.lock = threading.RLock()
        self.freeze_gc = freeze_gc
        self.anomalies = anomalies
        self.history_rate = history_rate
        self.echo_tracking = echo_tracking
        self.default_page_size = default_page_size
        self.max_page_size = max_page_size
        self._initial_keys = tuple(api_keys)
        self._catalog_size_option = catalog_size
        self.reset(seed, size)

    # ------------------------------------------------------------------ data

    def reset(self, seed: int | None = None, size: int | None = None) -> None:
        """Regenerate the shipments and forget keys revoked, faults, log and counters."""
        with self.lock:
            self.seed = self.seed if seed is None else seed
            self.size = self.size if size is None else size
            scenario = build_scenario(self.seed, self.size, catalog_size=self._catalog_size_option,
                                      anomalies=self.anomalies, history_rate=self.history_rate)
            self.catalog_size = scenario.catalog_size
            self.shipments: list[dict] = []
            self._by_id: dict[str, dict] = {}
            self._unit_owner: dict[str, dict] = {}
            self.removed_shipments = 0  # numbering carries on past removed shipments
            self._index(scenario.shipments)
            self.api_keys = set(self._initial_keys)
            self.revoked_keys: set[str] = set()
            self.faults: list[Fault] = []
            self.mutation_log: list[MutationRecord] = []
            self.unchanged_calls: list[MutationRecord] = []
            self.tracking_by_shipment: dict[str, dict] = {}
            self.operation_counts: Counter = Counter()
            self.status_counts: Counter = Counter()
            self.fault_counts: Counter = Counter()
            self.requests = 0
            self._reset_inventory()

    def _index(self, shipments: list[dict]) -> None:
        for shipment in shipments:
            self.shipments.append(shipment)
            self._by_id[shipment["id"]] = shipment
            for unit in shipment["inventoryUnits"]:
                self._unit_owner[unit["id"]] = shipment
        if self.freeze_gc:
            gc.freeze()

    def add_shipments(self, count: int) -> list[str]:
        """Append ``count`` new unconfirmed shipments (seeded, continuing the numbering),
        as if customers had just ordered; return their ids."""
        with self.lock:
            # The pool stays the one the merchant's catalog export was made from.
            scenario = build_scenario(self.seed, count, start=len(self.shipments) + self.removed_shipments,
                                      catalog_size=self.catalog_size, anomalies=self.anomalies)
            self._index(scenario.shipments)
            return [s["id"] for s in scenario.shipments]

    def add_shipment(self, skus: list[str], completed_at: str | None = None) -> str:
        """A customer orders one unit of each of these catalog variants now (test hook): a new unconfirmed
        shipment whose buyer is seeded like `add_shipments`' and whose units are exactly these variants;
        `completed_at` (ISO 8601, e.g. "2025-01-02T10:00:00Z") is its order's completion time instead of
        the seeded one. Returns its id."""
        with self.lock:
            maker = VariantMaker(self.seed, self.anomalies)
            by_sku = {}
            for index in range(self.catalog_size):
                entry = maker.entry(index)
                if entry["sku"] in skus and entry["sku"] not in by_sku:
                    by_sku[entry["sku"]] = letzshop_variant(entry)
            unknown = [sku for sku in skus if sku not in by_sku]
            if unknown or not skus:
                raise ValueError(f"not in the catalog: {unknown or 'no SKU given'}")
            start = len(self.shipments) + self.removed_shipments
            shipment = build_scenario(self.seed, 1, start=start, catalog_size=self.catalog_size,
                                      anomalies=self.anomalies).shipments[0]
            number = start + 1
            units = [{"id": gid("InventoryUnit", number * 10 + k), "state": "unconfirmed", "variant": by_sku[sku]}
                     for k, sku in enumerate(skus)]
            shipment["inventoryUnits"] = units
            shipment["state"] = derive_shipment_state(units)
            shipment["order"]["total"] = round(sum(u["variant"]["price"] for u in units), 2)
            if completed_at is not None:
                shipment["order"]["completedAt"] = completed_at
            self._index([shipment])
            return shipment["id"]

    def remove_shipment(self, shipment_id: str) -> dict:
        """The shipment is gone from Letzshop (test hook: deleted there, or one the shop never had): no
        listing shows it again. Returns it. Cursors name positions, so a listing paged across the removal
        may skip the shipment after it."""
        with self.lock:
            shipment = self._by_id.pop(shipment_id, None)
            if shipment is None:
                raise ValueError(f"no shipment {shipment_id!r}")
            self.shipments.remove(shipment)
            self.removed_shipments += 1
            for unit in shipment["inventoryUnits"]:
                self._unit_owner.pop(unit["id"], None)
            return shipment

    def shipment(self, shipment_id: str) -> dict | None:
        """The live shipment dict (what the API serves), or None."""
        with self.lock:
            return self._by_id.get(shipment_id)

    def unit(self, unit_id: str) -> dict | None:
        with self.lock:
            owner = self._unit_owner.get(unit_id)
            if owner is None:
                return None
            return next(u for u in owner["inventoryUnits"] if u["id"] == unit_id)

    # ------------------------------------------------------------- inventory

    def _reset_inventory(self) -> None:
        self.inventory: dict[str, int] = {}
        self.inventory_uploads: list[InventoryUpload] = []
        self.inventory_faults = InventoryFaults()
        self.added_listings: frozenset[str] = frozenset()
        self._inventory_keys: dict[str, _Served] = {}
        self._catalog_skus: frozenset[str] | None = None

    def reset_inventory(self) -> None:
        """Forget the delivered stock, the uploads, the Idempotency-Keys served, the
        inventory faults and the listings added; the shipments stay."""
        with self.lock:
            self._reset_inventory()

    def inventory_stock(self, sku: str) -> int | None:
        """The stock the intake last set for ``sku``, or None if no file set it."""
        with self.lock:
            return self.inventory.get(sku)

    def inventory_snapshot(self) -> dict[str, int]:
        """A copy of all stock set through the intake, by SKU."""
        with self.lock:
            return dict(self.inventory)

    def set_inventory_faults(self, **changes) -> InventoryFaults:
        """Change the named inventory faults (``drop_skus``, ``reject_skus``,
        ``drop_every``, ``reject_every``, ``strict_listings``; see ``InventoryFaults``);
        the ones not named keep their value. Returns the faults now armed."""
        with self.lock:
            unknown = set(changes) - set(InventoryFaults.__dataclass_fields__)
            if unknown:
                raise TypeError(f"unknown inventory fault(s) {sorted(unknown)}")
            current = self.inventory_faults.as_dict()
            current.update(changes)
            self.inventory_faults = InventoryFaults(**current)
            return self.inventory_faults

    def clear_inventory_faults(self) -> None:
        """Back to a well-behaved, non-strict intake."""
        with self.lock:
            self.inventory_faults = InventoryFaults()

    def add_listings(self, skus) -> int:
        """Make ``skus`` known listings (for ``strict_listings``) besides the catalog's
        variants; returns how many were new."""
        if isinstance(skus, (str, bytes)):
            raise TypeError("skus must be a collection of SKUs, not a string")
        skus = frozenset(skus)
        if not all(isinstance(s, str) for s in skus):
            raise TypeError("skus must hold strings")
        with self.lock:
            before = len(self.added_listings)
            self.added_listings = self.added_listings | skus
            return len(self.added_listings) - before

    def catalog_skus(self) -> frozenset[str]:
        """SKUs of the variants in the scenario's pool (what the shop lists on Letzshop)."""
        with self.lock:
            if self._catalog_skus is None:
                sku = VariantMaker(self.seed, self.anomalies).sku
                self._catalog_skus = frozenset(sku(i) for i in range(self.catalog_size))
            return self._catalog_skus

    def is_listed(self, sku: str) -> bool:
        """Whether ``sku`` is a known listing: a catalog variant or one added."""
        return sku in self.catalog_skus() or sku in self.added_listings

    def receive_inventory_file(self, filename: str, body: bytes,
                               idempotency_key: str | None = None) -> InventoryAnswer:
        """Process an inventory file as ``PUT /inventory/{filename}`` does (after auth and
        faults): 200 with the processing report, 400 for a file that cannot be read
        (nothing applied), 409 for an Idempotency-Key already used for another file.

        Parsing and deciding rows happen outside the lock (they only read the faults and
        listings, which are replaced, never mutated); applying takes it briefly.
        """
        fingerprint = hashlib.sha256(filename.encode() + b"\0" + body).digest()
        if idempotency_key is not None:
            with self.lock:
                answer = self._replay(idempotency_key, fingerprint)
            if answer is not None:
                return answer
        try:
            rows = read_inventory_csv(body)
        except InventoryFileError as error:
            return InventoryAnswer(400, orjson.dumps({"error": str(error)}))
        with self.lock:
            faults = self.inventory_faults
            known = _Listings(self.catalog_skus(), self.added_listings) if faults.strict_listings else None
        outcome = process_rows(rows, faults, known)
        report = orjson.dumps({"file": filename, "rows": outcome.updated + outcome.rejected,
                               "updated": outcome.updated, "rejected": outcome.rejected,
                               "results": outcome.results})
        upload = InventoryUpload(filename, outcome.updated + outcome.rejected, outcome.updated,
                                 outcome.rejected, outcome.dropped, idempotency_key, False)
        with self.lock:
            if idempotency_key is not None:
                # Another request with this key may have finished meanwhile.
                answer = self._replay(idempotency_key, fingerprint)
                if answer is not None:
                    return answer
                self._inventory_keys[idempotency_key] = _Served(fingerprint, report, upload)
            self.inventory.update(outcome.applied)
            self.inventory_uploads.append(upload)
        return InventoryAnswer(200, report)

    def _replay(self, key: str, fingerprint: bytes) -> InventoryAnswer | None:
        served = self._inventory_keys.get(key)
        if served is None:
            return None
        if served.fingerprint != fingerprint:
            message = (f"Idempotency-Key {key!r} was already used for a different file "
                       f"({served.upload.filename!r} or other content)")
            return InventoryAnswer(409, orjson.dumps({"error": message}))
        self.inventory_uploads.append(served.upload._replace(replay=True))
        return InventoryAnswer(200, served.report)

    # ------------------------------------------------------------------ auth

    def is_authorized(self, key: str | None) -> bool:
        with self.lock:
            return key is not None and key in self.api_keys and key not in self.revoked_keys

    def revoke_key(self, key: str) -> None:
        """From now on requests with ``key`` get 401, as after a key rotation."""
        with self.lock:
            self.revoked_keys.add(key)

    def add_key(self, key: str) -> None:
        with self.lock:
            self.api_keys.add(key)
            self.revoked_keys.discard(key)

    # ---------------------------------------------------------------- faults

    def take_fault(self, operation: str | None) -> Fault | None:
        """Consume one firing of the first armed fault that applies to ``operation``.

        Replaces FaultQueue's: a Letzshop fault matches by operation, lets none through
        first (no ``skip``), and firings are counted in ``fault_counts``."""
        with self.lock:
            for i, fault in enumerate(self.faults):
                if fault.operation is None or fault.operation == operation:
                    fault.count -= 1
                    if fault.count == 0:
                        del self.faults[i]
                    self.fault_counts[fault.kind] += 1
                    return Fault(fault.kind, 1, fault.seconds, fault.retry_after,
                                 fault.operation, fault.then, fault.size_mib)
            return None

    # ---------------------------------------------------------------- paging

    def page(self, state: str | None = None, first: int | None = None,
             after: str | None = None) -> dict:
        """One page of ``shipments(state, first, after)``, in creation order.

        The cursor names the last shipment served, not an offset, so shipments that
        leave the filter between pages (e.g. confirmed meanwhile) shift nothing.
        """
        if first is None:
            first = self.default_page_size
        if first < 0:
            raise GraphQLError("Argument 'first' must not be negative.")
        first = min(first, self.max_page_size)
        start = 0 if after is None else _decode_cursor(after) + 1
        with self.lock:
            shipments = self.shipments
            nodes, seq, end = [], start, len(shipments)
            while seq < end and len(nodes) < first:
                shipment = shipments[seq]
                if state is None or shipment["state"] == state:
                    nodes.append(shipment)
                seq += 1
            last_seq = seq - 1
            has_next = False
            while seq < end:
                if state is None or shipments[seq]["state"] == state:
                    has_next = True
                    break
                seq += 1
        return {
            "nodes": nodes,
            "pageInfo": {"hasNextPage": has_next,
                         "endCursor": _encode_cursor(last_seq) if nodes else None},
        }

    # ------------------------------------------------------------- mutations

    def confirm_units(self, confirmations: list[tuple[str, bool]],
                      idempotency_key: str | None = None) -> dict:
        """Accept or refuse units; returns the ``ConfirmInventoryUnitsPayload``.

        All or nothing: any unknown unit, a unit already decided the other way, a
        returned unit or a contradictory repeat in one call rejects the whole call with
        user errors. Repeating a decision already taken is accepted and changes nothing.
        """
        with self.lock:
            errors, wanted, order = [], {}, []
            for unit_id, available in confirmations:
                owner = self._unit_owner.get(unit_id)
                target = "confirmed_available" if available else "confirmed_unavailable"
                if owner is None:
                    errors.append(_user_error("not_found", f"Inventory unit {unit_id} not found.", unit_id))
                    continue
                if wanted.get(unit_id, target) != target:
                    errors.append(_user_error("conflict", f"Inventory unit {unit_id} is both "
                                              "accepted and refused in this call.", unit_id))
                    continue
                current = self.unit(unit_id)["state"]
                if current not in ("unconfirmed", target):
                    errors.append(_user_error("already_confirmed", f"Inventory unit {unit_id} is "
                                              f"already {current}.", unit_id))
                    continue
                if unit_id not in wanted:
                    order.append(unit_id)
                wanted[unit_id] = target
            if errors:
                return {"inventoryUnits": None, "errors": errors}

            per_shipment: dict[str, list] = {}
            changed_shipments: set[str] = set()
            units = []
            for unit_id in order:
                owner, unit = self._unit_owner[unit_id], self.unit(unit_id)
                per_shipment.setdefault(owner["id"], []).append(
                    (unit_id, wanted[unit_id] == "confirmed_available"))
                if unit["state"] != wanted[unit_id]:
                    unit["state"] = wanted[unit_id]
                    changed_shipments.add(owner["id"])
                units.append(unit)
            for shipment_id, detail in per_shipment.items():
                shipment = self._by_id[shipment_id]
                shipment["state"] = derive_shipment_state(shipment["inventoryUnits"])
                record = MutationRecord("confirmInventoryUnits", shipment_id, tuple(detail),
                                        idempotency_key)
                self.mutation_log.append(record)
                if shipment_id not in changed_shipments:
                    self.unchanged_calls.append(record)
            return {"inventoryUnits": units, "errors": []}

    def set_tracking(self, shipment_id: str, code: str, provider: str,
                     idempotency_key: str | None = None) -> dict:
        """Hand over a parcel's tracking; returns the ``SetShipmentTrackingPayload``.

        Only a confirmed shipment ships, so other states are refused. Sending the same
        tracking again changes nothing; a different one replaces it (a relabelled parcel).
        """
        with self.lock:
            shipment = self._by_id.get(shipment_id)
            if shipment is None:
                error = _user_error("not_found", f"Shipment {shipment_id} not found.", shipment_id)
                return {"shipment": None, "errors": [error]}
            if shipment["state"] != "confirmed":
                error = _user_error("invalid_state", f"Shipment {shipment_id} is "
                                    f"{shipment['state']}; only confirmed shipments ship.", shipment_id)
                return {"shipment": None, "errors": [error]}
            if not code.strip() or not provider.strip():
                error = _user_error("blank", "Tracking code and provider must not be blank.", shipment_id)
                return {"shipment": None, "errors": [error]}
            tracking = {"code": code, "provider": provider}
            record = MutationRecord("setShipmentTracking", shipment_id, (code, provider), idempotency_key)
            self.mutation_log.append(record)
            if self.tracking_by_shipment.get(shipment_id) == tracking:
                self.unchanged_calls.append(record)
            self.tracking_by_shipment[shipment_id] = tracking
            if self.echo_tracking:
                shipment["tracking"] = dict(tracking)
            return {"shipment": shipment, "errors": []}

    # ----------------------------------------------------------------- stats

    def record_request(self, operations: list[str], status: int) -> None:
        """Count one request: the root fields of a ``/graphql`` one (``inventoryFile`` for
        an inventory PUT) and the HTTP status sent."""
        with self.lock:
            self.requests += 1
            self.operation_counts.update(operations)
            self.status_counts[status] += 1

    def stats(self) -> dict:
        """Counters for assertions and dashboards; JSON-ready."""
        with self.lock:
            per_shipment: dict[str, Counter] = {}
            for record in self.mutation_log:
                per_shipment.setdefault(record.shipment_id, Counter())[record.operation] += 1
            return {
                "seed": self.seed,
                "size": self.size,
                "requests": self.requests,
                "operations": dict(self.operation_counts),
                "statuses": {str(k): v for k, v in self.status_counts.items()},
                "faults_fired": dict(self.fault_counts),
                "faults_armed": [asdict(f) for f in self.faults],
                "mutations": {"applied": len(self.mutation_log),
                              "unchanged": len(self.unchanged_calls)},
                "per_shipment": {k: dict(v) for k, v in per_shipment.items()},
                "shipments": len(self.shipments),
                "shipments_by_state": dict(Counter(s["state"] for s in self.shipments)),
                "units_by_state": dict(Counter(u["state"] for s in self.shipments
                                               for u in s["inventoryUnits"])),
                "inventory": {"uploads": len(self.inventory_uploads),
                              "replays": sum(u.replay for u in self.inventory_uploads),
                              "skus": len(self.inventory),
                              "faults": self.inventory_faults.as_dict()},
            }
