"""The Letzshop client against the simulator: our operations validate against the schema it serves,
paging reads survive transient faults, and every failure is one clear sentence."""
import socket

import httpx
import pytest
from graphql import build_schema, parse, validate

from marketsync.resources.letzshop import LetzshopApi, LetzshopError
from marketsync.resources.letzshop.client import OPERATIONS

KEY = "sandbox-test-key"


def test_operations_validate_against_the_served_schema(letzshop_sim):
    _, endpoint = letzshop_sim
    sdl = httpx.get(endpoint.replace("/graphql", "/_sandbox/schema.graphql")).text
    schema = build_schema(sdl)
    files = sorted(OPERATIONS.glob("*.graphql"))
    assert len(files) >= 5
    for path in files:
        assert validate(schema, parse(path.read_text())) == [], path.name


def _api(endpoint, **kw):
    return LetzshopApi(endpoint, KEY, timeout=kw.pop("timeout", 2), max_wait=0.05, **kw)


def test_paging_reads_every_shipment_through_500s_and_429s(letzshop_sim):
    state, endpoint = letzshop_sim
    state.add_fault("http_500", count=2, operation="query")
    state.add_fault("http_429", count=1, retry_after=0, operation="query")
    with _api(endpoint) as api:
        ids = [s["id"] for page in api.shipment_pages("unconfirmed", 7) for s in page]
    assert len(ids) == len(set(ids)) == 30
    assert state.stats()["faults_fired"] == {"http_500": 2, "http_429": 1}


def test_reads_give_up_after_their_attempts_with_a_clear_error(letzshop_sim):
    state, endpoint = letzshop_sim
    state.add_fault("http_500", count=10, operation="query")
    with _api(endpoint, read_attempts=3) as api:
        with pytest.raises(LetzshopError, match=r"Letzshop server error \(HTTP 500\)"):
            list(api.shipment_pages("unconfirmed", 7))


def test_hanging_server_times_out_as_unknown_outcome(letzshop_sim):
    state, endpoint = letzshop_sim
    state.add_fault("hang", count=1, seconds=3)
    with _api(endpoint, timeout=0.5) as api:
        with pytest.raises(LetzshopError) as caught:
            api.ping()
    assert caught.value.kind == "outcome_unknown" and "ReadTimeout" in str(caught.value)


def test_unreachable_and_bad_key_are_named(letzshop_sim):
    _, endpoint = letzshop_sim
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}/graphql"
    with LetzshopApi(closed, KEY, timeout=1, read_attempts=1) as api:
        with pytest.raises(LetzshopError, match="unreachable \\(ConnectError\\)"):
            api.ping()
    with LetzshopApi(endpoint, "wrong-key", timeout=1) as api:
        with pytest.raises(LetzshopError, match="refused the API key \\(HTTP 401\\)") as caught:
            api.ping()
    assert caught.value.kind == "auth" and "wrong-key" not in str(caught.value)


def test_user_errors_from_a_mutation_are_refusals(letzshop_sim):
    _, endpoint = letzshop_sim
    with _api(endpoint) as api:
        with pytest.raises(LetzshopError) as caught:
            api.confirm_units({"no-such-unit": True})
    assert caught.value.kind == "rejected"
