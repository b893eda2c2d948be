"""Prices out: what each listing should cost on each channel, computed by the store channel's price rule
and pushed as deltas, every pushed number explained in core.price_ledger."""
