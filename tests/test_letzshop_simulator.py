"""The Letzshop sandbox: real HTTP over loopback, seeded data, faults, executor fidelity."""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from graphql import (
    build_schema,
    lexicographic_sort_schema,
    parse,
    print_schema,
    validate,
)
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from marketsync.sandbox.http import serve_in_thread
from marketsync.sandbox.letzshop import LetzshopState, create_app
from marketsync.sandbox.letzshop.barcodes import is_valid_gtin
from marketsync.sandbox.letzshop.data import (
    NO_ANOMALIES,
    build_scenario,
    catalog_csv_rows,
    expected_figures,
    generate_catalog,
    generate_shipments,
    normalise_barcode,
)
from marketsync.sandbox.letzshop.executor import QueryExecutor
from marketsync.sandbox.letzshop.queries import PAGE_QUERY
from marketsync.sandbox.letzshop.schema import build, sdl

SPECS = Path(__file__).resolve().parents[2] / "shared" / "specs" / "letzshop"
KEY = "test-key"
SEED, SIZE = 7, 120

CONFIRM = """
mutation Confirm($units: [InventoryUnitConfirmation!]!) {
  confirmInventoryUnits(input: {inventoryUnits: $units}) {
    inventoryUnits { id state }
    errors { id code message }
  }
}
"""
TRACK = """
mutation Track($id: ID!, $code: String!, $provider: String!) {
  setShipmentTracking(input: {shipmentId: $id, code: $code, provider: $provider}) {
    shipment { id state tracking { code provider } }
    errors { id code message }
  }
}
"""


# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def sim():
    state = LetzshopState(SEED, SIZE, api_keys=[KEY])
    with serve_in_thread(create_app(state)) as server:
        yield state, server


@pytest.fixture
def state(sim):
    state, _ = sim
    state.reset()
    return state


@pytest.fixture
def client(sim, state):
    _, server = sim
    with httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {KEY}"},
                      timeout=5.0) as client:
        yield client


def gql(client: httpx.Client, query: str, variables: dict | None = None,
        operation_name: str | None = None, **kwargs) -> httpx.Response:
    body = {"query": query, "variables": variables, "operationName": operation_name}
    return client.post("/graphql", json=body, **kwargs)


def data(response: httpx.Response) -> dict:
    assert response.status_code == 200, response.text
    payload = response.json()
    assert "errors" not in payload, payload["errors"]
    return payload["data"]


def all_pages(client, state_filter=None, first=None, between_pages=None) -> list[dict]:
    nodes, after = [], None
    while True:
        page = data(gql(client, PAGE_QUERY, {"state": state_filter, "first": first, "after": after}))
        page = page["shipments"]
        nodes.extend(page["nodes"])
        if between_pages:
            between_pages(page["nodes"])
        if not page["pageInfo"]["hasNextPage"]:
            return nodes
        after = page["pageInfo"]["endCursor"]


def confirm(client, pairs, **kwargs) -> dict:
    units = [{"inventoryUnitId": unit_id, "isAvailable": ok} for unit_id, ok in pairs]
    return data(gql(client, CONFIRM, {"units": units}, **kwargs))["confirmInventoryUnits"]


# ---------------------------------------------------------------- http helper


def _port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.integration
def test_serve_in_thread_starts_fast_and_stops_cleanly():
    app = Starlette(routes=[Route("/ping", lambda request: PlainTextResponse("pong"))])
    started = time.perf_counter()
    server = serve_in_thread(app)
    assert time.perf_counter() - started < 0.5
    assert server.base_url == f"http://127.0.0.1:{server.port}"
    assert httpx.get(f"{server.base_url}/ping").text == "pong"
    stopping = time.perf_counter()
    server.stop()
    assert time.perf_counter() - stopping < 1.0
    assert not server._thread.is_alive()
    assert not _port_open(server.port)
    server.stop()  # idempotent


# ----------------------------------------------------------------------- auth


