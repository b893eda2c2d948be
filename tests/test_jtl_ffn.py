"""JTL FFN: the Merchant API client against the simulator over loopback HTTP, its tokens in the test
Postgres (encrypted in ops.credentials, refreshed under a row lock): refresh before expiry and on 401,
single-use refresh tokens rotated many times, a crash between the token call and the commit, two
clients racing for one account, paging, idempotent outbound creation, and errors without secrets."""
import base64
import logging
import threading
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
from sqlalchemy import text

from marketsync.assets.accounts import upsert_account
from marketsync.resources.jtl_ffn import (
    JtlFfnApi,
    JtlFfnError,
    JtlFfnResource,
    MemoryTokenStore,
    TokenSet,
    VaultTokenStore,
    store_refresh_token,
)
from marketsync.sandbox.http import serve_in_thread
from marketsync.sandbox.jtl_ffn.state import JtlFfnState

CLIENT_ID = "ffn-test-app"
CLIENT_SECRET = "Canary/FFN+secret=%41xyz"  # characters that must survive Basic auth untouched


@pytest.fixture
def ffn():
    """A seeded FFN simulator on loopback: (state, base URL). 1,234 products, 3 warehouses."""
    from marketsync.sandbox.jtl_ffn.app import create_app

    state = JtlFfnState(seed=11, size=1234, clients={CLIENT_ID: CLIENT_SECRET})
    with serve_in_thread(create_app(state)) as server:
        yield state, server.base_url


@pytest.fixture
def account(warehouse, vault, ffn):
    """Store 'shop' with a jtl_ffn account whose first refresh token the user entered."""
    state, base_url = ffn
    refresh_token = state.grant(CLIENT_ID)["refresh_token"]
    with warehouse.begin() as conn:
        account = upsert_account(conn, "shop", "jtl_ffn", base_url)
        store_refresh_token(conn, vault, account.account_id, refresh_token)
    return account.account_id


def _resource(base_url: str, **overrides) -> JtlFfnResource:
    return JtlFfnResource(**{"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "base_url": base_url,
                             "token_url": f"{base_url}/token", "timeout_seconds": 5, "attempts": 4,
                             "max_retry_wait_seconds": 0.5, **overrides})


def _api(warehouse, vault, account_id, base_url, store=None, **overrides) -> JtlFfnApi:
    resource = _resource(base_url, **overrides)
    if store is not None:
        return resource.session(store)
    return resource.account_session(warehouse.engine, vault, account_id)


def _stored(warehouse, vault, account_id) -> TokenSet:
    return VaultTokenStore(warehouse.engine, vault, account_id).load()


def _outbound(state: JtlFfnState, number: str, *lines: tuple[int, int]) -> dict:
    return {"merchantOutboundNumber": number, "warehouseId": state.warehouses[0]["warehouseId"], "currency": "EUR",
            "salesChannel": "Letzshop",
            "shippingAddress": {"firstname": "Zoë", "lastname": "Kieffer", "street": "Grand-Rue 1",
                                "city": "Luxembourg", "zip": "1660", "country": "LU"},
            "items": [{"jfsku": state.catalogue.jfsku(index), "quantity": quantity} for index, quantity in lines]}


# ------------------------------------------------------------------------------------------- paging
def test_pages_over_every_stock_following_next_page_link(ffn, warehouse, vault, account):
    state, base_url = ffn
    with _api(warehouse, vault, account, base_url) as api:
        jfskus = [s["jfsku"] for s in api.stocks()]
        assert api.token_calls == 1
    assert len(jfskus) == len(set(jfskus)) == 1234
    assert set(jfskus) == {state.catalogue.jfsku(i) for i in range(1234)}
    pages = [target for route, _, target in state.recent if route == "stocks"]
    assert len(pages) == 7 and pages[0].endswith("?%24top=200")
    assert [p.rsplit("$skip=", 1)[1] for p in pages[1:]] == ["200", "400", "600", "800", "1000", "1200"]


def test_counts_skip_when_answers_carry_no_page_link(ffn, warehouse, vault, account):
    state, base_url = ffn
    state.page_links = False
    with _api(warehouse, vault, account, base_url, page_size=100) as api:
        products = [p["jfsku"] for p in api.products()]
        food = list(api.products(productGroup="Food"))
    assert len(products) == len(set(products)) == 1234
    assert food and {p["productGroup"] for p in food} == {"Food"}
    requested = [target for route, _, target in state.recent if route == "products"]
    assert len([t for t in requested if "filter" not in t]) == 13  # 12 full pages, a short last one
    assert len([t for t in requested if "filter" in t]) == len(food) // 100 + 1


