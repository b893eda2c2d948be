"""CodesWholesale (digital game keys) as a catalog source: the price list of each store's account,
normalised into the canonical catalog every six hours."""