@pytest.mark.parametrize("header", [None, "Bearer wrong-key", f"Basic {KEY}", "Bearer", KEY])
def test_missing_or_unknown_key_is_401(client, header):
    headers = {"Authorization": header} if header else {}
    client.headers.pop("Authorization")
    response = gql(client, "{ shipments { nodes { id } } }", headers=headers)
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_revoked_key_is_401_until_reset(client, state):
    assert gql(client, "{ shipments { nodes { id } } }").status_code == 200
    assert client.post("/_sandbox/faults", json={"kind": "revoke_key", "key": KEY}).status_code == 200
    assert gql(client, "{ shipments { nodes { id } } }").status_code == 401
    state.reset()
    assert gql(client, "{ shipments { nodes { id } } }").status_code == 200
    state.revoke_key(KEY)
    assert gql(client, "{ shipments { nodes { id } } }").status_code == 401


# --------------------------------------------------------------------- paging


def test_paging_covers_every_shipment_exactly_once(client, state):
    nodes = all_pages(client, first=17)
    ids = [n["id"] for n in nodes]
    assert len(ids) == len(set(ids)) == SIZE
    assert ids == [s["id"] for s in state.shipments]  # stable creation order


def test_default_page_size_and_cap(client, state):
    state.add_shipments(300)
    page = data(gql(client, "{ shipments { nodes { id } pageInfo { hasNextPage } } }"))["shipments"]
    assert len(page["nodes"]) == 50 and page["pageInfo"]["hasNextPage"]
    page = data(gql(client, "{ shipments(first: 1000) { nodes { id } } }"))["shipments"]
    assert len(page["nodes"]) == 250
    empty = data(gql(client, "{ shipments(first: 0) { nodes { id } pageInfo { endCursor } } }"))
    assert empty["shipments"] == {"nodes": [], "pageInfo": {"endCursor": None}}


def test_paging_unconfirmed_while_confirming_skips_nothing(client, state):
    def confirm_page(nodes):
        confirm(client, [(u["id"], True) for n in nodes for u in n["inventoryUnits"]])

    nodes = all_pages(client, state_filter="unconfirmed", first=25, between_pages=confirm_page)
    assert len({n["id"] for n in nodes}) == SIZE
    assert all(s["state"] == "confirmed" for s in state.shipments)
    assert all_pages(client, state_filter="unconfirmed") == []


def test_enum_literal_filter(client, state):
    first = state.shipments[0]
    confirm(client, [(u["id"], False) for u in first["inventoryUnits"]])
    declined = data(gql(client, "{ shipments(state: declined) { nodes { id state } } }"))
    assert declined["shipments"]["nodes"] == [{"id": first["id"], "state": "declined"}]
    unconfirmed = data(gql(client, "{ shipments(state: unconfirmed, first: 250) { nodes { id } } }"))
    assert len(unconfirmed["shipments"]["nodes"]) == SIZE - 1


def test_bad_cursor_and_bad_query_are_graphql_errors_with_200(client):
    response = gql(client, '{ shipments(after: "not-a-cursor") { nodes { id } } }')
    assert response.status_code == 200
    assert response.json()["data"] is None
    assert "Invalid cursor" in response.json()["errors"][0]["message"]
    response = gql(client, "{ shipments { nodes { id colour } } }")
    assert response.status_code == 200
    assert "data" not in response.json() and "colour" in response.json()["errors"][0]["message"]
    response = gql(client, "{ shipments(state: shipped) { nodes { id } } }")
    assert response.status_code == 200 and response.json()["errors"]
    response = gql(client, "query A { shipments { nodes { id } } } query B { __typename }")
    assert response.status_code == 200 and "operation name" in response.json()["errors"][0]["message"]
    assert client.post("/graphql", content=b"{not json").status_code == 400


