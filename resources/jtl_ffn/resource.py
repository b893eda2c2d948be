"""`JtlFfnResource`: the Dagster resource that opens `JtlFfnApi` sessions with the application's
client credentials and an account's token store."""
from __future__ import annotations

from sqlalchemy import Engine

from marketsync.resources.client_resource import ApiClientResource
from marketsync.resources.jtl_ffn.api import LIVE_URL, MAX_PAGE_SIZE, TOKEN_URL, JtlFfnApi
from marketsync.resources.jtl_ffn.errors import JtlFfnError
from marketsync.resources.jtl_ffn.token_store import VaultTokenStore
from marketsync.resources.oauth import TokenStore
from marketsync.resources.vault import CredentialVault


class JtlFfnResource(ApiClientResource):
    """Opens JTL FFN Merchant API sessions. The application's OAuth client id and secret come from
    the environment (`client_id=EnvVar("JTL_FFN_CLIENT_ID")`, `client_secret=EnvVar("JTL_FFN_CLIENT_SECRET")`);
    each merchant account's tokens from its `ops.credentials` row (or any TokenStore)."""

    client_id: str
    client_secret: str
    base_url: str = LIVE_URL
    token_url: str = TOKEN_URL
    timeout_seconds: float = 30.0
    attempts: int = 5
    max_retry_wait_seconds: float = 60.0
    token_margin_seconds: float = 120.0
    page_size: int = MAX_PAGE_SIZE
    lock_timeout_seconds: float = 60.0

    def session(self, token_store: TokenStore, base_url: str | None = None) -> JtlFfnApi:
        missing = [name for name, value in (("JTL_FFN_CLIENT_ID", self.client_id),
                                            ("JTL_FFN_CLIENT_SECRET", self.client_secret)) if not (value or "").strip()]
        if missing:
            raise JtlFfnError(f"JTL FFN's application client is not configured: set {' and '.join(missing)}", "auth")
        return JtlFfnApi(base_url or self.base_url, self.token_url, self.client_id, self.client_secret, token_store,
                         timeout=self.timeout_seconds, attempts=self.attempts, max_wait=self.max_retry_wait_seconds,
                         token_margin=self.token_margin_seconds, page_size=self.page_size,
                         limits=self.limits())

    def account_session(self, engine: Engine, vault: CredentialVault, account_id: int,
                        base_url: str | None = None) -> JtlFfnApi:
        """A session for a store's `jtl_ffn` account, its tokens in the account's credentials row."""
        return self.session(VaultTokenStore(engine, vault, account_id, lock_timeout=self.lock_timeout_seconds),
                            base_url)
