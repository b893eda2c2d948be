"""Channel and source credentials, and the license keys of digital goods, encrypted at rest with Fernet:
the logic, without Dagster. A license key also gets a keyed fingerprint (HMAC under a key derived from the
newest vault key), which refuses a duplicate without keeping the key in clear.

The keys come from `MARKETSYNC_SECRET_KEYS` (comma-separated, newest first) and are never written to the
database. MultiFernet encrypts with the newest key and decrypts with any, which is what makes rotation
possible without downtime: add a key in front, run `marketsync credentials rotate`, then drop the old one.
`resources/vault.py` is the same as a Dagster resource; the CLI uses `CredentialStore` directly, so a
command that only reads credentials does not import Dagster.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from functools import cache
from typing import ClassVar

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
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


KEY_KINDS = ("text", "image", "pre_order")


class DigitalKey:
    """A decrypted license key (a game key, gift card or licence code) with its kind and download links.
    The code and the links print masked; `code` and `links` reveal them, for delivery to the buyer only."""

    __slots__ = ("_code", "_links", "kind")

    def __init__(self, code: str, kind: str = "text", links: list[str] | tuple[str, ...] = ()):
        self._code = SecretStr(code)
        self._links = tuple(SecretStr(link) for link in links)
        self.kind = kind

    @property
    def code(self) -> str:
        return self._code.get_secret_value()

    @property
    def links(self) -> list[str]:
        return [link.get_secret_value() for link in self._links]

    def masked(self) -> str:
        """What a listing, a log line or the demo may show of the key."""
        return mask(self.code)

    def __repr__(self) -> str:
        return f"DigitalKey({self.masked()}, kind={self.kind}, links={len(self._links)})"

    __str__ = __repr__


@dataclass(frozen=True)
class SealedKey:
    """A license key ready to keep: its encrypted value, the vault key that encrypted it, and the keyed
    fingerprint (under that same vault key) that refuses a second copy of the key in the same store."""

    token: bytes
    key_id: str
    fingerprint: str

    def __repr__(self) -> str:
        return f"SealedKey(key_id={self.key_id}, fingerprint={self.fingerprint[:8]}...)"


def normalized_code(code: str) -> str:
    """The form of a key that identifies it: surrounding blanks do not make a different key."""
    return code.strip()


@cache
def _fingerprint_secret(key: str) -> bytes:
    """The HMAC key fingerprints are made with under one vault key: derived from it (HKDF), so it is
    never the encryption key itself, and it changes when the vault key does."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=b"marketsync digital key fingerprint v1").derive(base64.urlsafe_b64decode(key))


def fingerprint_with(key: str, code: str) -> str:
    """The keyed fingerprint (HMAC-SHA256) of a license key under one vault key."""
    return hmac.new(_fingerprint_secret(key), normalized_code(code).encode(), hashlib.sha256).hexdigest()


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

    def encrypt_key(self, key: DigitalKey) -> SealedKey:
        """Encrypt a license key (its code, kind and links) under the newest vault key, with its
        fingerprint under that same key."""
        value = {"code": normalized_code(key.code), "kind": key.kind, "links": key.links}
        return SealedKey(self._fernet().encrypt(json.dumps(value).encode()), self.primary_key_id,
                         fingerprint_with(self._keys()[0], key.code))

    def decrypt_key(self, token: bytes) -> DigitalKey:
        """The license key kept as `token` (under any key in MARKETSYNC_SECRET_KEYS)."""
        try:
            value = json.loads(self._fernet().decrypt(bytes(token)))
        except InvalidToken:
            raise VaultError(
                "a stored license key cannot be decrypted with MARKETSYNC_SECRET_KEYS "
                "(was a key removed before `marketsync credentials rotate` finished?)"
            ) from None
        return DigitalKey(value["code"], value.get("kind", "text"), value.get("links") or ())

    def key_fingerprints(self, code: str) -> list[str]:
        """The fingerprints a license key would have under every vault key in MARKETSYNC_SECRET_KEYS: a
        stored copy of it has one of them, whether or not rotation has reached its row yet."""
        return [fingerprint_with(key, code) for key in self._keys()]

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

    # Three tables hold tokens: ops.credentials (per store account), ops.source_credentials (per
    # catalog source: feed URL credentials, API client secrets, push signing secrets) and ops.digital_keys
    # (license keys, one token per key, with a fingerprint under the same vault key).
    _TABLES: ClassVar[dict[str, tuple[str, str]]] = {"account": ("ops.credentials", "account_id"),
                                                     "source": ("ops.source_credentials", "source_id"),
                                                     "digital_key": ("ops.digital_keys", "digital_key_id")}
    # Tables whose rows carry a fingerprint made with the row's vault key: rotation re-makes it.
    _FINGERPRINTED: ClassVar[frozenset[str]] = frozenset({"digital_key"})

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
        """Re-encrypt every row (of every token table) not yet under the newest key, and re-make the
        fingerprints of license keys under it; returns how many rows changed. Each batch commits on its
        own, so an interrupted rotation keeps its progress and a re-run picks up the rows still under an
        older key."""
        return sum(self._rotate_table(engine, owner, batch_size) for owner in self._TABLES)

    def _rotate_table(self, engine, owner: str, batch_size: int) -> int:
        table, key = self._TABLES[owner]
        fernet, primary, rotated = self._fernet(), self.primary_key_id, 0
        fingerprinted = owner in self._FINGERPRINTED
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
                    if fingerprinted:
                        code = json.loads(fernet.decrypt(token))["code"]
                        conn.execute(_statement("rotate_fingerprinted_row", owner),
                                     {"t": token, "k": primary, "a": row.owner_id,
                                      "f": fingerprint_with(self._keys()[0], code)})
                    else:
                        conn.execute(_statement("rotate_row", owner),
                                     {"t": token, "k": primary, "a": row.owner_id})
                rotated += len(rows)


class CredentialStore(VaultOperations):
    """The vault outside Dagster (the CLI)."""

    def __init__(self, secret_keys: str):
        self.secret_keys = secret_keys
        self._multi = None