def test_operation_name_and_variables(client):
    query = ("query A { shipments(first: 1) { nodes { id } } } "
             "query B($n: Int) { shipments(first: $n) { nodes { number } } }")
    result = data(gql(client, query, {"n": 3}, "B"))
    assert len(result["shipments"]["nodes"]) == 3 and "number" in result["shipments"]["nodes"][0]
    response = gql(client, query, {"n": "three"}, "B")
    assert response.status_code == 200 and response.json()["errors"]


# ------------------------------------------------------------------ the spec


def test_our_sdl_is_the_spec_sdl():
    if not SPECS.is_dir():
        pytest.skip("shared Letzshop specs are not present")
    spec = build_schema((SPECS / "schema.graphql").read_text())
    ours = build_schema(sdl())
    assert print_schema(lexicographic_sort_schema(ours)) == print_schema(lexicographic_sort_schema(spec))


def test_spec_query_validates_and_runs(client):
    if not SPECS.is_dir():
        pytest.skip("shared Letzshop specs are not present")
    query = (SPECS / "unconfirmed_shipments_query.graphql").read_text()
    assert validate(build(), parse(query)) == []
    nodes = data(gql(client, query))["shipments"]["nodes"]
    assert len(nodes) == 50
    assert set(nodes[0]) == {"id", "number", "state", "order", "inventoryUnits", "tracking"}


def test_schema_endpoint_serves_our_sdl(client):
    response = client.get("/_sandbox/schema.graphql")
    assert response.status_code == 200 and response.text == sdl()


# ------------------------------------------------------------------ mutations


def test_confirm_sets_unit_and_derived_shipment_states(client, state):
    accepted, mixed, refused = [s for s in state.shipments if len(s["inventoryUnits"]) > 1][:3]
    units_of = lambda s: [u["id"] for u in s["inventoryUnits"]]  # noqa: E731
    pairs = [(u, True) for u in units_of(accepted)]
    pairs += [(units_of(mixed)[0], True)] + [(u, False) for u in units_of(mixed)[1:]]
    pairs += [(u, False) for u in units_of(refused)]
    payload = confirm(client, pairs, headers={"Idempotency-Key": "run-1"})
    assert payload["errors"] == []
    assert [u["id"] for u in payload["inventoryUnits"]] == [p[0] for p in pairs]
    assert state.shipment(accepted["id"])["state"] == "confirmed"
    assert state.shipment(mixed["id"])["state"] == "confirmed"  # partly accepted still ships
    assert state.shipment(refused["id"])["state"] == "declined"
    assert {u["state"] for u in refused["inventoryUnits"]} == {"confirmed_unavailable"}
    logged = {r.shipment_id: r for r in state.mutation_log}
    assert set(logged) == {accepted["id"], mixed["id"], refused["id"]}
    assert logged[refused["id"]].operation == "confirmInventoryUnits"
    assert logged[refused["id"]].idempotency_key == "run-1"
    assert logged[refused["id"]].detail == tuple((u, False) for u in units_of(refused))

    # Repeating a decision is accepted, logged, and changes nothing.
    again = confirm(client, [(u, True) for u in units_of(accepted)])
    assert again["errors"] == [] and len(state.mutation_log) == 4
    assert state.unchanged_calls == [state.mutation_log[-1]]
    # The seeded shipments of the API view reflect it too.
    view = data(gql(client, "{ shipments(state: declined) { nodes { id inventoryUnits { state } } } }"))
    assert view["shipments"]["nodes"][0]["id"] == refused["id"]


def test_confirm_rejects_unknown_or_contradicting_units_atomically(client, state):
    shipment = state.shipments[0]
    unit_id = shipment["inventoryUnits"][0]["id"]
    payload = confirm(client, [(unit_id, True), ("no-such-unit", True)])
    assert payload["inventoryUnits"] is None
    assert payload["errors"] == [{"id": "no-such-unit", "code": "not_found",
                                  "message": "Inventory unit no-such-unit not found."}]
    assert state.unit(unit_id)["state"] == "unconfirmed" and state.mutation_log == []
    confirm(client, [(unit_id, True)])
    flipped = confirm(client, [(unit_id, False)])
    assert flipped["errors"][0]["code"] == "already_confirmed"
    both = confirm(client, [(shipment["inventoryUnits"][-1]["id"], True),
                            (shipment["inventoryUnits"][-1]["id"], False)])
    assert both["errors"][0]["code"] in ("conflict", "already_confirmed")


