"""Supplier feeds as suppliers really send them: large, in every format, with their usual flaws.

`sandbox.feeds.generators` writes deterministic feeds (CSV, TSV, namespaced XML, JSON, NDJSON) of any
size in constant memory, for the tests, the demo and the benchmarks.
"""
