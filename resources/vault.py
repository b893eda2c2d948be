"""The credential vault as a Dagster resource (`secret_keys=EnvVar("MARKETSYNC_SECRET_KEYS")`); the
encryption, storage and rotation live in resources/credentials.py."""
from __future__ import annotations

from cryptography.fernet import MultiFernet
from dagster import ConfigurableResource
from pydantic import PrivateAttr

from marketsync.resources.credentials import CredentialStore, Secrets, VaultError, VaultOperations, key_id, mask

__all__ = ["CredentialStore", "CredentialVault", "Secrets", "VaultError", "key_id", "mask"]


class CredentialVault(VaultOperations, ConfigurableResource):
    """Encrypts, decrypts and rotates the secret fields of store accounts and catalog sources."""

    secret_keys: str
    _multi: MultiFernet | None = PrivateAttr(default=None)
