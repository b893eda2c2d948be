"""Everything the Letzshop simulator remembers: shipments, API keys, faults, and a log.

The state is plain Python, so tests can drive and inspect it directly (add a fault,
revoke a key, read the mutation log) as well as through the HTTP admin endpoints. All
access goes through one re-entrant lock because uvicorn serves from its own thread
while the test thread reads and writes.
"""

from __future__ import annotations

import base64
import binascii
import gc
import threading
from collections import Counter
from dataclasses import asdict, dataclass
from typing import NamedTuple

from graphql import GraphQLError

from ..admin import FaultQueue
from .data import DEFAULT_ANOMALIES, Anomalies, build_scenario, derive_shipment_state

DEFAULT_API_KEY = "sandbox-key"
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 250

FAULT_KINDS = ("http_500", "http_429", "slow", "hang", "apply_then_drop")
_DROP_MODES = ("close", "502", "hang")


@dataclass
class Fault:
    """A misbehaviour armed for the next ``count`` matching ``/graphql`` requests.

    ``operation`` limits it to "query" or "mutation" requests (apply_then_drop only
    makes sense for mutations, so that is its default). ``seconds`` is the delay of
    "slow" and the longest wait of "hang"; ``retry_after`` is the header of
    "http_429"; ``then`` is how an "apply_then_drop" response is lost: "close" (the
    connection dies mid-response), "502" (a proxy answers for the dead worker), or
    "hang" (no answer until the client gives up).
    """

    kind: str
    count: int = 1
    seconds: float | None = None
    retry_after: float | None = None
    operation: str | None = None
    then: str = "close"

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {FAULT_KINDS}")
        if self.count < 1:
            raise ValueError("count must be at least 1")
        if self.kind == "apply_then_drop" and self.operation is None:
            self.operation = "mutation"
        if self.operation not in (None, "query", "mutation"):
            raise ValueError("operation must be 'query', 'mutation' or null")
        if self.then not in _DROP_MODES:
            raise ValueError(f"then must be one of {_DROP_MODES}")
        if self.seconds is None:
            self.seconds = {"slow": 1.0, "hang": 300.0}.get(self.kind)
        if self.kind == "http_429" and self.retry_after is None:
            self.retry_after = 1


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
            scenario = build_scenario(self.seed, count, start=len(self.shipments),
                                      catalog_size=self.catalog_size, anomalies=self.anomalies)
            self._index(scenario.shipments)
            return [s["id"] for s in scenario.shipments]

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
                                 fault.operation, fault.then)
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
        """Count one ``/graphql`` request: its root fields and the HTTP status sent."""
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
            }