def test_tracking_needs_a_confirmed_shipment_and_is_read_back(client, state):
    shipment = state.shipments[0]
    variables = {"id": shipment["id"], "code": "LU123456789", "provider": "post_lu"}
    early = data(gql(client, TRACK, variables))["setShipmentTracking"]
    assert early["shipment"] is None and early["errors"][0]["code"] == "invalid_state"
    confirm(client, [(u["id"], True) for u in shipment["inventoryUnits"]])
    done = data(gql(client, TRACK, variables))["setShipmentTracking"]
    assert done["errors"] == []
    assert done["shipment"]["tracking"] == {"code": "LU123456789", "provider": "post_lu"}
    data(gql(client, TRACK, variables))
    tracked = [r for r in state.mutation_log if r.operation == "setShipmentTracking"]
    assert [r.detail for r in tracked] == [("LU123456789", "post_lu")] * 2
    assert state.unchanged_calls == [tracked[1]]
    unknown = data(gql(client, TRACK, dict(variables, id="nope")))["setShipmentTracking"]
    assert unknown["errors"][0]["code"] == "not_found"


def test_hidden_tracking_is_kept_but_not_read_back():
    state = LetzshopState(1, 3, echo_tracking=False)
    shipment = state.shipments[0]
    state.confirm_units([(u["id"], True) for u in shipment["inventoryUnits"]])
    assert state.set_tracking(shipment["id"], "X1", "dhl")["errors"] == []
    assert shipment["tracking"] is None
    assert state.tracking_by_shipment[shipment["id"]] == {"code": "X1", "provider": "dhl"}


# --------------------------------------------------------------------- faults


def test_http_500_fault_fires_count_times(client, state):
    state.add_fault("http_500", count=2)
    statuses = [gql(client, "{ shipments { nodes { id } } }").status_code for _ in range(3)]
    assert statuses == [500, 500, 200]
    assert client.get("/_sandbox/stats").json()["faults_fired"] == {"http_500": 2}


def test_http_429_fault_sends_retry_after(client):
    armed = client.post("/_sandbox/faults", json={"kind": "http_429", "count": 1, "retry_after": 3})
    assert armed.json()["faults_armed"][0]["kind"] == "http_429"
    response = gql(client, "{ shipments { nodes { id } } }")
    assert response.status_code == 429 and response.headers["retry-after"] == "3"
    assert gql(client, "{ shipments { nodes { id } } }").status_code == 200


def test_slow_fault_delays_then_answers(client):
    client.post("/_sandbox/faults", json={"kind": "slow", "seconds": 0.3, "count": 1})
    started = time.perf_counter()
    data(gql(client, "{ shipments(first: 1) { nodes { id } } }"))
    assert time.perf_counter() - started >= 0.3


def test_hang_fault_never_answers_until_the_client_gives_up(client, state):
    client.post("/_sandbox/faults", json={"kind": "hang", "count": 1})
    with pytest.raises(httpx.ReadTimeout):
        gql(client, "{ shipments(first: 1) { nodes { id } } }", timeout=0.3)
    # The server notices the client hanging up and lets the request go.
    deadline = time.monotonic() + 2
    while not state.status_counts[504] and time.monotonic() < deadline:
        time.sleep(0.01)
    assert state.status_counts[504] == 1
    started = time.perf_counter()
    data(gql(client, "{ shipments(first: 1) { nodes { id } } }"))
    assert time.perf_counter() - started < 0.5