def test_reads_every_kind_of_document(ffn, warehouse, vault, account):
    state, base_url = ffn
    with _api(warehouse, vault, account, base_url, page_size=50) as api:
        warehouses = api.warehouses()
        methods = api.shipping_methods()
        inbounds = list(api.inbounds())
        outbounds = list(api.outbounds())
        shipped = list(api.outbounds(status="Shipped"))
        jfsku = state.catalogue.jfsku(7)
        stock = api.stock(jfsku)
        product = api.product(jfsku)
        in_warehouse = list(api.stocks(warehouses[0]["warehouseId"]))
        received = next(i for i in inbounds if i["status"] == "PartiallyReceipted")
        notices = api.inbound_shipping_notifications(received["inboundId"])
    assert [w["warehouseId"] for w in warehouses] == [w["warehouseId"] for w in state.warehouses]
    assert {m["carrierName"] for m in methods} >= {"DHL", "DPD"}
    assert len(inbounds) == len(state.inbounds) and len(outbounds) == len(state.outbounds)
    assert shipped and {o["status"] for o in shipped} == {"Shipped"}
    assert stock["jfsku"] == product["jfsku"] == jfsku and stock["merchantSku"] == product["merchantSku"]
    assert stock["stockLevel"] == sum(w["stockLevel"] for w in stock["warehouses"])
    assert in_warehouse and {s["warehouseId"] for s in in_warehouse} == {warehouses[0]["warehouseId"]}
    assert any(i["quantityOpen"] < i["quantity"] for i in received["items"])  # something has arrived
    assert notices[0]["packages"][0]["identifier"][0]["identifierType"] == "TrackingId"


# ------------------------------------------------------------------------------------------- tokens
def test_access_token_is_renewed_before_it_expires(ffn, warehouse, vault, account):
    state, base_url = ffn
    state.token_ttl = 1.0
    with _api(warehouse, vault, account, base_url, token_margin_seconds=60) as api:
        api.test_connection()
        time.sleep(0.6)  # past half the token's life: renewed before use, no 401 needed
        api.test_connection()
        assert api.token_calls == 2
    assert "401" not in state.stats()["statuses"]


def test_a_401_refreshes_once_and_the_new_pair_is_stored(ffn, warehouse, vault, account):
    state, base_url = ffn
    first = _stored(warehouse, vault, account).refresh_token
    state.add_fault("expire_tokens", skip=3, target="stocks")  # the 4th page meets an expired token
    with _api(warehouse, vault, account, base_url) as api:
        assert len(list(api.stocks())) == 1234
        assert api.token_calls == 2
    stats = state.stats()
    assert stats["statuses"]["401"] == 1 and stats["refreshes"] == 2
    stored = _stored(warehouse, vault, account)
    assert stored.refresh_token != first and state.refresh_token_status(stored.refresh_token) == "valid"
    assert state.refresh_token_status(first) == "used"


def test_twenty_rotations_of_the_single_use_refresh_token_never_fail(ffn, warehouse, vault, account):
    """Short-lived access tokens and a long paging run: the refresh token is spent and replaced over
    and over, and what the database holds is always the one live refresh token."""
    state, base_url = ffn
    state.token_ttl = 0.2  # replaced from 0.1 s on (the slack keeps a busy machine from meeting 401s)
    family = state.family_of(_stored(warehouse, vault, account).refresh_token)
    pages = 0
    with _api(warehouse, vault, account, base_url, page_size=25) as api:
        while api.token_calls < 21:
            for _page in api.pages("/api/v1/merchant/stocks"):
                pages += 1
                stored = _stored(warehouse, vault, account).refresh_token
                assert stored == state.latest_refresh_token(family)
                assert state.refresh_token_status(stored) == "valid"
                if api.token_calls >= 21:
                    break
    stats = state.stats()
    assert stats["refreshes"] >= 20 and stats["refresh_reuse_detected"] == 0 and stats["families_revoked"] == 0
    assert pages >= 20 and "400" not in stats["statuses"]


class CrashingStore(VaultTokenStore):
    """Dies after the token endpoint answered, before the new pair is committed."""

    def _save(self, conn, fields, tokens):
        raise RuntimeError("simulated crash before commit")


