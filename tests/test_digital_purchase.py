"""Buying a digital key exactly once per order item unit (assets/digital/purchase.py), against the
CodesWholesale simulator on loopback through the real client, with its faults: a lost answer, a 5xx, a
slow answer, an order the supplier places after the client gave up, a worker killed between the charge
and our commit, a price rise, a short balance and delayed codes. Every test counts the simulator's
charges per client order id: it must end at exactly one, with exactly one key kept."""
import threading
import time
from decimal import Decimal

import pytest
from order_rows import add_order, add_product, add_store
from sqlalchemy import create_engine, text

from marketsync.assets.digital.keys import load_key
from marketsync.assets.digital.purchase import advance, load_purchase, plan_purchase, vault_keeper
from marketsync.resources.codeswholesale import CodesWholesaleResource
from marketsync.resources.database import sqlalchemy_url
from marketsync.sandbox.codeswholesale.data import single_unit_price
from marketsync.sandbox.codeswholesale.state import CodesWholesaleState
from marketsync.sandbox.http import serve_in_thread

CLIENT_ID = "cws-digital-client"
CLIENT_SECRET = "digital-Secret/Value=%41"


@pytest.fixture
def cws():
    from marketsync.sandbox.codeswholesale.app import create_app

    state = CodesWholesaleState(seed=9, size=200, clients={CLIENT_ID: CLIENT_SECRET}, page_size=100, balance=1000)
    with serve_in_thread(create_app(state)) as server:
        yield state, server.base_url


def _api(base_url: str, **overrides):
    options = {"timeout_seconds": 2, "attempts": 2, "max_retry_wait_seconds": 0.1, **overrides}
    return CodesWholesaleResource(**options).session(base_url, CLIENT_ID, CLIENT_SECRET)


class Kept:
    """The keys handed over, by purchase: what the caller would encrypt into ops.digital_keys."""

    def __init__(self):
        self.keys: dict[int, list[str]] = {}

    def __call__(self, conn, purchase, code):
        assert conn.execute(text("SELECT status FROM ops.digital_purchases WHERE purchase_id = :p"),
                            {"p": purchase.purchase_id}).scalar() in ("sent", "outcome_unknown", "fulfilling")
        self.keys.setdefault(purchase.purchase_id, []).append(code.value.get_secret_value())


def _planned(warehouse, state, *, max_cost=None, margin=5, units=1) -> tuple[list[int], dict]:
    product = next(p for p in state.products if p["quantity"] >= 20 and len(p["prices"]) == 1
                   and state.code_type(p["productId"]) == "CODE_TEXT")
    price = Decimal(str(single_unit_price(product)))
    with warehouse.begin() as conn:
        store = add_store(conn, f"dg{len(state.charges)}{id(product) % 1000}")
        product_id = add_product(conn, store[0], "KEY-1", title="A game key")
        conn.execute(text("INSERT INTO ops.digital_products (product_id, store_id, supplier_product_id, max_unit_cost, "
                          "price_margin_percent) VALUES (:p, :s, :sp, :m, :g)"),
                     {"p": product_id, "s": store[0], "sp": product["productId"], "m": max_cost, "g": margin})
        _, items = add_order(conn, store, *({"sku": "KEY-1"} for _ in range(units)))
        conn.execute(text("UPDATE core.order_items SET product_id = :p, match_status = 'matched' "
                          "WHERE order_item_id = ANY(:i)"), {"p": product_id, "i": items})
        purchases = [plan_purchase(conn, store[0], item, 1, product["productId"], price) for item in items]
    return purchases, product


def _status(warehouse, purchase_id):
    with warehouse.begin() as conn:
        return load_purchase(conn, purchase_id)


def _age_the_request(warehouse, purchase_id, seconds: int = 3600):
    with warehouse.begin() as conn:
        conn.execute(text("UPDATE ops.digital_purchases SET sent_at = sent_at - make_interval(secs => :s), "
                          "next_check_at = now() WHERE purchase_id = :p"), {"s": seconds, "p": purchase_id})


def test_a_purchase_buys_one_key_and_planning_twice_changes_nothing(cws, warehouse):
    state, base_url = cws
    (purchase_id,), _ = _planned(warehouse, state)
    with warehouse.begin() as conn:
        assert plan_purchase(conn, *conn.execute(text(
            "SELECT store_id, order_item_id, unit, supplier_product_id, listed_unit_price FROM ops.digital_purchases "
            "WHERE purchase_id = :p"), {"p": purchase_id}).one()) == purchase_id
    kept = Kept()
    with _api(base_url) as api:
        assert advance(warehouse.engine, api, purchase_id, kept) == "bought"
        assert advance(warehouse.engine, api, purchase_id, kept) == "bought"  # nothing more happens
    purchase = _status(warehouse, purchase_id)
    assert len(state.charges_for(purchase.client_order_id)) == 1 and len(kept.keys[purchase_id]) == 1
    assert purchase.supplier_order_id and purchase.charged_unit_price == purchase.listed_unit_price