@pytest.mark.integration
def test_server_stops_cleanly_during_a_hang():
    state = LetzshopState(1, 5, api_keys=[KEY])
    state.add_fault("hang", seconds=60)
    server = serve_in_thread(create_app(state))
    outcome = []

    def call():
        try:
            outcome.append(httpx.post(f"{server.base_url}/graphql", timeout=30,
                                      headers={"Authorization": f"Bearer {KEY}"},
                                      json={"query": "{ shipments { nodes { id } } }"}).status_code)
        except httpx.HTTPError as error:
            outcome.append(type(error).__name__)

    caller = threading.Thread(target=call)
    caller.start()
    deadline = time.monotonic() + 5
    while not state.fault_counts["hang"] and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.05)
    started = time.perf_counter()
    server.stop()
    caller.join(5)
    assert time.perf_counter() - started < 1.5
    assert not caller.is_alive() and outcome  # the client was released, not left hanging


def test_apply_then_drop_applies_the_mutation_but_loses_the_answer(client, state):
    shipment = state.shipments[0]
    pairs = [(u["id"], True) for u in shipment["inventoryUnits"]]
    state.add_fault("apply_then_drop")
    # Queries are not affected by a mutation fault.
    data(gql(client, "{ shipments(first: 1) { nodes { id } } }"))
    with pytest.raises(httpx.RemoteProtocolError):
        confirm(client, pairs, headers={"Idempotency-Key": "once"})
    assert state.shipment(shipment["id"])["state"] == "confirmed"
    assert [(r.operation, r.shipment_id, r.idempotency_key) for r in state.mutation_log] == [
        ("confirmInventoryUnits", shipment["id"], "once")]
    # A client retrying after the lost answer gets a harmless, visible no-op.
    assert confirm(client, pairs, headers={"Idempotency-Key": "once"})["errors"] == []
    assert len(state.mutation_log) == 2 and state.unchanged_calls == [state.mutation_log[1]]


def test_apply_then_drop_as_502(client, state):
    shipment = state.shipments[1]
    client.post("/_sandbox/faults", json={"kind": "apply_then_drop", "then": "502"})
    units = [{"inventoryUnitId": u["id"], "isAvailable": False} for u in shipment["inventoryUnits"]]
    response = gql(client, CONFIRM, {"units": units})
    assert response.status_code == 502
    assert state.shipment(shipment["id"])["state"] == "declined"


def test_apply_then_drop_as_hang(client, state):
    shipment = state.shipments[2]
    state.add_fault("apply_then_drop", then="hang")
    with pytest.raises(httpx.ReadTimeout):
        confirm(client, [(u["id"], True) for u in shipment["inventoryUnits"]], timeout=0.3)
    assert state.shipment(shipment["id"])["state"] == "confirmed"


def test_faults_only_touch_graphql_and_bad_specs_are_refused(client, state):
    state.add_fault("http_500", count=5)
    assert client.get("/_sandbox/stats").status_code == 200
    assert client.get("/_sandbox/faults").json()["faults_armed"][0]["count"] == 5
    assert client.delete("/_sandbox/faults").json()["faults_armed"] == []
    assert client.post("/_sandbox/faults", json={"kind": "meteor"}).status_code == 400
    assert client.post("/_sandbox/faults", json={"kind": "http_500", "count": 0}).status_code == 400


# ---------------------------------------------------------------------- admin


def test_admin_add_shipments_reset_and_stats(client, state):
    added = client.post("/_sandbox/shipments", json={"count": 10}).json()
    assert len(added["added"]) == 10 and added["total"] == SIZE + 10
    assert len(all_pages(client, first=250)) == SIZE + 10
    shipment = state.shipment(added["added"][0])
    confirm(client, [(u["id"], True) for u in shipment["inventoryUnits"]])
    stats = client.get("/_sandbox/stats").json()
    assert stats["operations"] == {"shipments": 1, "confirmInventoryUnits": 1}
    assert stats["per_shipment"] == {shipment["id"]: {"confirmInventoryUnits": 1}}
    assert stats["shipments_by_state"] == {"unconfirmed": SIZE + 9, "confirmed": 1}
    assert client.get("/_sandbox/mutations").json()[0]["shipment_id"] == shipment["id"]
    again = client.post("/_sandbox/reset").json()
    assert again == {"seed": SEED, "size": SIZE, "shipments": SIZE}
    assert client.get("/_sandbox/stats").json()["requests"] == 0


