"""Local stand-ins for the marketplaces marketsync talks to, for tests and demos.

Each simulator serves seeded, deterministic data over real HTTP on loopback
(``sandbox.http.serve_in_thread``) and can be told to misbehave.
"""
