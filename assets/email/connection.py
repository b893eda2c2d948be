"""Opening an SMTP session for a store's e-mail account: the server from its endpoint and settings, the
login from the vault."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text

from marketsync.assets.accounts import Account, get_account
from marketsync.resources.errors import MarketsyncError
from marketsync.resources.smtp import DEFAULT_TIMEOUT_SECONDS, SmtpResource, SmtpSession
from marketsync.resources.vault import CredentialVault, VaultError
from marketsync.resources.warehouse import Warehouse


def _login(warehouse: Warehouse, vault: CredentialVault, account: Account) -> tuple[str | None, str | None]:
    """The account's SMTP login from the vault, or (None, None) when none is stored (a relay that takes
    mail without one)."""
    with warehouse.begin() as conn:
        stored = conn.execute(text("SELECT 1 FROM ops.credentials WHERE account_id = :a"),
                              {"a": account.account_id}).scalar()
        if not stored:
            return None, None
        try:
            secrets = vault.load(conn, account.account_id)
            return secrets.reveal("username"), secrets.reveal("password")
        except VaultError as exc:  # permanent: no retry brings a login back
            raise VaultError(f"no usable SMTP login for store '{account.store}' ({exc}): store "
                             f'{{"username", "password"}} with `marketsync credentials set {account.store} email`'
                             ) from None


@contextmanager
def email_session(warehouse: Warehouse, vault: CredentialVault, smtp: SmtpResource | None,
                  account: Account) -> Iterator[SmtpSession]:
    """A logged-in session to the SMTP server of `account` (a store's e-mail account)."""
    if not account.endpoint:
        raise MarketsyncError(f"the e-mail account of store '{account.store}' has no endpoint: set one with "
                              f"`marketsync account add {account.store} email --endpoint smtps://host:465`")
    username, password = _login(warehouse, vault, account)
    client = smtp if smtp is not None else SmtpResource()
    timeout = account.setting("timeout_seconds")
    with client.session(account.endpoint, security=account.setting("security") or "starttls",
                        username=username, password=password,
                        timeout=float(timeout) if timeout else DEFAULT_TIMEOUT_SECONDS,
                        ca_file=account.setting("ca_file") or None) as session:
        yield session


def check_connection(warehouse: Warehouse, vault: CredentialVault, smtp: SmtpResource | None, store: str) -> str:
    """`marketsync test-connection STORE email`: connects to the store's SMTP server, secures the
    connection, logs in and sends a NOOP; returns the server it answered from."""
    with warehouse.begin() as conn:
        account = get_account(conn, store, "email")
    with email_session(warehouse, vault, smtp, account) as session:
        session.noop()
    return f" ({account.endpoint})"