def test_added_shipments_are_seeded():
    one, two = LetzshopState(3, 10), LetzshopState(3, 10)
    assert one.add_shipments(5) == two.add_shipments(5)
    assert one.shipments == two.shipments
    ids = [s["id"] for s in one.shipments]
    assert len(set(ids)) == 15


def test_figures_and_catalog_endpoints_match_the_seed(client):
    figures = client.get("/_sandbox/figures").json()
    assert figures == expected_figures(SEED, SIZE).as_dict()
    lines = client.get("/_sandbox/catalog.csv").text.splitlines()
    assert lines[0] == "sku,gtin,title" and len(lines) - 1 == figures["catalog_rows"]


# ----------------------------------------------------------------------- data


def test_generation_is_deterministic_per_seed():
    assert generate_shipments(11, 50) == generate_shipments(11, 50)
    assert generate_shipments(11, 50) != generate_shipments(12, 50)
    assert generate_catalog(11, 300) == generate_catalog(11, 300)
    assert generate_catalog(11, 300)[:100] == generate_catalog(11, 100)
    assert catalog_csv_rows(11, 50) == catalog_csv_rows(11, 50)


@pytest.mark.integration
def test_generation_does_not_depend_on_the_process():
    digest = ("import hashlib, json; "
              "from marketsync.sandbox.letzshop.data import generate_shipments, catalog_csv_rows; "
              "print(hashlib.sha256(json.dumps([generate_shipments(11, 40), catalog_csv_rows(11, 40)])"
              ".encode()).hexdigest())")
    here = hashlib.sha256(json.dumps([generate_shipments(11, 40), catalog_csv_rows(11, 40)]).encode()).hexdigest()
    env = dict(os.environ, PYTHONHASHSEED="12345")
    there = subprocess.run([sys.executable, "-c", digest], capture_output=True, text=True, check=True,
                           cwd=Path(__file__).resolve().parents[1], env=env).stdout.strip()
    assert there == here


