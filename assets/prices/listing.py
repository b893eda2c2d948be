"""One listing's price terms from the row that holds its inputs (assets/prices/sql/listings.sql): the base
chosen by the store-over-catalog rule, its currency, and the rule applied. Shared by the push and by
`prices explain`, and free of Dagster and the warehouse client, so a read-only command stays fast."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from marketsync.assets.prices.rules import PriceTerms, base_of, target_price
from marketsync.assets.prices.settings import PriceSettings


def terms_of(store_price: Decimal | None, store_currency: str | None, catalog_price: Decimal | None,
             catalog_currency: str | None, settings: PriceSettings) -> PriceTerms | None:
    """A listing's terms under the settings' rule, or None when it has no price at all. The currency is the
    chosen price's (the product's, else the marketplace product's), else the rule's."""
    base = base_of(store_price, catalog_price)
    if base is None:
        return None
    amount, source = base
    currency = (store_currency if source == "store" else catalog_currency) or settings.rule.currency
    return target_price(Decimal(amount), source, currency.strip(), settings.rule)


def listing_terms(row: Any, settings: PriceSettings) -> PriceTerms | None:
    """The terms of one listing row of listings.sql under the settings' rule, or None without a price."""
    return terms_of(row.store_price, row.store_currency, row.catalog_price, row.catalog_currency, settings)
