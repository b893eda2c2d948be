"""Channels declare themselves once (assets/<channel>/channel.py) and the registries follow the
declarations: account defaults, application clients, the outbound runner and the drain job's pools."""
import sys
import textwrap

import pytest
from sqlalchemy import text

from marketsync.assets import channel_clients
from marketsync.assets.accounts import channel_defaults, upsert_account
from marketsync.assets.channel_registry import (
    ApplicationClient,
    Channel,
    Outbound,
    channels,
    declared,
    register,
    unregister,
)
from marketsync.assets.outbound_queue import enqueue
from marketsync.assets.outbound_runner import drain
from marketsync.resources.errors import MarketsyncError

BUILT_IN = {"amazon", "codeswholesale", "ebay", "email", "feed", "google_sheets", "jtl_ffn", "letzshop"}


@pytest.fixture
def plugin(tmp_path, monkeypatch):
    """A module outside the project, as a third party's channel package would be: its opener records what
    it sends, its resource records what it was built with."""
    (tmp_path / "fake_channel_plugin.py").write_text(textwrap.dedent('''
        from contextlib import contextmanager

        SENT = []

        @contextmanager
        def open_outbound(warehouse, vault, client, account):
            class Handler:
                def send(self, item):
                    SENT.append((account.store, item.operation, item.payload, client.client_id))
                    return {"sent": True}

                def already_applied(self, item):
                    return False

            yield {"notify": Handler()}

        class FakeResource:
            def __init__(self, client_id, client_secret):
                self.client_id, self.client_secret = client_id, client_secret
    '''))
    monkeypatch.syspath_prepend(str(tmp_path))
    import fake_channel_plugin

    yield fake_channel_plugin
    sys.modules.pop("fake_channel_plugin", None)


@pytest.fixture
def redeclare():
    """Declare a channel for one test; the original declaration (if any) comes back afterwards."""
    saved: dict[str, Channel | None] = {}

    def declare(channel: Channel) -> Channel:
        saved.setdefault(channel.name, declared(channel.name))
        return register(channel)

    yield declare
    for name, original in saved.items():
        if original is None:
            unregister(name)
        else:
            register(original)


@pytest.mark.unit
def test_every_channel_package_declares_itself():
    assert set(channels()) >= BUILT_IN
    assert list(channels()) == sorted(channels())
    assert channel_defaults("letzshop")["endpoint"] == "https://letzshop.lu/graphql"
    assert channel_clients.client_variables() == {
        "amazon": ("AMAZON_LWA_CLIENT_ID", "AMAZON_LWA_CLIENT_SECRET"),
        "ebay": ("EBAY_CLIENT_ID", "EBAY_CLIENT_SECRET"),
        "jtl_ffn": ("JTL_FFN_CLIENT_ID", "JTL_FFN_CLIENT_SECRET")}


@pytest.mark.unit
def test_the_drain_job_has_one_pool_per_declared_outbound_channel():
    from marketsync.sensors.jobs import DRAIN_OPS, DRAIN_POOLS

    assert {name: c.outbound.pool for name, c in channels().items() if c.outbound} == DRAIN_POOLS
    assert set(DRAIN_OPS) == {"amazon", "ebay", "email", "jtl_ffn", "letzshop", "webhook"}


@pytest.mark.unit
def test_a_new_channel_declared_once_gets_defaults_and_an_application_client(plugin, redeclare, monkeypatch):
    redeclare(Channel(name="fakeshop", label="Fake shop",
                      account_defaults={"endpoint": "https://fake.example/api", "settings": {"page_size": 7}},
                      application_client=ApplicationClient("FAKESHOP_ID", "FAKESHOP_SECRET",
                                                            resource="fake_channel_plugin:FakeResource")))
    assert "fakeshop" in channels()
    assert channel_defaults("fakeshop")["settings"] == {"page_size": 7}
    monkeypatch.delenv("FAKESHOP_ID", raising=False)
    assert channel_clients.missing_client("fakeshop") == (
        "no fakeshop application client configured: set FAKESHOP_ID and FAKESHOP_SECRET")
    assert channel_clients.client_from_env("fakeshop") is None
    monkeypatch.setenv("FAKESHOP_ID", "app-id")
    monkeypatch.setenv("FAKESHOP_SECRET", "app-secret")
    client = channel_clients.client_from_env("fakeshop")
    assert isinstance(client, plugin.FakeResource) and client.client_id == "app-id"


@pytest.mark.integration
def test_the_outbound_runner_sends_through_the_declared_opener(plugin, redeclare, warehouse, vault, monkeypatch):
    """The runner knows no channel by name: re-declare eBay's outbound with the plugin's opener and its
    queued write goes out through that opener, once, with the declared application client."""
    account = _ebay_through_the_plugin(warehouse, redeclare, "plug", {"order": "A-1"})
    monkeypatch.setenv("FAKESHOP_ID", "app-id")
    monkeypatch.setenv("FAKESHOP_SECRET", "app-secret")
    results = drain(warehouse, vault, store="plug")
    assert results["plug/ebay"]["succeeded"] == 1, results
    assert plugin.SENT == [("plug", "notify", {"order": "A-1"}, "app-id")]
    again = drain(warehouse, vault, store="plug")
    assert again == {} and len(plugin.SENT) == 1, "a sent write is never sent again"
    _forget(warehouse, account.account_id)


def _ebay_through_the_plugin(warehouse, redeclare, store: str, payload: dict):
    """An eBay account of `store` with one write queued, and eBay re-declared to send through the plugin."""
    with warehouse.begin() as conn:
        account = upsert_account(conn, store, "ebay", "https://fake.example/api")
        enqueue(conn, account.account_id, "notify", payload)
    redeclare(Channel(name="ebay", label="eBay (test)",
                      application_client=ApplicationClient("FAKESHOP_ID", "FAKESHOP_SECRET",
                                                            resource="fake_channel_plugin:FakeResource"),
                      outbound=Outbound(open="fake_channel_plugin:open_outbound", pool="fake_api")))
    return account


def _forget(warehouse, account_id: int) -> None:
    """The test's queue rows go, so later tests that read the whole queue see only their own."""
    with warehouse.begin() as conn:
        conn.execute(text("DELETE FROM ops.outbound_queue WHERE account_id = :a"), {"a": account_id})


@pytest.mark.integration
def test_a_declared_client_that_is_not_configured_is_worded(plugin, redeclare, warehouse, vault, monkeypatch):
    account = _ebay_through_the_plugin(warehouse, redeclare, "plug2", {"order": "B-2"})
    monkeypatch.delenv("FAKESHOP_ID", raising=False)
    results = drain(warehouse, vault, store="plug2")
    assert results["plug2/ebay"] == {"error": "ebay writes are due but no ebay application client is configured "
                                               "(set FAKESHOP_ID and FAKESHOP_SECRET)"}
    assert plugin.SENT == []
    _forget(warehouse, account.account_id)


@pytest.mark.unit
def test_an_unknown_channel_is_refused_with_the_known_ones():
    from marketsync.assets.channel_registry import channel

    with pytest.raises(MarketsyncError, match=r"unknown channel 'nope' \(known: amazon, codeswholesale, ebay"):
        channel("nope")
