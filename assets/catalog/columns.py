"""The shape of a catalog row as every loader hands it over (no imports: feed parse workers load this
module without the rest of marketsync)."""

# The order of the tuples a loader writes. Types: str, str|None (gtin14), str|None (sku), str|None (mpn),
# str|None (brand), Decimal|None (price), str|None (currency), str|None (availability), int|None
# (quantity), 'physical'|'digital', str|None (platform), list[str]|None (regions), list[str]|None
# (languages), str (attributes as JSON text, '{}' when none), datetime|str|None (source_updated_at).
PRODUCT_COLUMNS = (
    "external_id", "gtin14", "sku", "mpn", "brand", "price", "currency", "availability", "quantity",
    "product_type", "platform", "regions", "languages", "attributes", "source_updated_at",
)
# (external_id, language, title, description)
TRANSLATION_COLUMNS = ("external_id", "language", "title", "description")
