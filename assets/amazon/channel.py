"""Amazon (Selling Partner API): orders in, shipment confirmations and listings' stock out, through the
installation's Login with Amazon application and each seller's refresh token."""
from assets.channel_registry import ApplicationClient, Channel, Outbound, register

API_POOL = "amazon_sp_api"

CHANNEL = register(Channel(
    name="amazon",
    label="Amazon",
    application_client=ApplicationClient("AMAZON_LWA_CLIENT_ID", "AMAZON_LWA_CLIENT_SECRET",
                                         resource="resources.amazon_sp_api:AmazonSpApiResource"),
    outbound=Outbound(open="assets.amazon.outbound:open_outbound", pool=API_POOL),
))
