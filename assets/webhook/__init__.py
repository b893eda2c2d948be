"""Webhooks: alert and new-order notices posted as signed JSON to an endpoint the store names."""
