"""The inbound deliveries an operations team tracks in a Google Sheet, checked against JTL-FFN."""
