"""GTIN normalisation: every barcode a merchant or a marketplace gives us, reduced to one GTIN-14.

Catalog rows and order lines only match when their barcodes are compared in one canonical form, so
every EAN-8, UPC-A (GTIN-12), EAN-13 (GTIN-13), GTIN-14 and ISBN-10 is turned into the 14-digit
GTIN with leading zeros, after its check digit is verified. A value that cannot be trusted is never
guessed at: it comes back with `gtin14=None` and a `problem` worded for the merchant.

Spreadsheets damage barcodes in two ways we repair and one we cannot:
- leading zeros dropped (a UPC-A `012345678905` saved as the number `12345678905`): values of 9 to
  11 digits are left-padded and accepted only when the padded number's check digit verifies;
- a float's trailing `.0` (`4006381333931.0`) is removed;
- scientific notation (`4.00638E+12`) has lost digits for good and is rejected.

Called once per catalog row and order line (tens of thousands per import), so it does no regex
work and no allocation beyond a few short strings.
"""
from __future__ import annotations

from dataclasses import dataclass

# Separators people type or print between digit groups; removed before anything else.
_SEPARATORS = str.maketrans("", "", " -\t\u00a0")

# Declared barcode types (the `parser` hint, e.g. a channel's barcode_type) that name a GS1 number,
# so a 10-digit value is never read as an ISBN-10, and those that name an ISBN.
_GS1_HINTS = frozenset({"ean", "ean8", "ean13", "upc", "upca", "upce", "gtin", "gtin8", "gtin12", "gtin13", "gtin14",
                        "jan"})
_ISBN_HINTS = frozenset({"isbn", "isbn10", "isbn13"})

_KIND_BY_LENGTH = {8: "gtin8", 12: "gtin12", 13: "gtin13", 14: "gtin14"}


@dataclass(frozen=True, slots=True)
class Gtin:
    """A barcode after normalisation.

    gtin14:  the 14-digit GTIN, or None when the barcode was absent or invalid.
    kind:    what the input was read as: gtin8, gtin12, gtin13, gtin14 or isbn10 (None if unreadable).
    problem: why the barcode was refused, one sentence for the merchant; None when valid or absent.
    """

    gtin14: str | None
    kind: str | None = None
    problem: str | None = None

    @property
    def valid(self) -> bool:
        return self.gtin14 is not None

    @property
    def absent(self) -> bool:
        """No barcode was given at all (as opposed to one that was given and refused)."""
        return self.gtin14 is None and self.problem is None


_ABSENT = Gtin(None)


def gs1_check_digit(body: str) -> int:
    """The GS1 check digit for `body` (all digits but the check): weights 3,1,3,... from the right."""
    # Summing ASCII codes of alternating bytes, then removing the '0' offsets, avoids an int() per digit.
    codes = body.encode("ascii")
    odd = codes[-1::-2]
    even = codes[-2::-2]
    return -(3 * (sum(odd) - 48 * len(odd)) + sum(even) - 48 * len(even)) % 10


