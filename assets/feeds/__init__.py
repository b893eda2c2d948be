"""Supplier pull feeds: CSV, TSV, XML and JSON catalogs a supplier publishes, loaded into the canonical
catalog (core.marketplace_products and its translations).

The path of a feed, top to bottom:
- `sources`: the catalog source (ops.catalog_sources): format, encoding, mapping (versioned), settings;
- `readers`: streaming readers, one record at a time, memory flat whatever the size (XML only through
  the hardened parser of `xml_safety`);
- `mapping`: the source's mapping compiled into a function per feed: record -> catalog row, or a reason
  to quarantine it;
- `staging`: records -> COPY text, the hot loop; `parallel` and `part_worker`: a big file cut at record
  boundaries and parsed on every core, each cut proven, else read in one process;
- `loader`: `load_feed` stages the rows with COPY, quarantines the bad ones, merges only what changed,
  and links the store's products to the feed (connect_by), under an import run (`runs`);
- `preview`: the first rows as mapped, and the rows that would be rejected, without writing anything.
"""
