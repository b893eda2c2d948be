"""Who and what is behind a transaction's writes, told to the database for the rest of the transaction
(`set_config(..., is_local => true)`): the actor (a Dagster run, a person through the CLI) and the cause
(an import, an outbound write). Triggers that keep a history read them (`current_setting('marketsync.…')`);
nothing here knows which."""
from __future__ import annotations

from sqlalchemy import Connection, text

_SET = text("SELECT set_config(:name, :value, true)")


def set_actor(conn: Connection, actor: str) -> None:
    """Who: `dagster run 1a2b3c4d (letzshop_import_job)`, `cli alice: marketsync orders confirm`."""
    conn.execute(_SET, {"name": "marketsync.actor", "value": actor[:200]})


def set_cause(conn: Connection, cause: str) -> None:
    """What: `import of letzshop orders`, `outbound write 42 (confirm_shipment)`."""
    conn.execute(_SET, {"name": "marketsync.cause", "value": cause[:200]})
