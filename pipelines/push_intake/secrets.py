"""The signing secrets of a push feed: made here, shown once, kept encrypted in ops.source_credentials.

A feed has a current secret and, while a supplier switches over, the previous one: both verify
deliveries, so a rotation never refuses a request the supplier signed a moment before it. Retiring the
previous secret ends the overlap. The secrets are Fernet-encrypted with the warehouse's keys (the same
vault as channel credentials) and are never written anywhere else: not to logs, errors or responses.
"""
from __future__ import annotations

import secrets as _random
from dataclasses import dataclass

from sqlalchemy import Connection, text

from marketsync.resources.vault import CredentialVault, VaultError

# Recognisable in a leaked-secret scan, and says what it is for.
SECRET_PREFIX = "mspush_"  # noqa: S105 - the public prefix of generated secrets, not a secret


@dataclass(frozen=True)
class PushSecrets:
    """The secrets that verify a feed's deliveries: the current one, and the previous while rotating."""

    current: str
    previous: str | None = None

    def valid(self) -> tuple[str, ...]:
        return (self.current,) if self.previous is None else (self.current, self.previous)

    def __repr__(self) -> str:
        return f"PushSecrets(current=****, previous={'****' if self.previous else None})"

    __str__ = __repr__


def _new_secret() -> str:
    return SECRET_PREFIX + _random.token_urlsafe(32)


def load_push_secrets(conn: Connection, vault: CredentialVault, source_id: int) -> PushSecrets | None:
    """The feed's secrets, or None when none were ever made (then no delivery can be verified)."""
    fields = vault.load_source(conn, source_id)
    if fields is None:
        return None
    try:
        current = fields.reveal("push_secret")
    except VaultError:
        return None  # the source holds other credentials, not a push secret
    try:
        previous = fields.reveal("push_secret_previous")
    except VaultError:
        previous = None
    return PushSecrets(current, previous)


def _store(conn: Connection, vault: CredentialVault, source_id: int, secrets: PushSecrets) -> None:
    fields = {"push_secret": secrets.current}
    if secrets.previous is not None:
        fields["push_secret_previous"] = secrets.previous
    vault.store_source(conn, source_id, fields)


def _lock_feed(conn: Connection, source_id: int) -> None:
    # Two rotations of one feed at once would each keep a different "previous": serialise them.
    found = conn.execute(text(
        "SELECT 1 FROM ops.catalog_sources WHERE source_id = :s AND kind = 'push_feed' FOR UPDATE"),
        {"s": source_id}).first()
    if found is None:
        raise VaultError(f"catalog source {source_id} is not a push feed")


def rotate_push_secret(conn: Connection, vault: CredentialVault, source_id: int) -> str:
    """Make a new secret for the feed and return it: the only time it is ever shown.

    The first call creates the feed's secret. Later calls make the new one current and keep the one it
    replaces as previous, so deliveries signed with either verify until `retire_previous_push_secret`.
    A secret that was already previous is dropped: at most two are valid at once.
    """
    _lock_feed(conn, source_id)
    existing = load_push_secrets(conn, vault, source_id)
    secret = _new_secret()
    _store(conn, vault, source_id, PushSecrets(secret, existing.current if existing else None))
    return secret


def retire_previous_push_secret(conn: Connection, vault: CredentialVault, source_id: int) -> bool:
    """End a rotation: only the current secret verifies from now on. False if there was none to retire."""
    _lock_feed(conn, source_id)
    existing = load_push_secrets(conn, vault, source_id)
    if existing is None or existing.previous is None:
        return False
    _store(conn, vault, source_id, PushSecrets(existing.current))
    return True
