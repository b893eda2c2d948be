"""Every API client is bounded and says what went wrong: a paging loop that does not advance stops
with a worded error, an answer past the size cap is refused while it streams in, a sequence stops
after its page cap and its deadline, and a malformed answer is a worded error of the client's type,
classed transient (worth a later try) or permanent. Each client is tested against its simulator on
loopback, the fault armed through the simulator's fault injection."""
from __future__ import annotations

from datetime import UTC
from types import SimpleNamespace

import pytest

from marketsync.resources.http_limits import Limits, Paging
from marketsync.resources.letzshop import LetzshopResource
from marketsync.resources.letzshop.client import LetzshopError

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


# ------------------------------------------------------------------------------------ configuration errors
def test_configuration_errors_are_permanent_worded_and_not_retried(warehouse, vault, letzshop_sim):
    """A missing application client id or secret, missing credentials and a revoked refresh token fail
    at once (no retries) with `transient` False and say what fixes them."""
    from sqlalchemy import text

    from marketsync.assets.accounts import get_account, upsert_account
    from marketsync.assets.amazon.connection import amazon_session
    from marketsync.assets.ebay.connection import ebay_session
    from marketsync.assets.letzshop.connection import letzshop_session
    from marketsync.resources.amazon_sp_api import AmazonError, AmazonSpApiResource
    from marketsync.resources.ebay import EbayError, EbayResource
    from marketsync.resources.jtl_ffn import JtlFfnError, JtlFfnResource
    from marketsync.resources.vault import VaultError
    from marketsync.sandbox.ebay.app import create_app
    from marketsync.sandbox.ebay.state import EbayState
    from marketsync.sandbox.http import serve_in_thread

    state = EbayState(seed=3, orders=5, skus=5, clients={"cid": "csecret"})
    with serve_in_thread(create_app(state)) as server, warehouse.begin() as conn:
        bay = upsert_account(conn, "cfg", "ebay", server.base_url, {})
        zon = upsert_account(conn, "cfg", "amazon", server.base_url, {"seller_id": "S", "marketplace_ids": ["M"]})
        upsert_account(conn, "cfg", "letzshop", letzshop_sim[1], {})
        for session, resource, account, error, variable in (
                (ebay_session, EbayResource(client_id="", client_secret="x"), bay, EbayError, "EBAY_CLIENT_ID"),
                (amazon_session, AmazonSpApiResource(client_id="x", client_secret=""), zon, AmazonError,
                 "AMAZON_LWA_CLIENT_SECRET")):
            with pytest.raises(error) as failed:
                session(resource, conn, vault, account.account_id)
            assert not failed.value.transient and variable in str(failed.value)
        with pytest.raises(JtlFfnError) as failed:
            JtlFfnResource(client_id="", client_secret="").session(token_store=None)
        assert not failed.value.transient and "JTL_FFN_CLIENT_ID and JTL_FFN_CLIENT_SECRET" in str(failed.value)
        # No credentials stored.
        with pytest.raises(EbayError) as failed:
            ebay_session(EbayResource(client_id="cid", client_secret="csecret"), conn, vault, bay.account_id)
        assert not failed.value.transient and "marketsync credentials set STORE ebay" in str(failed.value)
        letz_account = get_account(conn, "cfg", "letzshop")
    with pytest.raises(VaultError) as failed:
        with letzshop_session(warehouse, vault, LetzshopResource(), letz_account):
            pass
    assert not failed.value.transient and "marketsync credentials set cfg letzshop" in str(failed.value)

    # A revoked refresh token: invalid_grant on the refresh, at once, without the client's retries.
    grant = state.grant(client_id="cid")
    with warehouse.begin() as conn:
        vault.store(conn, bay.account_id, {"refresh_token": grant["refresh_token"]})
    state.revoke_refresh_token(grant["refresh_token"])
    with serve_in_thread(create_app(state)) as server:
        with warehouse.begin() as conn:
            conn.execute(text("UPDATE ops.accounts SET endpoint = :endpoint WHERE account_id = :account_id"),
                         {"endpoint": server.base_url, "account_id": bay.account_id})
        resource = EbayResource(client_id="cid", client_secret="csecret", retry_backoff_seconds=0.01)
        with ebay_session(resource, warehouse.engine, vault, bay.account_id) as api:
            with pytest.raises(EbayError) as failed:
                list(api.orders_modified(__import__("datetime").datetime(2026, 1, 1)))
            assert failed.value.kind == "reauthorize" and not failed.value.transient
            assert api.token_calls == 1  # not retried


