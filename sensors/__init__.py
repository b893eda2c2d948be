"""Sensors: what the daemon evaluates every few seconds to start runs (see registry.py for the list).

The package imports nothing itself, so an asset module can use a helper such as sensors.guard without
loading every sensor (and the jobs they target)."""
