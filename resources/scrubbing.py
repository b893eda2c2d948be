"""The one secret scrubber: every client, delivery and download masks secrets in what it says with this.

A secret can surface in an error message, an echoed request or a server's answer in many spellings, not
only as it was given: percent-encoded in a URL or a form body, base64 in a Basic-auth header (alone or as
`user:secret`), escaped inside JSON, one line of a PEM key. `SecretScrubber` knows every such form of the
secrets it was given and masks them all, longest first (so a form that contains another is masked whole).

Client secrets are pinned for the scrubber's life; short-lived tokens are added as they are issued and
the oldest are dropped after `keep_tokens`, so a long-running session does not grow without bound.
"""
from __future__ import annotations

import base64
import functools
import json
import os
import re
from collections import OrderedDict
from urllib.parse import quote, quote_plus, urlsplit

MASK = "***"
# Shorter values are not masked: two characters would mangle every message and hide nothing.
MIN_LENGTH = 3
# A PEM key's body lines are masked one by one (an error may quote one line of it).
_PEM_LINE_MIN = 16


def secret_forms(secret: str, username: str | None = None) -> set[str]:
    """Every spelling in which `secret` can appear in text: raw, percent-encoded (path and query, with and
    without '/' kept), form-encoded, JSON-escaped, base64 and URL-safe base64, and the Basic-auth pair
    `username:secret` in base64 when a username goes with it. A multi-line secret (a PEM private key)
    also yields each long line of its body."""
    secret = secret.strip("\n") if "\n" in secret else secret
    if len(secret) < MIN_LENGTH:
        return set()
    forms = {secret, quote(secret, safe=""), quote(secret), quote_plus(secret), json.dumps(secret)[1:-1],
             _b64(secret), _b64(secret).rstrip("="), base64.urlsafe_b64encode(secret.encode()).decode().rstrip("=")}
    if username:
        forms.add(_b64(f"{username}:{secret}"))
    if "\n" in secret:
        forms |= {line.strip() for line in secret.splitlines()
                  if len(line.strip()) >= _PEM_LINE_MIN and not line.startswith("-----")}
    return {form for form in forms if len(form) >= MIN_LENGTH}


def _b64(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


class SecretScrubber:
    """Masks every known form of the secrets it holds (see `secret_forms`)."""

    def __init__(self, *secrets: str | None, username: str | None = None, keep_tokens: int = 60) -> None:
        self._pinned: set[str] = set()
        self._tokens: OrderedDict[str, set[str]] = OrderedDict()
        self._keep_tokens = keep_tokens
        self._ordered: list[str] | None = None
        for secret in secrets:
            self.pin(secret, username=username)

    def pin(self, secret: str | None, *, username: str | None = None) -> None:
        """Mask `secret` for the scrubber's whole life (a client secret, a password, a private key)."""
        if secret:
            self._pinned |= secret_forms(secret, username)
            self._ordered = None

    def add_token(self, token: str | None) -> None:
        """Mask a short-lived token (an access or refresh token) until `keep_tokens` newer ones replaced it."""
        if not token:
            return
        self._tokens[token] = secret_forms(token)
        self._tokens.move_to_end(token)
        while len(self._tokens) > self._keep_tokens:
            self._tokens.popitem(last=False)
        self._ordered = None

    def scrub(self, text: str) -> str:
        """`text` with every known form of every secret replaced by MASK."""
        if self._ordered is None:
            forms = set(self._pinned)
            for token_forms in self._tokens.values():
                forms |= token_forms
            self._ordered = sorted(forms, key=len, reverse=True)
        for form in self._ordered:
            if form in text:
                text = text.replace(form, MASK)
        return text

    def __bool__(self) -> bool:
        return bool(self._pinned or self._tokens)


# ------------------------------------------------------------------------------------ the process's own
# Environment variables whose values are secrets: the vault's keys, client secrets, tokens, passwords.
_SECRET_NAME = re.compile(r"SECRET|PASSWORD|PASSWD|TOKEN|CREDENTIAL|PRIVATE|(^|_)KEYS?($|_)|API_?KEY", re.I)
EXCERPT_CHARS = 60


def process_scrubber() -> SecretScrubber:
    """The scrubber of this process's own secrets, as the environment holds them now: every variable named
    like a secret (MARKETSYNC_SECRET_KEYS and each key in it, *_CLIENT_SECRET, *_TOKEN, *_PASSWORD ...)
    and the password of every database URL. Whatever quotes input it did not write (an error about a
    feed's header, a quarantine reason, a CLI error) passes through it: input may hold them when it was
    read from where it should not have been."""
    global _process
    environ = os.environ
    if _process is not None:
        # Cheap enough to call per quarantined row: rebuilt only when a secret changed or a variable came or went.
        size, watched, scrubber = _process
        if size == len(environ) and all(environ.get(name) == value for name, value in watched):
            return scrubber
    items = tuple((k, v) for k, v in environ.items() if _secret_name(k) or v.startswith(("postgresql", "postgres://")))
    _process = (len(environ), items, _scrubber_of(items))
    return _process[2]


_process: tuple[int, tuple[tuple[str, str], ...], SecretScrubber] | None = None


@functools.lru_cache(maxsize=1024)
def _secret_name(name: str) -> bool:
    return _SECRET_NAME.search(name) is not None


@functools.lru_cache(maxsize=4)
def _scrubber_of(items: tuple[tuple[str, str], ...]) -> SecretScrubber:
    scrubber = SecretScrubber()
    for name, value in items:
        if "://" in value:
            try:
                scrubber.pin(urlsplit(value).password)
            except ValueError:
                pass
            if not _secret_name(name):
                continue
        scrubber.pin(value)
        for part in re.split(r"[,;\s]+", value):
            scrubber.pin(part)
    return scrubber


def excerpt(value: object, limit: int = EXCERPT_CHARS) -> str:
    """A short, quoted, single-line excerpt of input for an error or a quarantine reason: control
    characters escaped, cut to `limit` characters (with the count of what was left out), scrubbed of the
    process's secrets. Input is never echoed whole: it may be long, binary, or something secret."""
    text = value if isinstance(value, str) else str(value)
    # Scrubbed before it is cut, so that no secret is cut in two and shown by halves.
    scrubbed = process_scrubber().scrub(text[: limit + 4096])
    cut = scrubbed[:limit]
    shown = cut if cut.isprintable() else cut.encode("unicode_escape").decode("ascii")
    more = f"... ({len(text) - limit:,} more characters)" if len(text) > limit else ""
    return f"'{shown}'{more}"