def test_shipments_have_the_api_shape():
    shipments = generate_shipments(5, 400)
    iso = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
    countries = set()
    for s in shipments:
        assert re.fullmatch(r"H\d{11}", s["number"]) and s["state"] == "unconfirmed"
        order = s["order"]
        assert re.fullmatch(r"R\d{9}", order["number"]) and "@" in order["email"]
        assert iso.match(order["completedAt"])
        assert datetime.strptime(order["completedAt"], "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=UTC).year >= 2025
        assert order["locale"] in ("en", "fr", "de")
        countries.add(order["billAddress"]["country"]["iso"])
        assert 1 <= len(s["inventoryUnits"]) <= 4 and s["tracking"] is None
        prices = [u["variant"]["price"] for u in s["inventoryUnits"]]
        assert order["total"] == round(sum(prices), 2)
        for unit in s["inventoryUnits"]:
            assert unit["state"] == "unconfirmed"
            variant = unit["variant"]
            assert variant["product"]["_brand"]["__typename"] in ("Brand", "BrandUnknown")
            assert set(variant["product"]["name"]) == {"en", "fr", "de"}
    assert {"LU", "FR", "DE", "BE"} <= countries
    numbers = [s["number"] for s in shipments] + [s["order"]["number"] for s in shipments]
    assert len(set(numbers)) == len(numbers)
    assert any(len({u["variant"]["id"] for u in s["inventoryUnits"]}) < len(s["inventoryUnits"])
               for s in shipments)  # several pieces of one variant


def test_history_option_makes_confirmed_and_declined_shipments():
    states = {s["state"] for s in generate_shipments(5, 300, history_rate=0.5)}
    assert states == {"unconfirmed", "confirmed", "declined"}
    plain = generate_shipments(5, 300)
    # Turning history on changes states only, not the orders themselves.
    historic = generate_shipments(5, 300, history_rate=0.5)
    assert [s["order"] for s in plain] == [s["order"] for s in historic]


def test_catalog_barcodes_mix_and_anomalies():
    pool = generate_catalog(9, 20_000)
    assert all(is_valid_gtin(e["gtin"]) for e in pool)
    kinds = {k: sum(e["kind"] == k for e in pool) / len(pool) for k in ("gtin13", "gtin12", "gtin8", "gtin14")}
    assert kinds["gtin13"] > 0.8 and all(share > 0.01 for share in kinds.values())
    assert len({normalise_barcode(e["gtin"]) for e in pool}) == len(pool)  # no chance collisions
    rate = lambda name: sum(e["anomaly"] == name for e in pool) / len(pool)  # noqa: E731
    assert 0.04 < rate("not_exported") < 0.06
    for name in ("bad_check_digit", "spaced", "zeros_dropped", "no_trade_id", "duplicate_gtin"):
        assert 0.002 < rate(name) < 0.02, name
    for entry in pool:
        trade_id = entry["trade_id"]
        if entry["anomaly"] == "bad_check_digit":
            assert not is_valid_gtin(trade_id["number"])
        elif entry["anomaly"] == "spaced":
            assert " " in trade_id["number"]
            assert normalise_barcode(trade_id["number"]) == normalise_barcode(entry["gtin"])
        elif entry["anomaly"] == "zeros_dropped":
            assert entry["csv_gtin"] != entry["gtin"] and entry["csv_gtin"].zfill(13) == entry["gtin"]
        elif entry["anomaly"] == "no_trade_id":
            assert trade_id is None
        else:
            assert trade_id == {"number": entry["gtin"], "parser": entry["kind"]}
    assert 0.01 < sum(e["unicode_name"] for e in pool) / len(pool) < 0.03
    assert not any(e["anomaly"] for e in generate_catalog(9, 2000, NO_ANOMALIES))


def test_catalog_csv_is_the_merchants_view_of_the_pool():
    pool = generate_catalog(4, 800)
    rows = catalog_csv_rows(4, 400)  # 400 shipments -> a pool of 800 variants
    exported = [{"sku": e["sku"], "gtin": e["csv_gtin"], "title": e["title"]} for e in pool if e["exported"]]
    legacy = [e for e in pool if e["anomaly"] == "duplicate_gtin"]
    assert rows[: len(exported)] == exported
    assert [r["gtin"] for r in rows[len(exported):]] == [e["csv_gtin"] for e in legacy]
    assert all(set(r) == {"sku", "gtin", "title"} for r in rows)


def test_expected_figures_add_up_and_agree_with_the_anomalies():
    figures = expected_figures(21, 1500)
    assert figures.shipments == 1500
    assert figures.units == figures.units_matched + figures.units_ambiguous + figures.units_unmatched
    assert figures.units_unmatched == (figures.units_invalid_barcode + figures.units_without_barcode
                                       + figures.units_unknown_barcode)
    scenario = build_scenario(21, 1500)
    count = lambda *names: sum(scenario.variants[i]["anomaly"] in names for i in scenario.unit_entries)  # noqa: E731
    assert figures.units_unknown_barcode == count("not_exported")
    assert figures.units_invalid_barcode == count("bad_check_digit")
    assert figures.units_without_barcode == count("no_trade_id")
    assert figures.units_ambiguous == count("duplicate_gtin")
    assert figures.units_reformatted == count("spaced", "zeros_dropped")
    assert figures.duplicate_gtins == sum(e["anomaly"] == "duplicate_gtin"
                                          for e in generate_catalog(21, figures.catalog_size))
    assert 0.03 < figures.units_unmatched / figures.units < 0.12
    assert json.loads(json.dumps(figures.as_dict()))["units"] == figures.units


# ------------------------------------------------------------------- executor


EQUIVALENCE_QUERIES = [
    ("spec fields, paged", PAGE_QUERY, {"first": 60, "state": "unconfirmed"}),
    ("aliases, fragments, union conditions, typenames", """
        query { __typename
          page: shipments(first: 30) {
            __typename
            nodes { ...S  again: id  order { ...O ...O } }
            info: pageInfo { more: hasNextPage }
          }
        }
        fragment S on Shipment { id number inventoryUnits { id unitState: state variant { ...V } } }
        fragment O on Order { number total shipAddress { country { iso } } }
        fragment V on Variant {
          sku price tradeId { number parser }
          product { _brand { __typename ... on Brand { brand: name } ... on BrandUnknown { unknown: name }
                             ... on BrandUnion { __typename } } name { fr } }
        }""", None),
    ("skip/include with variables, merged selections", """
        query Q($withOrder: Boolean!, $noUnits: Boolean = false) {
          shipments(first: 20) { nodes {
            id order @include(if: $withOrder) { email } order { locale }
            inventoryUnits @skip(if: $noUnits) { id }
            ... on Shipment @skip(if: $withOrder) { state }
          } }
        }""", {"withOrder": True}),
    ("skip/include other way", """
        query Q($withOrder: Boolean!, $noUnits: Boolean = false) {
          shipments(first: 20) { nodes {
            id order @include(if: $withOrder) { email } order { locale }
            inventoryUnits @skip(if: $noUnits) { id }
            ... on Shipment @skip(if: $withOrder) { state }
          } }
        }""", {"withOrder": False, "noUnits": True}),
    ("introspection falls back", "{ __schema { queryType { name } } __type(name: \"Brand\") { name } }", None),
    ("resolver error falls back", '{ shipments(after: "broken") { nodes { id } } }', None),
    ("negative first falls back", "{ shipments(first: -1) { nodes { id } } }", None),
]


@pytest.mark.parametrize("name, query, variables", EQUIVALENCE_QUERIES, ids=[q[0] for q in EQUIVALENCE_QUERIES])
def test_fast_executor_matches_graphql_core(name, query, variables):
    state = LetzshopState(13, 80, history_rate=0.3)
    state.confirm_units([(u["id"], True) for u in state.shipments[0]["inventoryUnits"]])
    state.set_tracking(state.shipments[0]["id"], "T1", "post_lu")
    executor = QueryExecutor(build())
    document = parse(query)
    assert validate(build(), document) == []
    reference = executor.reference(document, state, None, variables)
    for plans in (None, {}, {}):
        fast = executor.execute(document, state, None, variables, plans=plans)
        assert json.dumps(fast) == json.dumps(reference)
    assert (executor.fallbacks > 0) == ("falls back" in name)


def test_fast_executor_leaves_bad_data_to_graphql_core():
    state = LetzshopState(13, 5)
    state.shipments[1]["inventoryUnits"][0]["state"] = None  # a null where the schema says State!
    state.shipments[2]["order"]["total"] = "12.5"  # a string where a Float is due
    state.shipments[3]["inventoryUnits"][0]["variant"]["product"]["_brand"]["__typename"] = "Nope"
    executor = QueryExecutor(build())
    document = parse(PAGE_QUERY)
    reference = executor.reference(document, state, None, {})
    assert reference["errors"]
    assert json.dumps(executor.execute(document, state, None, {}, plans={})) == json.dumps(reference)
    assert executor.fallbacks == 1


def test_command_line_prints_figures_and_writes_the_catalog(tmp_path, capsys):
    from marketsync.sandbox.letzshop.__main__ import main

    main(["--seed", "3", "--size", "20", "--figures", "--catalog-csv", str(tmp_path / "c.csv")])
    printed = capsys.readouterr().out
    assert json.loads(printed[printed.index("{"):]) == expected_figures(3, 20).as_dict()
    lines = (tmp_path / "c.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "sku,gtin,title" and len(lines) - 1 == len(catalog_csv_rows(3, 20))
