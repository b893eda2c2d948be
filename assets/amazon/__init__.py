"""Amazon (Selling Partner API): orders in, shipment confirmations and stock out."""