# What the ASCII '0' offsets add to the weighted sum of an n-digit number (check digit included).
_ZERO_OFFSET = {n: 48 * ((n + 1) // 2 + 3 * (n // 2)) for n in range(1, 15)}


def _gs1_valid(digits: str) -> bool:
    # With the check digit weighted 1, a valid number's weighted sum is a multiple of 10.
    codes = digits.encode("ascii")
    return (sum(codes[-1::-2]) + 3 * sum(codes[-2::-2]) - _ZERO_OFFSET[len(codes)]) % 10 == 0


def _isbn10_valid(chars: str) -> bool:
    total = 0
    for weight, ch in zip(range(10, 1, -1), chars[:9], strict=True):
        total += weight * (ord(ch) - 48)
    last = chars[9]
    total += 10 if last in "Xx" else ord(last) - 48
    return total % 11 == 0


def _from_isbn10(chars: str) -> Gtin:
    # ASCII digits only: str.isdigit() also takes other scripts' digits ("١"), which are no ISBN.
    if not (chars.isascii() and chars[:9].isdigit() and (chars[9].isdigit() or chars[9] in "Xx")):
        return Gtin(None, "isbn10", "an ISBN-10 has nine digits followed by a digit or X")
    if not _isbn10_valid(chars):
        return Gtin(None, "isbn10", f"ISBN-10 {chars} has a wrong check character")
    body = "978" + chars[:9]
    return Gtin("0" + body + str(gs1_check_digit(body)), "isbn10")


def normalize_gtin(raw: str | None, parser: str | None = None) -> Gtin:
    """Read `raw` as a GS1 barcode (GTIN-8/12/13/14) or an ISBN-10 and return its GTIN-14.

    `parser` is the barcode type the source declared, if any (e.g. "ean", "upc", "isbn"; case and
    separators ignored). It only settles the one real ambiguity, a 10-digit value: with a GS1 type it
    is a GTIN that lost leading zeros, with an ISBN type an ISBN-10, and with no or an unknown type an
    ISBN-10 when its ISBN check verifies (books are where 10-digit codes come from), else a padded GTIN.
    With an ISBN type, a 13-digit value must also start with 978 or 979.

    An empty value is absent, not invalid: `Gtin(None)` with no problem.
    """
    if raw is None:
        return _ABSENT
    # Fast path for what nearly every catalog row holds: a bare, valid GTIN-8/12/13/14.
    kind = _KIND_BY_LENGTH.get(len(raw))
    if (kind and (parser is None or parser in _GS1_HINTS) and raw.isdigit() and raw.isascii()
            and _gs1_valid(raw) and raw.strip("0")):
        return Gtin(raw.rjust(14, "0"), kind)
    value = raw if raw.isdigit() else raw.translate(_SEPARATORS)
    if not value:
        return _ABSENT
    if value.endswith(".0"):
        value = value[:-2]
    hint = parser.lower().replace("-", "").replace("_", "").replace(" ", "") if parser else ""

    if not (value.isascii() and value.isdigit()):
        if len(value) == 10 and value[-1] in "Xx" and hint not in _GS1_HINTS:
            return _from_isbn10(value)
        if "e+" in value.lower():
            return Gtin(None, None, f"barcode '{raw.strip()}' is in scientific notation, so its digits are lost; "
                                    "format the column as text and export again")
        return Gtin(None, None, f"barcode '{raw.strip()}' contains characters other than digits")

    length = len(value)
    if length == 10 and hint not in _GS1_HINTS and (hint in _ISBN_HINTS or _isbn10_valid(value)):
        return _from_isbn10(value)
    if length > 14:
        # Zeros in front of a 14-digit number change nothing; anything else is not a GTIN.
        stripped = value.lstrip("0")
        if len(stripped) > 14:
            return Gtin(None, None, f"barcode {value} has {length} digits; a GTIN has at most 14")
        value, length = stripped.rjust(14, "0"), 14
    if length < 8:
        digits = "1 digit" if length == 1 else f"{length} digits"
        return Gtin(None, None, f"barcode {value} has {digits}; a GTIN has 8, 12, 13 or 14")
    if value.count("0") == length:
        return Gtin(None, None, "barcode is all zeros")

    # 9 to 11 digits: a GTIN-12 or -13 whose leading zeros a spreadsheet dropped.
    kind = _KIND_BY_LENGTH.get(length, "gtin12")
    if hint in _ISBN_HINTS and length == 13 and not value.startswith(("978", "979")):
        return Gtin(None, "gtin13", f"barcode {value} is declared an ISBN but does not start with 978 or 979")
    if not _gs1_valid(value):
        return Gtin(None, kind, f"barcode {value} has a wrong check digit (expected {gs1_check_digit(value[:-1])})")
    return Gtin(value.rjust(14, "0"), kind)
