"""The bearer tokens of the operations endpoints (ops.api_tokens): made, listed, revoked, verified.

A token reads `mso_<token id>_<43 random URL-safe characters>` (256 bits). Only its SHA-256 is stored;
the token itself is shown once, when it is made. Verifying looks the row up by the id the token carries
(not by anything secret) and compares the digests with `hmac.compare_digest`, so the time a refusal takes
says nothing about how much of a guess was right. A token with a store sees only that store.

Cheap to import (no HTTP, no Dagster): `marketsync tokens` uses it.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import Connection, text

from marketsync.assets.stores import store_id_for
from marketsync.resources.errors import MarketsyncError
from marketsync.resources.sql_files import query_beside

PREFIX = "mso"
_TOKEN = re.compile(rf"{PREFIX}_([1-9][0-9]{{0,17}})_([A-Za-z0-9_-]{{43}})")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")


@dataclass(frozen=True)
class Principal:
    """Who a verified token speaks for: every store (store_id None) or one."""

    token_id: int
    name: str
    store_id: int | None
    store: str | None

    def sees(self, store_id: int) -> bool:
        return self.store_id is None or self.store_id == store_id


class TokenRefused(Exception):
    """The presented token does not open the endpoints; the message says why, without echoing it."""


def digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def create_token(conn: Connection, name: str, store: str | None = None) -> tuple[str, int]:
    """Make token `name` (of `store` only, when given); returns (the token, its id). The token is not
    kept: print it once."""
    if not _NAME.fullmatch(name or ""):
        raise MarketsyncError(f"token name '{name}' must be letters, digits, '.', '_' or '-' (at most 63)")
    taken = conn.execute(text("SELECT revoked_at FROM ops.api_tokens WHERE name = :n"), {"n": name}).first()
    if taken is not None:
        state = "revoked" if taken.revoked_at else "in use"
        raise MarketsyncError(f"a token named '{name}' exists ({state}): choose another name")
    store_id = store_id_for(conn, store) if store is not None else None
    token_id = conn.execute(text("SELECT nextval(pg_get_serial_sequence('ops.api_tokens', 'token_id'))")).scalar_one()
    token = f"{PREFIX}_{token_id}_{secrets.token_urlsafe(32)}"
    conn.execute(query_beside(__file__, "token_insert.sql"),
                 {"token_id": token_id, "name": name, "sha": digest(token), "store_id": store_id})
    return token, token_id


def list_tokens(conn: Connection) -> list[dict]:
    """Every token by name: its store (None: every store), when made, last used, revoked. Never the token."""
    return [dict(r) for r in conn.execute(query_beside(__file__, "tokens_list.sql")).mappings()]


def revoke_token(conn: Connection, name: str) -> bool:
    """Revoke token `name` at once; False when it was revoked already."""
    row = conn.execute(text("SELECT token_id, revoked_at FROM ops.api_tokens WHERE name = :n FOR UPDATE"),
                       {"n": name}).first()
    if row is None:
        raise MarketsyncError(f"no token named '{name}' (`marketsync tokens list` shows them)")
    if row.revoked_at is not None:
        return False
    conn.execute(text("UPDATE ops.api_tokens SET revoked_at = now() WHERE token_id = :t"), {"t": row.token_id})
    return True


def verify_token(conn: Connection, token: str) -> Principal:
    """The principal of a presented token, or TokenRefused. Notes the token's use (at most once a minute)."""
    match = _TOKEN.fullmatch(token)
    presented = digest(token)
    row = None
    if match:
        row = conn.execute(query_beside(__file__, "token_verify.sql"), {"token_id": int(match.group(1))}).first()
    # Compared whether or not a row was found, so an unknown id takes the time a wrong secret takes.
    stored = bytes(row.token_sha256) if row is not None else b"\0" * 32
    if not hmac.compare_digest(stored, presented) or row is None:
        raise TokenRefused("the token is not valid")
    if row.revoked:
        raise TokenRefused("the token was revoked")
    if row.use_to_note:
        conn.execute(text("UPDATE ops.api_tokens SET last_used_at = now() WHERE token_id = :t"),
                     {"t": row.token_id})
    return Principal(row.token_id, row.name, row.store_id, row.store)
