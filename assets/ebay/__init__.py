"""eBay: orders in (Fulfillment API), shipments and stock out."""