# ------------------------------------------------------------------------------------ eBay
@pytest.fixture
def ebay():
    from marketsync.resources.ebay import EbayApi
    from marketsync.sandbox.ebay.app import create_app
    from marketsync.sandbox.ebay.state import EbayState
    from marketsync.sandbox.http import serve_in_thread

    state = EbayState(seed=4, orders=60, skus=10, clients={"cid": "csecret"})
    with serve_in_thread(create_app(state)) as server:
        def session(**limits):
            return EbayApi(server.base_url, server.base_url + "/identity/v1/oauth2/token", "cid", "csecret",
                           state.grant(client_id="cid")["refresh_token"], backoff=0.01, attempts=2,
                           limits=Limits(**limits))
        yield SimpleNamespace(state=state, session=session)


def _ebay_orders(shop, **limits):
    from datetime import datetime

    with shop.session(**limits) as api:
        return list(api.orders_modified(datetime(2020, 1, 1, tzinfo=UTC), page_size=10))


def test_ebay_bounds_and_malformed_answers(ebay):
    from marketsync.resources.ebay import EbayError

    assert len(_ebay_orders(ebay)) == 60
    ebay.state.add_fault("repeat_next", count=100, skip=1, target="getOrders")
    with pytest.raises(EbayError) as failed:
        _ebay_orders(ebay)
    assert failed.value.kind == "paging_stuck" and failed.value.transient and "would never end" in str(failed.value)
    ebay.state.clear_faults()
    with pytest.raises(EbayError) as failed:
        _ebay_orders(ebay, max_pages=3)
    assert failed.value.kind == "too_many_pages" and not failed.value.transient
    ebay.state.add_fault("null_list", skip=1, target="getOrders")
    with pytest.raises(EbayError) as failed:
        _ebay_orders(ebay)
    assert failed.value.kind == "malformed" and failed.value.transient and "`orders` is null" in str(failed.value)
    ebay.state.add_fault("huge_answer", size_mib=30, target="getOrders")
    with pytest.raises(EbayError) as failed:
        _ebay_orders(ebay, max_answer_mib=1)
    assert failed.value.kind == "too_large" and not failed.value.transient
    ebay.state.add_fault("not_json", count=5, target="getOrders")
    with pytest.raises(EbayError) as failed:
        _ebay_orders(ebay)
    assert failed.value.transient


# ------------------------------------------------------------------------------------ Amazon
def test_amazon_bounds_and_malformed_answers(warehouse, vault):
    from datetime import datetime

    from marketsync.assets.accounts import upsert_account
    from marketsync.assets.amazon.connection import amazon_session
    from marketsync.resources.amazon_sp_api import AmazonError, AmazonSpApiResource
    from marketsync.sandbox.amazon import AmazonState, create_app
    from marketsync.sandbox.http import serve_in_thread

    scale = 20_000.0
    state = AmazonState(seed=5, size=60, catalog_size=10, rate_scale=scale, clients={"cid": "csecret"})
    with serve_in_thread(create_app(state)) as server:
        with warehouse.begin() as conn:
            account = upsert_account(conn, "zb", "amazon", server.base_url,
                                     {"seller_id": state.seller_id, "marketplace_ids": list(state.marketplace_ids)})
            vault.store(conn, account.account_id, {"refresh_token": state.authorize()})
        resource = AmazonSpApiResource(client_id="cid", client_secret="csecret", rate_scale=scale, attempts=2,
                                       retry_backoff_seconds=0.01, max_retry_wait_seconds=0.05)

        def orders(**options):
            with amazon_session(resource.model_copy(update=options), warehouse.engine, vault,
                                account.account_id) as api:
                return list(api.search_orders(datetime(2020, 1, 1, tzinfo=UTC), page_size=10))

        assert len(orders()) == 60
        for fault, options, kind, transient, words in (
                ("repeat_token", {}, "paging_stuck", True, "would never end"),
                (None, {"max_pages": 2}, "too_many_pages", False, "more than 2 pages"),
                ("null_list", {}, "malformed", True, "`orders` is null"),
                ("not_json", {}, "malformed", True, "not JSON"),
                ("huge_answer", {"max_answer_mib": 1}, "too_large", False, "1.0 MiB cap")):
            state.clear_faults()
            if fault:
                state.add_fault(fault, count=100, skip=1, target="searchOrders",
                                **({"size_mib": 20} if fault == "huge_answer" else {}))
            with pytest.raises(AmazonError) as failed:
                orders(**options)
            assert (failed.value.kind, failed.value.transient) == (kind, transient) and words in str(failed.value)