def test_a_crash_between_token_call_and_commit_asks_for_reauthorisation(ffn, warehouse, vault, account):
    """The token endpoint spent the stored refresh token; the crash rolled the new pair back. The row
    still holds the spent token, so the next refresh is a reuse: the provider revokes the authorisation
    and the client says, in one line, that the merchant must authorise again."""
    state, base_url = ffn
    before = _stored(warehouse, vault, account).refresh_token
    crashing = CrashingStore(warehouse.engine, vault, account)
    with _api(warehouse, vault, account, base_url, store=crashing) as api:
        with pytest.raises(RuntimeError, match="simulated crash"):
            api.warehouses()
    assert _stored(warehouse, vault, account).refresh_token == before  # rolled back: the old (spent) token
    assert state.refresh_token_status(before) == "used"
    lost = state.latest_refresh_token(state.family_of(before))  # the pair only the lost answer held

    with _api(warehouse, vault, account, base_url) as api:
        with pytest.raises(JtlFfnError) as failed:
            api.warehouses()
    assert failed.value.kind == "reauthorize" and not failed.value.transient
    assert "authorise marketsync" in str(failed.value) and "\n" not in str(failed.value)
    stats = state.stats()
    assert stats["refresh_reuse_detected"] == 1 and stats["families_revoked"] == 1
    assert state.refresh_token_status(lost) == "revoked"

    # The way out: the user authorises again and enters the new refresh token.
    with warehouse.begin() as conn:
        store_refresh_token(conn, vault, account, state.grant(CLIENT_ID)["refresh_token"])
    with _api(warehouse, vault, account, base_url) as api:
        assert len(api.warehouses()) == 3


