"""GTIN normalisation: check digits per length, ISBN-10, leading zeros lost by spreadsheets, junk."""
import pytest

from marketsync.assets.catalog.gtin import Gtin, gs1_check_digit, normalize_gtin


@pytest.mark.parametrize(
    ("raw", "gtin14", "kind"),
    [
        ("96385074", "00000096385074", "gtin8"),            # EAN-8
        ("036000291452", "00036000291452", "gtin12"),       # UPC-A
        ("4006381333931", "04006381333931", "gtin13"),      # EAN-13
        ("9780306406157", "09780306406157", "gtin13"),      # ISBN-13 is an EAN-13
        ("10012345678902", "10012345678902", "gtin14"),     # case-level GTIN-14
        ("04006381333931", "04006381333931", "gtin14"),     # already padded
    ],
)
def test_valid_gtins_of_every_length(raw, gtin14, kind):
    assert normalize_gtin(raw) == Gtin(gtin14, kind, None)


@pytest.mark.parametrize("raw", ["96385075", "036000291453", "4006381333932", "10012345678903"])
def test_wrong_check_digit_is_refused_with_the_expected_digit(raw):
    result = normalize_gtin(raw)
    assert result.gtin14 is None
    expected = gs1_check_digit(raw[:-1])
    assert result.problem == f"barcode {raw} has a wrong check digit (expected {expected})"


def test_check_digit_weights_three_and_one_from_the_right():
    # 400638133393: from the right 3*3+9*1+3*3+3*1+3*3+1*1+8*3+3*1+6*3+0*1+0*3+4*1 = 89, so 1
    assert gs1_check_digit("400638133393") == 1
    assert gs1_check_digit("03600029145") == 2
    assert gs1_check_digit("9638507") == 4
    assert gs1_check_digit("0000000") == 0


def test_spaces_and_dashes_are_ignored():
    assert normalize_gtin(" 4006381-333931 ").gtin14 == "04006381333931"
    assert normalize_gtin("978-0-306-40615-7").gtin14 == "09780306406157"
    assert normalize_gtin("0 36000 29145 2").gtin14 == "00036000291452"


@pytest.mark.parametrize(
    ("raw", "gtin14"),
    [
        ("0306406152", "09780306406157"),
        ("080442957X", "09780804429573"),  # X check character
        ("080442957x", "09780804429573"),
        ("0-8044-2957-X", "09780804429573"),
    ],
)
def test_isbn10_becomes_its_978_gtin(raw, gtin14):
    assert normalize_gtin(raw) == Gtin(gtin14, "isbn10", None)


def test_isbn10_with_wrong_check_character_is_refused():
    result = normalize_gtin("0306406153")
    # Not a valid ISBN-10, so read as a GTIN-12 missing two zeros, whose check digit fails too.
    assert result.gtin14 is None and "check digit" in result.problem
    assert normalize_gtin("0804429579", parser="isbn").problem == "ISBN-10 0804429579 has a wrong check character"
    assert normalize_gtin("080442957Y").problem == "barcode '080442957Y' contains characters other than digits"


def test_parser_hint_settles_ten_digit_values():
    # "0306406152" is a valid ISBN-10; declared an EAN it is a GTIN-12 missing two zeros, invalid.
    assert normalize_gtin("0306406152", parser="EAN").gtin14 is None
    assert normalize_gtin("0306406152", parser="isbn").kind == "isbn10"
    assert normalize_gtin("4006381333931", parser="isbn").problem == (
        "barcode 4006381333931 is declared an ISBN but does not start with 978 or 979"
    )
    assert normalize_gtin("9780306406157", parser="isbn").gtin14 == "09780306406157"


def test_leading_zeros_dropped_by_a_spreadsheet_are_restored_when_the_check_digit_holds():
    assert normalize_gtin("36000291452") == Gtin("00036000291452", "gtin12", None)  # 11 digits
    assert normalize_gtin("3600029145").gtin14 is None  # 10 digits, neither ISBN nor valid padded
    assert normalize_gtin("123456784").gtin14 == "00000123456784"  # 9 digits, padded check holds
    assert normalize_gtin("123456785").gtin14 is None


def test_shorter_than_eight_digits_is_invalid_even_with_a_fitting_check_digit():
    assert normalize_gtin("1234565").gtin14 is None  # would verify once padded
    assert normalize_gtin("1234565").problem == "barcode 1234565 has 7 digits; a GTIN has 8, 12, 13 or 14"
    assert normalize_gtin("0").problem == "barcode 0 has 1 digit; a GTIN has 8, 12, 13 or 14"


def test_more_than_fourteen_digits_only_with_leading_zeros():
    assert normalize_gtin("0004006381333931").gtin14 == "04006381333931"
    assert normalize_gtin("123456789012345").problem == "barcode 123456789012345 has 15 digits; a GTIN has at most 14"


def test_spreadsheet_damage():
    assert normalize_gtin("4006381333931.0").gtin14 == "04006381333931"
    assert "scientific notation" in normalize_gtin("4.00638E+12").problem


@pytest.mark.parametrize("raw", [None, "", "   ", " - "])
def test_absent_is_not_a_problem(raw):
    result = normalize_gtin(raw)
    assert result == Gtin(None, None, None)
    assert result.absent and not result.valid


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("N/A", "barcode 'N/A' contains characters other than digits"),
        ("abc123", "barcode 'abc123' contains characters other than digits"),
        ("40063813339３1", "barcode '40063813339３1' contains characters other than digits"),  # full-width digit
        ("00000000", "barcode is all zeros"),
        ("00000000000000", "barcode is all zeros"),
    ],
)
def test_junk(raw, problem):
    result = normalize_gtin(raw)
    assert result.gtin14 is None and not result.absent
    assert result.problem == problem


def test_result_is_frozen():
    with pytest.raises(AttributeError):
        normalize_gtin("96385074").gtin14 = "x"  # type: ignore[misc]