def test_a_lost_answer_is_looked_up_never_bought_again(cws, warehouse):
    state, base_url = cws
    (purchase_id,), _ = _planned(warehouse, state)
    state.add_fault("lost_answer")
    kept = Kept()
    with _api(base_url) as api:
        assert advance(warehouse.engine, api, purchase_id, kept) == "outcome_unknown"
        assert advance(warehouse.engine, api, purchase_id, kept) == "bought"
    purchase = _status(warehouse, purchase_id)
    assert len(state.charges_for(purchase.client_order_id)) == 1 and len(kept.keys[purchase_id]) == 1


def test_a_worker_killed_between_the_charge_and_our_commit_never_charges_twice(cws, warehouse):
    """The request went out and the supplier charged, but the worker died before recording the answer:
    the purchase is left `sent`. The next step finds the order by our client order id."""
    state, base_url = cws
    (purchase_id,), product = _planned(warehouse, state)
    purchase = _status(warehouse, purchase_id)
    with warehouse.begin() as conn:
        conn.execute(text("UPDATE ops.digital_purchases SET status = 'sent', sent_at = now(), attempts = 1 "
                          "WHERE purchase_id = :p"), {"p": purchase_id})
    with _api(base_url) as api:
        api.place_order(purchase.client_order_id, [_line(product, purchase.offer)], allow_pre_order=True)
        kept = Kept()
        assert advance(warehouse.engine, api, purchase_id, kept) == "bought"
    assert len(state.charges_for(purchase.client_order_id)) == 1 and len(kept.keys[purchase_id]) == 1


def _line(product, price):
    from marketsync.resources.codeswholesale import OrderLineRequest

    return OrderLineRequest(product["productId"], 1, price)


def test_a_5xx_bought_nothing_and_the_intent_is_sent_again(cws, warehouse):
    state, base_url = cws
    (purchase_id,), _ = _planned(warehouse, state)
    state.add_fault("http_503", target="place_order")
    kept = Kept()
    with _api(base_url, attempts=1) as api:
        assert advance(warehouse.engine, api, purchase_id, kept) == "intent"
        assert state.charges_for(_status(warehouse, purchase_id).client_order_id) == []
        assert advance(warehouse.engine, api, purchase_id, kept) == "bought"
    assert len(state.charges_for(_status(warehouse, purchase_id).client_order_id)) == 1


def test_an_order_placed_after_the_client_gave_up_is_found_not_bought_again(cws, warehouse):
    """The supplier is slow and places the order after our request timed out: right after, the look-up
    finds nothing, and nothing is sent again before the settle time; the order is found later."""
    state, base_url = cws
    (purchase_id,), _ = _planned(warehouse, state)
    state.add_fault("slow", seconds=2.5, target="place_order")
    kept = Kept()
    with _api(base_url, timeout_seconds=1) as api:
        assert advance(warehouse.engine, api, purchase_id, kept) == "outcome_unknown"
        status = advance(warehouse.engine, api, purchase_id, kept, settle_seconds=600)
        assert status in ("outcome_unknown", "bought")  # the supplier may or may not have placed it yet
        import time

        deadline = time.monotonic() + 10
        while status != "bought" and time.monotonic() < deadline:
            time.sleep(0.3)
            status = advance(warehouse.engine, api, purchase_id, kept, settle_seconds=600)
    client_order_id = _status(warehouse, purchase_id).client_order_id
    assert status == "bought" and len(state.charges_for(client_order_id)) == 1


def test_no_order_found_long_after_the_request_sends_the_same_intent_again(cws, warehouse):
    state, base_url = cws
    (purchase_id,), _ = _planned(warehouse, state)
    with warehouse.begin() as conn:  # a request that never reached the supplier, long ago
        conn.execute(text("UPDATE ops.digital_purchases SET status = 'outcome_unknown', sent_at = now() - "
                          "interval '2 hours', attempts = 1 WHERE purchase_id = :p"), {"p": purchase_id})
    kept = Kept()
    with _api(base_url) as api:
        assert advance(warehouse.engine, api, purchase_id, kept) == "intent"
        assert advance(warehouse.engine, api, purchase_id, kept) == "bought"
    assert len(state.charges_for(_status(warehouse, purchase_id).client_order_id)) == 1


def test_a_price_rise_beyond_the_margin_and_a_short_balance_wait_with_their_reasons(cws, warehouse):
    state, base_url = cws
    (purchase_id,), product = _planned(warehouse, state, margin=5)
    listed = Decimal(str(single_unit_price(product)))
    state.change_price(product["productId"], float(listed * Decimal("1.2")))
    kept = Kept()
    with _api(base_url) as api:
        assert advance(warehouse.engine, api, purchase_id, kept) == "waiting"
        assert "price" in _status(warehouse, purchase_id).reason
        state.change_price(product["productId"], float(listed))
        state.set_balance(0, 0)
        _age_the_request(warehouse, purchase_id)
        assert advance(warehouse.engine, api, purchase_id, kept) == "waiting"
        assert "balance" in _status(warehouse, purchase_id).reason
        _age_the_request(warehouse, purchase_id)
        assert advance(warehouse.engine, api, purchase_id, kept) == "waiting"
        assert _balance_alerts(warehouse) == [1], "one alert for the store, however often a purchase waits"
        state.set_balance(1000, 0)
        _age_the_request(warehouse, purchase_id)
        assert advance(warehouse.engine, api, purchase_id, kept) == "bought"
    assert len(state.charges_for(_status(warehouse, purchase_id).client_order_id)) == 1


