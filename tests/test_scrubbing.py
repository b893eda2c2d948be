"""The one secret scrubber: every spelling of a secret is masked, tokens come and go, nothing else changes."""
import base64
import json
import random
import string
from urllib.parse import quote, quote_plus

import pytest

from marketsync.resources.scrubbing import MASK, SecretScrubber, secret_forms

pytestmark = pytest.mark.unit

SECRET = "s3cr3t/pa ss+w=rd\"é"


def _spellings(secret: str, username: str = "bob") -> dict[str, str]:
    return {
        "raw": secret,
        "percent-encoded": quote(secret, safe=""),
        "percent-encoded path": quote(secret),
        "form-encoded": quote_plus(secret),
        "json": json.dumps(secret)[1:-1],
        "base64": base64.b64encode(secret.encode()).decode(),
        "basic auth": "Basic " + base64.b64encode(f"{username}:{secret}".encode()).decode(),
        "url-safe base64": base64.urlsafe_b64encode(secret.encode()).decode().rstrip("="),
    }


@pytest.mark.parametrize("form", list(_spellings(SECRET)))
def test_every_spelling_is_masked(form):
    scrubber = SecretScrubber(SECRET, username="bob")
    spelled = _spellings(SECRET)[form]
    message = f"request failed: 401 for header {spelled} (retrying)"
    scrubbed = scrubber.scrub(message)
    assert spelled.removeprefix("Basic ") not in scrubbed
    assert scrubbed.startswith("request failed: 401 for header ") and scrubbed.endswith(" (retrying)")
    assert MASK in scrubbed


def test_random_secrets_never_survive_in_any_spelling():
    rng = random.Random(20261206)
    alphabet = string.ascii_letters + string.digits + "/+=&?%:@ \"'\\é"
    for _ in range(300):
        secret = "".join(rng.choice(alphabet) for _ in range(rng.randint(3, 40)))
        scrubber = SecretScrubber(secret, username="user")
        for form, spelled in _spellings(secret, "user").items():
            text = f"<{spelled}>"
            assert spelled.removeprefix("Basic ") not in scrubber.scrub(text), (secret, form)


def test_the_longest_form_is_masked_whole():
    # The Basic pair contains neither the raw secret nor its base64 as a substring; a naive scrubber
    # that masks the raw form first would leave the pair readable.
    scrubber = SecretScrubber("abcdefgh", username="u")
    pair = base64.b64encode(b"u:abcdefgh").decode()
    assert scrubber.scrub(f"Authorization: Basic {pair}") == f"Authorization: Basic {MASK}"


def test_pem_key_lines_are_masked_one_by_one():
    key = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU\nAAAAAAAAAAEAAAAzAAAAC3NzaC1lZDI\n" \
          "-----END OPENSSH PRIVATE KEY-----\n"
    scrubber = SecretScrubber(key)
    message = "key rejected near 'AAAAAAAAAAEAAAAzAAAAC3NzaC1lZDI'"
    assert scrubber.scrub(message) == f"key rejected near '{MASK}'"
    assert scrubber.scrub("-----BEGIN OPENSSH PRIVATE KEY-----") == "-----BEGIN OPENSSH PRIVATE KEY-----"


def test_tokens_are_masked_until_enough_newer_ones_came():
    scrubber = SecretScrubber("client-secret", keep_tokens=2)
    scrubber.add_token("token-one")
    scrubber.add_token("token-two")
    assert scrubber.scrub("token-one token-two client-secret") == f"{MASK} {MASK} {MASK}"
    scrubber.add_token("token-three")
    assert scrubber.scrub("token-one token-three client-secret") == f"token-one {MASK} {MASK}"


def test_short_and_empty_values_are_ignored():
    scrubber = SecretScrubber(None, "", "ab")
    assert not scrubber
    assert scrubber.scrub("ab cd") == "ab cd"
    assert secret_forms("ab") == set()
    assert "abc" in secret_forms("abc")


def test_text_without_secrets_is_unchanged():
    scrubber = SecretScrubber(SECRET)
    text = "GET /orders?page=2 answered 503 Service Unavailable"
    assert scrubber.scrub(text) == text


def test_a_client_error_is_scrubbed_in_place():
    from marketsync.resources.http_retry import HttpCallError

    scrubber = SecretScrubber("api/key+123")
    error = HttpCallError(f"refused: Bearer api/key+123 ({quote('api/key+123', safe='')})", "auth", 3.0)
    assert error.scrubbed(scrubber) is error
    assert str(error) == f"refused: Bearer {MASK} ({MASK})" and error.kind == "auth" and error.retry_after == 3.0


# ------------------------------------------------------------------------------------ the process's own
@pytest.mark.unit
def test_excerpts_are_short_escaped_and_scrubbed_of_the_process_secrets(monkeypatch):
    from marketsync.resources.scrubbing import excerpt, process_scrubber

    vault_key = "Zm9vYmFyYmF6cXV4cXV1eDEyMzQ1Njc4OTBhYmNkZWY="
    monkeypatch.setenv("MARKETSYNC_SECRET_KEYS", f"{vault_key},older-key-0123456789")
    monkeypatch.setenv("DATABASE_URL", "postgresql://app:db-pass-4711@db.internal:5432/shop")
    monkeypatch.setenv("EBAY_CLIENT_SECRET", "ebay-secret-0815")
    environ_line = f"HOME=/root\0MARKETSYNC_SECRET_KEYS={vault_key},older-key-0123456789\0PATH=/usr/bin"
    shown = excerpt(environ_line)
    assert vault_key not in shown and "older-key" not in shown and "\0" not in shown and "\\x00" in shown
    assert shown.startswith("'HOME=/root\\x00MARKETSYNC_SECRET_KEYS=***") and "more characters" in shown
    # A secret the cut would split in two is masked before the cut.
    assert excerpt("x" * 50 + vault_key, limit=60) == "'" + "x" * 50 + "***'... (34 more characters)"
    assert excerpt("price 12,3x") == "'price 12,3x'" and len(excerpt("a" * 10_000)) < 100
    scrub = process_scrubber().scrub
    assert scrub("db-pass-4711 ebay-secret-0815 older-key-0123456789") == "*** *** ***"
    monkeypatch.setenv("EBAY_CLIENT_SECRET", "rotated-secret-4242")  # followed as the environment changes
    assert process_scrubber().scrub("rotated-secret-4242 ebay-secret-0815") == "*** ebay-secret-0815"
