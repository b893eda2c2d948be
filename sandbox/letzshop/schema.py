"""Our Letzshop SDL, its resolvers, and the cache of parsed and validated requests.

Every request is parsed and validated by graphql-core against ``schema.graphql``, so a
query the real API would reject for shape is rejected here too. Integrations send the
same few query texts over and over, hence the cache keyed by query text.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    build_schema,
    parse,
    validate,
)

SDL_PATH = Path(__file__).with_name("schema.graphql")


def sdl() -> str:
    """The SDL text, as served at ``/_sandbox/schema.graphql``."""
    return SDL_PATH.read_text(encoding="utf-8")


def _idempotency_key(info) -> str | None:
    context = info.context if info is not None else None
    return context.get("idempotency_key") if isinstance(context, dict) else None


# Root resolvers: the root value is the LetzshopState. They are shared by graphql-core
# and by our query executor, which passes a real GraphQLResolveInfo to root fields.
def resolve_shipments(root, info, state=None, first=None, after=None):
    return root.page(state, first, after)


def resolve_confirm_inventory_units(root, info, input):
    confirmations = [(c["inventoryUnitId"], c["isAvailable"]) for c in input["inventoryUnits"]]
    return root.confirm_units(confirmations, idempotency_key=_idempotency_key(info))


def resolve_set_shipment_tracking(root, info, input):
    return root.set_tracking(input["shipmentId"], input["code"], input["provider"],
                             idempotency_key=_idempotency_key(info))


@lru_cache(maxsize=1)
def build() -> GraphQLSchema:
    """The executable schema (built once; graphql-core schemas are read-only in use)."""
    schema = build_schema(sdl())
    schema.query_type.fields["shipments"].resolve = resolve_shipments
    mutations = schema.mutation_type.fields
    mutations["confirmInventoryUnits"].resolve = resolve_confirm_inventory_units
    mutations["setShipmentTracking"].resolve = resolve_set_shipment_tracking
    # BrandUnion members are told apart by the "__typename" key of the data, which is
    # graphql-core's default type resolution for dicts.
    return schema


@dataclass
class CheckedDocument:
    """A query text after parsing and validation; ``errors`` is empty when usable."""

    document: DocumentNode | None
    errors: list[GraphQLError]
    plans: dict  # the executor's compiled plans for this document, per operation


class DocumentCache:
    """Parse + validate once per distinct query text (bounded LRU, thread-safe)."""

    def __init__(self, schema: GraphQLSchema, maxsize: int = 256):
        self.schema = schema
        self.maxsize = maxsize
        self._entries: OrderedDict[str, CheckedDocument] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, query: str) -> CheckedDocument:
        with self._lock:
            entry = self._entries.get(query)
            if entry is not None:
                self._entries.move_to_end(query)
                return entry
        try:
            document = parse(query)
        except GraphQLError as error:
            entry = CheckedDocument(None, [error], {})
        else:
            entry = CheckedDocument(document, validate(self.schema, document), {})
        with self._lock:
            self._entries[query] = entry
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)
        return entry


def operation_type(document: DocumentNode, operation_name: str | None) -> str | None:
    """"query"/"mutation"/"subscription" of the operation a request selects, or None."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None:
        chosen = operations[0] if len(operations) == 1 else None
    else:
        chosen = next((o for o in operations if o.name and o.name.value == operation_name), None)
    return chosen.operation.value if chosen is not None else None
