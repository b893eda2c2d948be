"""Asset checks on the core tables (see core_tables.py)."""
