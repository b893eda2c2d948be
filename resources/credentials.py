"""Channel and source credentials, encrypted at rest with Fernet: the logic, without Dagster.

The keys come from `MARKETSYNC_SECRET_KEYS` (comma-separated, newest first) and are never written to the
database. MultiFernet encrypts with the newest key and decrypts with any, which is what makes rotation
possible without downtime: add a key in front, run `marketsync credentials rotate`, then drop the old one.
`resources/vault.py` is the same as a Dagster resource; the CLI uses `CredentialStore` directly, so a
command that only reads credentials does not import Dagster.
"""
from __future__ import annotations

import hashlib
import json
from functools import cache
from typing import ClassVar

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from pydantic import SecretStr
from sqlalchemy import Connection, TextClause, text

from marketsync.resources.errors import MarketsyncError
from marketsync.resources.sql_files import sql_beside


class VaultError(MarketsyncError):
    """A credential problem, worded for the user; never carries secret material. Always permanent
    (`transient` False): missing, unreadable or revoked credentials fail the same way on every try
    until someone fixes them (`marketsync credentials set`, MARKETSYNC_SECRET_KEYS)."""

    transient = False


def mask(secret: str) -> str:
    """`letz****`: enough to recognise a key, too little to use it."""
    return (secret[:4] if len(secret) >= 12 else "") + "****"


def key_id(key: str) -> str:
    """A short, non-reversible name for a key: tells which key encrypted a row."""
    return hashlib.sha256(key.encode()).hexdigest()[:12]


class Secrets:
    """Decrypted secret fields of one account. Values print as `****` unless asked for explicitly."""

    def __init__(self, fields: dict[str, str]):
        self._fields = {name: SecretStr(value) for name, value in fields.items()}

    def reveal(self, name: str) -> str:
        try:
            return self._fields[name].get_secret_value()
        except KeyError:
            raise VaultError(f"credential field '{name}' is not set") from None

    def masked(self) -> dict[str, str]:
        return {name: mask(value.get_secret_value()) for name, value in self._fields.items()}

    def __repr__(self) -> str:
        return f"Secrets({self.masked()})"

    __str__ = __repr__


@cache
def _statement(name: str, owner: str) -> TextClause:
    """The statement of sql/vault_<name>.sql for the vault table of `owner` ("account" or "source")."""
    table, key = VaultOperations._TABLES[owner]
    return text(sql_beside(__file__, f"vault_{name}.sql").format(table=table, key=key))


class VaultOperations:
    """Encrypts, decrypts and rotates the secret fields of store accounts (ops.credentials) and catalog
    sources (ops.source_credentials). Needs `secret_keys` and a `_multi` slot from the class it is in."""

    secret_keys: str
    _multi: MultiFernet | None

    def _keys(self) -> list[str]:
        keys = [k.strip() for k in self.secret_keys.split(",") if k.strip()]
        if not keys:
            raise VaultError("MARKETSYNC_SECRET_KEYS is empty: set at least one Fernet key")
        return keys

    def _fernet(self) -> MultiFernet:
        if self._multi is None:
            try:
                self._multi = MultiFernet([Fernet(k) for k in self._keys()])
            except ValueError:
                raise VaultError("MARKETSYNC_SECRET_KEYS holds a value that is not a Fernet key") from None
        return self._multi

    @property
    def primary_key_id(self) -> str:
        return key_id(self._keys()[0])

    def encrypt(self, fields: dict[str, str]) -> bytes:
        return self._fernet().encrypt(json.dumps(fields).encode())

    def decrypt(self, token: bytes) -> Secrets:
        try:
            return Secrets(json.loads(self._fernet().decrypt(bytes(token))))
        except InvalidToken:
            raise VaultError(
                "stored credentials cannot be decrypted with MARKETSYNC_SECRET_KEYS "
                "(was a key removed before `marketsync credentials rotate` finished?)"
            ) from None

    # Two tables hold tokens: ops.credentials (per store account) and ops.source_credentials (per
    # catalog source: feed URL credentials, API client secrets, push signing secrets).
    _TABLES: ClassVar[dict[str, tuple[str, str]]] = {"account": ("ops.credentials", "account_id"),
                                                     "source": ("ops.source_credentials", "source_id")}

    def _put(self, conn: Connection, owner: str, owner_id: int, fields: dict[str, str]) -> None:
        conn.execute(_statement("put", owner),
                     {"a": owner_id, "t": self.encrypt(fields), "k": self.primary_key_id})

    def _get(self, conn: Connection, owner: str, owner_id: int) -> Secrets | None:
        row = conn.execute(_statement("get", owner), {"a": owner_id}).first()
        return None if row is None else self.decrypt(row.token)

    def store(self, conn: Connection, account_id: int, fields: dict[str, str]) -> None:
        """Encrypt and keep a store account's secret fields (replacing earlier ones)."""
        self._put(conn, "account", account_id, fields)

    def load(self, conn: Connection, account_id: int) -> Secrets:
        secrets = self._get(conn, "account", account_id)
        if secrets is None:
            raise VaultError("no credentials stored for this account: run `marketsync credentials set`")
        return secrets

    def store_source(self, conn: Connection, source_id: int, fields: dict[str, str]) -> None:
        """Encrypt and keep a catalog source's secret fields (replacing earlier ones)."""
        self._put(conn, "source", source_id, fields)

    def load_source(self, conn: Connection, source_id: int) -> Secrets | None:
        """A catalog source's secret fields, or None when it has none."""
        return self._get(conn, "source", source_id)

    def forget_source(self, conn: Connection, source_id: int) -> None:
        conn.execute(text("DELETE FROM ops.source_credentials WHERE source_id = :s"), {"s": source_id})

    def rotate(self, engine, batch_size: int = 200) -> int:
        """Re-encrypt every row (of both token tables) not yet under the newest key; returns how many
        rows changed. Each batch commits on its own, so an interrupted rotation keeps its progress and
        a re-run picks up the rows still under an older key."""
        return sum(self._rotate_table(engine, owner, batch_size) for owner in self._TABLES)

    def _rotate_table(self, engine, owner: str, batch_size: int) -> int:
        table, key = self._TABLES[owner]
        fernet, primary, rotated = self._fernet(), self.primary_key_id, 0
        while True:
            with engine.begin() as conn:
                rows = conn.execute(_statement("rotate_batch", owner), {"k": primary, "n": batch_size}).all()
                if not rows:
                    return rotated
                for row in rows:
                    try:
                        token = fernet.rotate(bytes(row.token))
                    except InvalidToken:
                        raise VaultError(
                            f"a secret in {table} ({key} {row.owner_id}) is under a key that is not in "
                            "MARKETSYNC_SECRET_KEYS: add the old key after the new one and re-run"
                        ) from None
                    conn.execute(_statement("rotate_row", owner), {"t": token, "k": primary, "a": row.owner_id})
                rotated += len(rows)


class CredentialStore(VaultOperations):
    """The vault outside Dagster (the CLI)."""

    def __init__(self, secret_keys: str):
        self.secret_keys = secret_keys
        self._multi = None