def test_two_clients_racing_never_spend_the_same_refresh_token(ffn, warehouse, vault, account):
    state, base_url = ffn
    start = threading.Barrier(2)
    failures: list[BaseException] = []
    sessions = [_api(warehouse, vault, account, base_url) for _ in range(2)]

    def work(api: JtlFfnApi, rounds: int) -> None:
        try:
            start.wait(5)
            api.warehouses()  # both find no access token at once: one refreshes, the other waits and reuses
            for _ in range(rounds):
                for _ in api.stocks():
                    pass
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=work, args=(api, 0)) for api in sessions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert not failures and sum(api.token_calls for api in sessions) == 1 == state.stats()["refreshes"]

    # Now both keep refreshing while they page. The lifetime leaves a refreshed token time to reach the
    # simulator on a loaded machine (at 0.2 s one could expire on its way, and the client rightly gives up).
    state.token_ttl = 0.6
    state.expire_access_tokens()  # starting with a 401 each
    start.reset()
    threads = [threading.Thread(target=work, args=(api, 12)) for api in sessions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    for api in sessions:
        api.close()
    stats = state.stats()
    assert not failures, failures
    assert stats["refresh_reuse_detected"] == 0 and stats["families_revoked"] == 0
    assert stats["refreshes"] == sum(api.token_calls for api in sessions) >= 3
    assert state.refresh_token_status(_stored(warehouse, vault, account).refresh_token) == "valid"


def test_entering_a_refresh_token_keeps_other_fields_and_drops_the_old_access_token(ffn, warehouse, vault, account):
    _state, _base_url = ffn
    with warehouse.begin() as conn:
        store_refresh_token(conn, vault, account, "def502-old")
        vault.store(conn, account, {"refresh_token": "def502-old", "access_token": "eyJ-old",
                                    "access_token_refresh_at": repr(time.time() + 999), "note": "kept"})
        store_refresh_token(conn, vault, account, "def502-new")
        fields = vault.load(conn, account).masked().keys()
        raw = bytes(conn.execute(text("SELECT token FROM ops.credentials WHERE account_id = :a"),
                                 {"a": account}).scalar_one())
    assert set(fields) == {"refresh_token", "note"}
    assert _stored(warehouse, vault, account) == TokenSet("def502-new")
    assert b"def502-new" not in raw  # encrypted at rest


def test_no_refresh_token_stored_asks_for_authorisation(ffn, warehouse, vault):
    _, base_url = ffn
    with warehouse.begin() as conn:
        account = upsert_account(conn, "bare", "jtl_ffn", base_url).account_id
    with _api(warehouse, vault, account, base_url) as api:
        with pytest.raises(JtlFfnError, match="no JTL FFN refresh token is stored") as failed:
            api.warehouses()
    assert failed.value.kind == "reauthorize"


# ------------------------------------------------------------------------------------------- retries
def test_reads_retry_429_and_5xx_honouring_retry_after(ffn, warehouse, vault, account):
    state, base_url = ffn
    state.add_fault("http_429", retry_after=0.4, skip=1, target="stocks")  # (a request passing an armed
    state.add_fault("http_500", skip=3, target="stocks")  # fault counts down the skips of those after it)
    state.add_fault("http_502", skip=5, target="stocks")
    state.add_fault("http_503", retry_after=0.1, target="token")
    started = time.perf_counter()
    with _api(warehouse, vault, account, base_url) as api:
        assert len(list(api.stocks())) == 1234
    assert time.perf_counter() - started >= 0.4
    assert state.stats()["faults_fired"] == {"http_429": 1, "http_500": 1, "http_502": 1, "http_503": 1}
    assert state.stats()["refreshes"] == 1  # the refused token call spent nothing


def test_a_read_that_times_out_is_asked_again(ffn, warehouse, vault, account):
    state, base_url = ffn
    state.add_fault("slow", seconds=0.6, target="warehouses")
    with _api(warehouse, vault, account, base_url, timeout_seconds=0.2) as api:
        assert len(api.warehouses()) == 3
        assert api.requests == 3  # the token, the read that timed out, the read again


# ------------------------------------------------------------------------------------------- outbounds
def test_creating_an_outbound_is_idempotent_by_merchant_outbound_number(ffn, warehouse, vault, account):
    state, base_url = ffn
    payload = _outbound(state, "LZ-R100200300", (5, 2), (9, 1))
    with _api(warehouse, vault, account, base_url) as api:
        created = api.create_outbound(payload)
        again = api.create_outbound(payload)  # FFN answers 400 Shared_DuplicateKey; we return the existing one
        assert api.outbounds_found_existing == 1
        assert api.find_outbound("LZ-R100200300")["outboundId"] == created["outboundId"]
        assert api.find_outbound("LZ-nothing") is None
    assert again["outboundId"] == created["outboundId"] and created["status"] == "Pending"
    assert [i["quantityOpen"] for i in created["items"]] == [2, 1]
    stats = state.stats()
    assert stats["outbounds_created"] == 1 and stats["duplicate_outbounds"] == 1


def test_a_lost_answer_or_a_5xx_on_create_never_makes_two_outbounds(ffn, warehouse, vault, account):
    state, base_url = ffn
    state.add_fault("lost_response", target="create_outbound")  # created, but the client sees a 502
    state.add_fault("http_503", target="create_outbound")  # refused before anything happened
    with _api(warehouse, vault, account, base_url) as api:
        lost = api.create_outbound(_outbound(state, "LZ-LOST", (3, 1)))
        assert api.outbounds_found_existing == 1  # looked up before sending again
        refused = api.create_outbound(_outbound(state, "LZ-503", (4, 1)))
        assert api.outbounds_found_existing == 1  # looked up, not found, sent again
    assert state.outbound_by_number("LZ-LOST")["outboundId"] == lost["outboundId"]
    assert state.outbound_by_number("LZ-503")["outboundId"] == refused["outboundId"]
    stats = state.stats()
    assert stats["outbounds_created"] == 2 and stats["duplicate_outbounds"] == 0


def test_shipping_notifications_show_a_partial_shipment(ffn, warehouse, vault, account):
    state, base_url = ffn
    since = datetime.now(UTC) - timedelta(seconds=5)
    with _api(warehouse, vault, account, base_url) as api:
        outbound = api.create_outbound(_outbound(state, "LZ-PART", (5, 2), (9, 1)))
        jfsku = state.catalogue.jfsku(5)
        reserved = api.stock(jfsku)["stockLevelReserved"]
        state.ship(outbound["outboundId"], {jfsku: 1}, tracking_number="00340434000000000017")
        partial = api.outbound(outbound["outboundId"])
        notices = api.shipping_notifications(outbound["outboundId"])
        assert api.stock(jfsku)["stockLevelReserved"] == reserved - 1
        state.ship(outbound["outboundId"])  # the rest
        time.sleep(0.002)  # a change window ends before the current millisecond
        changed = list(api.outbounds(since=since))
        assert api.last_updates_to is not None
        assert len(api.shipping_notifications(outbound["outboundId"])) == 2
    assert partial["status"] == "PartiallyShipped"
    assert [(i["jfsku"], i["quantityOpen"]) for i in partial["items"]] == [(jfsku, 1), (state.catalogue.jfsku(9), 1)]
    (notice,) = notices
    assert [(i["jfsku"], i["quantity"]) for i in notice["items"]] == [(jfsku, 1)]
    package = notice["packages"][0]
    assert package["freightOption"] == "Parcel" and package["identifier"][0]["value"] == "00340434000000000017"
    assert package["trackingUrl"].endswith("00340434000000000017") and package["shippingMethodId"]
    assert [(o["outboundId"], o["status"]) for o in changed] == [(outbound["outboundId"], "Shipped")]


def test_inbound_changes_since_a_moment(ffn, warehouse, vault, account):
    state, base_url = ffn
    since = datetime.now(UTC) - timedelta(seconds=5)
    pending = next(i for i in state.inbounds if i["status"] == "Pending")
    state.receive(pending["inboundId"])
    time.sleep(0.002)  # a change window ends before the current millisecond
    with _api(warehouse, vault, account, base_url) as api:
        (received,) = list(api.inbounds(since=since))
    assert received["inboundId"] == pending["inboundId"] and received["status"] == "Receipted"
    assert all(i["quantityOpen"] == 0 for i in received["items"])


# ------------------------------------------------------------------------------------------- errors
def test_errors_are_one_line_and_never_carry_secrets(ffn, warehouse, vault, account, caplog):
    state, base_url = ffn
    caplog.set_level(logging.DEBUG)
    errors: list[JtlFfnError] = []

    def failing(call):
        with pytest.raises(JtlFfnError) as failed:
            call()
        errors.append(failed.value)
        return failed.value

    with _api(warehouse, vault, account, base_url, attempts=2) as api:
        assert failing(lambda: api.stock("MSYN01ZZZZZ")).kind == "not_found"
        bad = failing(lambda: api.create_outbound({**_outbound(state, "LZ-BAD"), "items": [], "currency": "EURO"}))
        assert bad.kind == "rejected" and bad.code == "Shared_ModelValidation" and "(and 1 more)" in str(bad)
        state.add_fault("http_500", count=2, target="warehouses")  # as many as the attempts
        assert failing(api.warehouses).kind == "server"
        state.add_fault("http_429", count=2, retry_after=0.05, target="warehouses")
        assert failing(api.warehouses).kind == "rate_limited"
        state.expire_access_tokens()
        state.add_fault("http_500", count=2, target="token")  # one token call per attempt
        assert failing(api.warehouses).kind == "server"
        state.clear_faults()
    wrong = _resource(base_url, client_secret="wrong " + CLIENT_SECRET).account_session(
        warehouse.engine, vault, account)
    with wrong:
        assert failing(wrong.warehouses).kind == "auth"
    read_only = state.grant(CLIENT_ID, scopes=("ffn.merchant.read",))
    with _api(warehouse, vault, account, base_url, store=MemoryTokenStore(read_only["refresh_token"])) as api:
        assert failing(lambda: api.create_outbound(_outbound(state, "LZ-RO", (1, 1)))).kind == "forbidden"
    state.revoke_family(state.family_of(_stored(warehouse, vault, account).refresh_token))
    with _api(warehouse, vault, account, base_url) as api:
        assert failing(api.warehouses).kind == "reauthorize"

    secrets = [CLIENT_SECRET, quote(CLIENT_SECRET, safe=""), "Canary",
               base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode(), *state.issued_secrets]
    texts = [str(e) for e in errors] + [repr(e) for e in errors] + [caplog.text]
    for message in (str(e) for e in errors):
        assert "\n" not in message and message.startswith("JTL FFN"), message
    for blob in texts:
        for secret in secrets:
            assert secret not in blob
    assert repr(_stored(warehouse, vault, account)).count("****") == 2


# ------------------------------------------------------------------------------------------- resource
def test_resource_reads_client_credentials_from_the_environment(ffn, warehouse, vault, account, monkeypatch):
    from dagster import EnvVar

    _, base_url = ffn
    monkeypatch.setenv("JTL_FFN_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("JTL_FFN_CLIENT_SECRET", CLIENT_SECRET)
    resource = JtlFfnResource(client_id=EnvVar("JTL_FFN_CLIENT_ID"), client_secret=EnvVar("JTL_FFN_CLIENT_SECRET"),
                              base_url=f"{base_url}/api", token_url=f"{base_url}/token")
    configured = resource.process_config_and_initialize()
    assert configured.client_secret == CLIENT_SECRET
    with configured.account_session(warehouse.engine, vault, account) as api:
        assert api.base_url == base_url  # a trailing /api is accepted
        assert api.test_connection()["warehouses"] == 3
