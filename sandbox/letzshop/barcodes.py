"""GS1 barcode arithmetic for the simulated catalog.

Shops identify products by GTIN (EAN/UPC). The simulator needs to mint valid ones,
and to mint deliberately broken ones, so the importer's matching can be exercised.
"""

from __future__ import annotations


def _chunk_sums() -> list[int]:
    # Weighted digit sums of every 4-digit chunk. Weights run 3, 1, 3, 1, ... leftwards
    # from the check digit; a chunk of even length keeps that rhythm wherever it sits.
    return [3 * (x % 10) + (x // 10 % 10) + 3 * (x // 100 % 10) + (x // 1000) for x in range(10_000)]


_CHUNK = _chunk_sums()


def check_digit(body: str) -> str:
    """Return the GS1 check digit for ``body`` (all digits except the last)."""
    n = int(body)
    total = 0
    while n:
        total += _CHUNK[n % 10_000]
        n //= 10_000
    return str(-total % 10)


def with_check_digit(body: str) -> str:
    """Complete a GTIN body with its check digit."""
    return body + check_digit(body)


def is_valid_gtin(code: str) -> bool:
    """True when ``code`` is 8, 12, 13 or 14 digits with a correct check digit.

    Leading zeros do not change a GS1 check digit, which is why a GTIN that lost
    them is still "valid" at a shorter length.
    """
    if not code.isdigit() or not 8 <= len(code) <= 14:
        return False
    return check_digit(code[:-1]) == code[-1]


def wrong_check_digit(code: str, shift: int) -> str:
    """Return ``code`` with its check digit replaced by a different, wrong one.

    ``shift`` (1..9) picks which wrong digit, so corruption stays seeded.
    """
    right = ord(code[-1]) - 48
    return code[:-1] + str((right + 1 + (shift - 1) % 9) % 10)
