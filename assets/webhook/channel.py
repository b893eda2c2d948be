"""Webhook: a store's alert and new-order notices posted as signed JSON to the URL of its webhook account
(its endpoint); the signing secret, {"secret": "..."}, lives in the vault. Each notice is an outbound
write, so it is retried with backoff, dead-lettered when refused, and keeps its event id on every try."""
from marketsync.assets.channel_registry import Channel, Outbound, register

WEBHOOK_POOL = "webhooks"

CHANNEL = register(Channel(
    name="webhook",
    label="webhook",
    account_defaults={
        "endpoint": None,
        "settings": {"timeout_seconds": 10},
    },
    resource="marketsync.resources.webhook:WebhookResource",
    outbound=Outbound(open="marketsync.assets.webhook.outbound:open_outbound", pool=WEBHOOK_POOL),
    connection_test="marketsync.assets.webhook.outbound:check_connection",
))
