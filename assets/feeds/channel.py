"""Supplier and dropship feeds: files pulled over HTTP(S)/FTP(S) or pushed to the intake app."""
from marketsync.assets.channel_registry import Channel, register

CHANNEL = register(Channel(
    name="feed",
    label="supplier feed",
    resource="marketsync.resources.feed_transport:FeedTransport",
    resource_key="feed_transport",
    catalog=("core", "supplier_feed_products"),
    definitions="marketsync.assets.feeds.definitions:defs",
))
