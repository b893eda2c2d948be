"""Operations: what the team running a merchant's integrations watches: metrics per store and integration with
their thresholds, the health of each integration, reconciliation of what each channel reports against the
warehouse, and the status page's figures."""