def _balance_alerts(warehouse) -> list[int]:
    """The occurrences of each open supplier-balance alert."""
    with warehouse.begin() as conn:
        return list(conn.execute(text("SELECT occurrences FROM ops.alerts WHERE source LIKE 'supplier_balance_low:%' "
                                      "AND closed_at IS NULL")).scalars())


def test_a_balance_spent_between_our_look_and_the_order_waits_and_alerts(cws, warehouse):
    """The balance covered the price when we looked, but was spent before the supplier placed the order:
    its refusal (10002) makes the purchase wait with the reason, and the store's balance alert opens."""
    state, base_url = cws
    (purchase_id,), _ = _planned(warehouse, state)
    state.add_fault("slow", seconds=1.5, target="place_order")
    outcome: list[str] = []
    with _api(base_url, timeout_seconds=10) as api:
        worker = threading.Thread(target=lambda: outcome.append(advance(warehouse.engine, api, purchase_id, Kept())))
        worker.start()
        deadline = time.monotonic() + 10
        while not state.faults_fired["slow"] and time.monotonic() < deadline:
            time.sleep(0.02)
        state.set_balance(0, 0)  # while the supplier holds our order request
        worker.join(15)
    purchase = _status(warehouse, purchase_id)
    assert outcome == ["waiting"] and purchase.reason.startswith("the supplier account's balance was short")
    assert state.charges_for(purchase.client_order_id) == [] and _balance_alerts(warehouse) == [1]


def test_a_listed_price_above_the_maximum_cost_is_never_bought(cws, warehouse):
    state, base_url = cws
    (purchase_id,), _ = _planned(warehouse, state, max_cost=Decimal("0.01"))
    with _api(base_url) as api:
        assert advance(warehouse.engine, api, purchase_id, Kept()) == "waiting"
    purchase = _status(warehouse, purchase_id)
    assert "maximum cost" in purchase.reason and state.charges_for(purchase.client_order_id) == []


def test_delayed_codes_are_polled_until_they_come(cws, warehouse):
    state, base_url = cws
    (purchase_id,), _ = _planned(warehouse, state)
    state.add_fault("delay_codes", reads=2)
    kept = Kept()
    with _api(base_url) as api:
        statuses = [advance(warehouse.engine, api, purchase_id, kept) for _ in range(4)]
    assert statuses[0] == "fulfilling" and statuses[-1] == "bought", statuses
    assert len(state.charges_for(_status(warehouse, purchase_id).client_order_id)) == 1
    assert len(kept.keys[purchase_id]) == 1


def test_workers_racing_on_the_same_purchases_buy_each_once(cws, warehouse):
    state, base_url = cws
    purchase_ids, _ = _planned(warehouse, state, units=12)
    state.add_fault("lost_answer", count=3)
    kept = Kept()
    lock = threading.Lock()

    def keep(conn, purchase, code):
        with lock:
            kept(conn, purchase, code)

    def worker():
        # A worker is a process of its own in production, with its own connection pool: `advance` holds
        # one connection for the purchase's lock and uses a second for its steps.
        engine = create_engine(sqlalchemy_url(warehouse.database_url), pool_size=2, max_overflow=0)
        try:
            with _api(base_url) as api:
                for _ in range(4):
                    for purchase_id in purchase_ids:
                        advance(engine, api, purchase_id, keep)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    with warehouse.begin() as conn:
        rows = conn.execute(text("SELECT purchase_id, status, client_order_id FROM ops.digital_purchases "
                                 "WHERE purchase_id = ANY(:p)"), {"p": purchase_ids}).all()
    assert {r.status for r in rows} == {"bought"}
    assert all(len(state.charges_for(r.client_order_id)) == 1 for r in rows)
    assert all(len(kept.keys[r.purchase_id]) == 1 for r in rows)


def test_a_bought_key_is_kept_encrypted_on_its_unit_once(cws, warehouse, vault):
    state, base_url = cws
    (purchase_id,), _ = _planned(warehouse, state)
    state.add_fault("lost_answer")
    keep = vault_keeper(vault)
    with _api(base_url) as api:
        while (status := advance(warehouse.engine, api, purchase_id, keep)) != "bought":
            assert status == "outcome_unknown"
        order = api.get_order(_status(warehouse, purchase_id).supplier_order_id)
    with warehouse.begin() as conn:
        rows = conn.execute(text("SELECT digital_key_id, source, order_item_id, unit FROM ops.digital_keys "
                                 "WHERE purchase_id = :p"), {"p": purchase_id}).all()
        assert len(rows) == 1 and rows[0].source == "supplier" and rows[0].unit == 1
        key = load_key(conn, vault, rows[0].digital_key_id)
    assert key.code == order.codes[0].value.get_secret_value()
    assert key.code not in repr(key)
