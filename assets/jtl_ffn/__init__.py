"""JTL-FFN, the fulfilment network: its inbound shipments, stock and the outbound deliveries we send it."""
