"""The storefront: the store's own web shop. Its orders arrive through marketsync's order API (`POST
/stores/{store}/orders` on `marketsync serve`, authenticated by the store's API key from the vault) and
its status changes by PATCH; they are merged, matched and followed up like every channel's, and nothing
goes back out: the shop is where its orders' changes come from."""
from marketsync.assets.channel_registry import Channel, Orders, register

CHANNEL = register(Channel(
    name="storefront",
    label="storefront",
    account_defaults={"settings": {
        # How long the answers kept for retries (by Idempotency-Key) are kept, in days.
        "idempotency_key_days": 7,
    }},
    definitions="marketsync.assets.storefront.definitions:defs",
    partitions="marketsync.assets.storefront.orders:storefront_accounts",
    orders=Orders(asset=("core", "storefront_orders"), assets="marketsync.assets.storefront.orders:storefront_assets",
                  imported="orders received through its API (a catch-up: the API merges them as they arrive)",
                  pushed=True),
))
