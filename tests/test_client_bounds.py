"""Every API client is bounded and says what went wrong: a paging loop that does not advance stops
with a worded error, an answer past the size cap is refused while it streams in, a sequence stops
after its page cap and its deadline, and a malformed answer is a worded error of the client's type,
classed transient (worth a later try) or permanent. Each client is tested against its simulator on
loopback, the fault armed through the simulator's fault injection."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from resources.http_limits import Limits, Paging
from resources.letzshop import LetzshopResource
from resources.letzshop.client import LetzshopError

SIM_KEY = "sandbox-test-key"  # tests/conftest.py's letzshop_sim key


# ------------------------------------------------------------------------------------ the shared guard
def test_paging_refuses_a_repeated_cursor_and_stops_at_its_caps():
    class Failed(Exception):
        def __init__(self, message, kind):
            super().__init__(message)
            self.kind = kind

    paging = Paging("the list", Failed, Limits(max_pages=3))
    assert [paging.next(None), paging.next("a"), paging.next("b")] == [1, 2, 3]
    with pytest.raises(Failed) as stuck:
        paging.next("a")
    assert stuck.value.kind == "paging_stuck" and "would never end" in str(stuck.value)
    with pytest.raises(Failed) as capped:
        paging.next("c")
    assert capped.value.kind == "too_many_pages" and "more than 3 pages" in str(capped.value)

    now = [0.0]
    timed = Paging("the list", Failed, Limits(deadline_seconds=10), clock=lambda: now[0])
    timed.next(None)
    now[0] = 11.0
    with pytest.raises(Failed) as late:
        timed.next("x")
    assert late.value.kind == "deadline"


# ------------------------------------------------------------------------------------ Letzshop
@pytest.fixture
def letzshop(letzshop_sim):
    state, endpoint = letzshop_sim
    resource = LetzshopResource(timeout_seconds=5, max_retry_wait_seconds=0.05, read_attempts=2,
                                max_answer_mib=1.0)
    return SimpleNamespace(state=state, endpoint=endpoint, resource=resource)


def _all_pages(shop, resource=None, state="unconfirmed", size=5):
    with (resource or shop.resource).session(shop.endpoint, SIM_KEY) as api:
        return list(api.shipment_pages(state, size))


def test_letzshop_pages_normally(letzshop):
    pages = _all_pages(letzshop)
    assert len(pages) > 1 and all(isinstance(n, dict) for page in pages for n in page)


def test_letzshop_repeating_cursor_stops_with_a_worded_error(letzshop):
    letzshop.state.add_fault("repeat_cursor", count=1000)
    with pytest.raises(LetzshopError) as failed:
        _all_pages(letzshop)
    assert failed.value.kind == "paging_stuck" and failed.value.transient
    assert "would never end" in str(failed.value)
    assert letzshop.state.fault_counts["repeat_cursor"] <= 3  # stopped at once, not 1,826 requests later


def test_letzshop_page_cap(letzshop):
    capped = letzshop.resource.model_copy(update={"max_pages": 2})
    with pytest.raises(LetzshopError) as failed:
        _all_pages(letzshop, capped)
    assert failed.value.kind == "too_many_pages" and not failed.value.transient


def test_letzshop_null_nodes_is_a_worded_malformed_error(letzshop):
    letzshop.state.add_fault("null_nodes")
    with pytest.raises(LetzshopError) as failed:
        _all_pages(letzshop)
    assert failed.value.kind == "malformed" and failed.value.transient
    assert "`nodes` is null" in str(failed.value)


def test_letzshop_huge_answer_is_refused_while_streaming(letzshop):
    letzshop.state.add_fault("huge_answer", size_mib=40)
    with pytest.raises(LetzshopError) as failed:
        _all_pages(letzshop)
    assert failed.value.kind == "too_large" and not failed.value.transient
    assert "1.0 MiB cap" in str(failed.value)


def test_letzshop_graphql_internal_error_is_transient_and_retried(letzshop):
    letzshop.state.add_fault("graphql_internal")
    assert len(_all_pages(letzshop)) > 1  # one retry got the page
    letzshop.state.add_fault("graphql_internal", count=5)
    with pytest.raises(LetzshopError) as failed:
        _all_pages(letzshop)
    assert failed.value.kind == "server" and failed.value.transient and "INTERNAL_SERVER_ERROR" in str(failed.value)


def test_letzshop_validation_error_is_permanent(letzshop):
    letzshop.state.add_fault("graphql_invalid")
    with pytest.raises(LetzshopError) as failed:
        _all_pages(letzshop)
    assert failed.value.kind == "rejected" and not failed.value.transient
    assert letzshop.state.fault_counts["graphql_invalid"] == 1  # not retried


def test_letzshop_not_json_is_malformed(letzshop):
    letzshop.state.add_fault("not_json", count=5)
    with pytest.raises(LetzshopError) as failed:
        _all_pages(letzshop)
    assert failed.value.kind == "malformed" and failed.value.transient
