"""The JTL Fulfillment Network (FFN) Merchant API, over httpx.

What the merchant's fulfiller holds and does: products (`jfsku` is FFN's id, `merchantSku` ours),
stock per product and warehouse, inbounds (goods announced to a warehouse, `quantityOpen` per item is
what has not arrived yet), outbounds (orders the warehouse ships) and their shipping notifications
(items and packages: `freightOption`, `identifier` with the tracking number, `trackingUrl`,
`shippingMethodId`, which names the carrier). Lists come in pages: `$top` (at most 200) and `$skip`,
answered as `{"items", "_page", "nextPageLink", ...}`; the client follows `nextPageLink` when the
answer has one and counts `$skip` on when it has none. Changes since a moment come from the
`…/updates` lists (`fromDate`, `toDate`, `page`; chained by `nextChunkUrl`).

Authorisation is OAuth 2 with the authorisation code grant: the merchant consents once, and the
refresh token that yields is entered by the user (`{"refresh_token": "…"}` in the account's
credentials). Access tokens live `expires_in` seconds; the client replaces them a margin before they
expire and once more when the API answers 401 anyway. FFN's refresh tokens are single-use: every
refresh answers with a new refresh token and spends the old one, and a provider that sees a spent
token again revokes the whole authorisation. So the token pair lives behind a `TokenStore`:

* `VaultTokenStore` keeps it encrypted in the account's `ops.credentials` row (the `jtl_ffn`
  channel) and refreshes in ONE database transaction: lock the row (`SELECT … FOR UPDATE`), read the
  refresh token, call the token endpoint, store the new pair, commit. Two processes never spend the
  same refresh token: the second waits on the lock, then finds a fresh access token already stored
  and uses it without a token call.
* A crash between the token call and the commit (or an answer lost on the way) leaves the row with
  the spent token: the provider has already rotated, and only the lost answer held the new pair. No
  design can close that window, because the token endpoint cannot take part in our transaction (there
  is no two-phase commit with an OAuth server, and the new token only exists once the answer arrives);
  writing the new pair in the very transaction that holds the lock on the old one makes the window as
  short as it can be (the time between the answer and the commit) and makes sure nobody else acts on
  the stale row meanwhile. When it happens anyway, the next refresh meets `invalid_grant` and the
  client raises `JtlFfnError(kind="reauthorize")`: the merchant has to authorise marketsync again.
  For the same reason a failed token call is retried (with the read it serves) even though its
  answer may have been lost: if the old token was spent, the authorisation is lost either way; if it
  was not, the retry saves it.
* `MemoryTokenStore` does the same within one process (scripts, the sandbox, tests).

Both stores, the token model (`TokenSet`) and the refresh before expiry and on 401 are the project's
one OAuth token manager (resources.oauth); the requests, retries, size cap and paging its one HTTP
client (resources.http_client). What is FFN's here: the endpoints, the token call and the error mapping.

Reads are retried on transient failures (429, 5xx, timeouts, dropped connections) with full-jitter
backoff that honours Retry-After. Writes are not retried blindly: creating an outbound is retried
because `merchantOutboundNumber` is the merchant's unique key for it. Before sending it again after
an outcome we could not see (a timeout, a 5xx, a lost answer), the client looks the number up and
returns the outbound it finds; and FFN refuses a second outbound with a known number (400
Shared_DuplicateKey), which the client also answers with the existing outbound. So a create can be
repeated safely and never makes two outbounds.

Failures are one-line `JtlFfnError`s that carry FFN's error code and first message, and never the
client secret or a token (every message is scrubbed of them before it is raised).
"""
from marketsync.resources.jtl_ffn.api import TOKEN_URL, JtlFfnApi
from marketsync.resources.jtl_ffn.errors import JtlFfnError
from marketsync.resources.jtl_ffn.resource import JtlFfnResource
from marketsync.resources.jtl_ffn.token_store import MemoryTokenStore, VaultTokenStore, store_refresh_token
from marketsync.resources.oauth import TokenSet

__all__ = [
    "TOKEN_URL",
    "JtlFfnApi",
    "JtlFfnError",
    "JtlFfnResource",
    "MemoryTokenStore",
    "TokenSet",
    "VaultTokenStore",
    "store_refresh_token",
]
