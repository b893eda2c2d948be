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