# ------------------------------------------------------------------------------------ JTL-FFN
def test_jtl_ffn_page_and_size_caps(warehouse, vault):
    from marketsync.resources.jtl_ffn import JtlFfnError, JtlFfnResource, MemoryTokenStore
    from marketsync.sandbox.http import serve_in_thread
    from marketsync.sandbox.jtl_ffn.app import create_app
    from marketsync.sandbox.jtl_ffn.state import JtlFfnState

    state = JtlFfnState(seed=11, size=500, clients={"cid": "csecret"})
    with serve_in_thread(create_app(state)) as server:
        def api(**options):
            resource = JtlFfnResource(client_id="cid", client_secret="csecret", base_url=server.base_url,
                                      token_url=f"{server.base_url}/token", attempts=2, max_retry_wait_seconds=0.05,
                                      **options)
            return resource.session(MemoryTokenStore(state.grant("cid")["refresh_token"]))

        with api() as session:
            assert len(list(session.stocks())) == 500
        with api(max_pages=2) as session, pytest.raises(JtlFfnError) as failed:
            list(session.stocks())
        assert failed.value.kind == "too_many_pages" and not failed.value.transient
        with api(max_answer_mib=0.01) as session, pytest.raises(JtlFfnError) as failed:
            list(session.stocks())  # a page of 200 stocks is larger than 10 KiB
        assert failed.value.kind == "too_large" and not failed.value.transient and "MiB cap" in str(failed.value)


# ------------------------------------------------------------------------------------ CodesWholesale
@pytest.mark.integration
def test_codeswholesale_page_and_size_caps():
    from marketsync.resources.codeswholesale import CodesWholesaleError, CodesWholesaleResource
    from marketsync.sandbox.codeswholesale.app import create_app
    from marketsync.sandbox.codeswholesale.state import CodesWholesaleState
    from marketsync.sandbox.http import serve_in_thread

    state = CodesWholesaleState(seed=11, size=300, clients={"cid": "csecret"}, page_size=100)
    with serve_in_thread(create_app(state)) as server:
        def pages(**options):
            resource = CodesWholesaleResource(attempts=2, max_retry_wait_seconds=0.05, **options)
            with resource.session(server.base_url, "cid", "csecret") as api:
                return list(api.product_pages())

        assert sum(len(page) for page in pages()) == 300
        with pytest.raises(CodesWholesaleError) as failed:
            pages(max_pages=2)
        assert failed.value.kind == "too_many_pages" and not failed.value.transient
        with pytest.raises(CodesWholesaleError) as failed:
            pages(max_answer_mib=0.01)
        assert failed.value.kind == "too_large" and not failed.value.transient
        with pytest.raises(CodesWholesaleError) as failed:
            CodesWholesaleResource().session(server.base_url, "", "csecret")
        assert failed.value.kind == "auth" and not failed.value.transient


def test_a_letzshop_import_stops_on_a_repeating_cursor_and_keeps_what_it_committed(shop):
    """The issue's loop: Letzshop answers the same cursor with hasNextPage true. The import stops with
    a worded, transient error after a few requests (not 1,826 in 40 s) and the pages read stay."""
    from sqlalchemy import text

    from marketsync.assets.letzshop.connection import letzshop_session
    from marketsync.assets.letzshop.load import import_shipments

    shop.state.add_fault("repeat_cursor", count=10_000)
    with pytest.raises(LetzshopError) as failed:
        with letzshop_session(shop.warehouse, shop.vault, shop.letzshop, shop.account) as api:
            import_shipments(shop.warehouse.engine, shop.account, api, ["unconfirmed"], run_id="test")
    assert failed.value.kind == "paging_stuck" and failed.value.transient
    assert "Letzshop shipments (unconfirmed)" in str(failed.value)
    assert shop.state.fault_counts["repeat_cursor"] == 2  # the first page, and the page that repeated it
    with shop.warehouse.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM raw.letzshop_shipments")).scalar() > 0
