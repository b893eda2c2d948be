"""eBay (Sell APIs): orders in, shipping fulfilments and inventory out, through the installation's eBay
application and each seller's refresh token."""
from assets.channel_registry import ApplicationClient, Channel, Outbound, register

API_POOL = "ebay_api"

CHANNEL = register(Channel(
    name="ebay",
    label="eBay",
    application_client=ApplicationClient("EBAY_CLIENT_ID", "EBAY_CLIENT_SECRET",
                                         resource="resources.ebay:EbayResource"),
    outbound=Outbound(open="assets.ebay.outbound:open_outbound", pool=API_POOL),
))
