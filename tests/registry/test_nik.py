from datetime import date

import pytest

from registry.nik import NikError, mask_nik, parse_nik


def test_parses_a_mans_nik():
    parts = parse_nik("3275011203850001")
    assert (parts.province, parts.regency, parts.district) == ("32", "3275", "01")
    assert (parts.day, parts.month, parts.year_2digit, parts.female) == (12, 3, 85, False)
    assert parts.serial == "0001"


def test_a_womans_day_has_forty_added():
    parts = parse_nik("3275014507880002")
    assert (parts.day, parts.month, parts.female) == (5, 7, True)
    assert parts.matches_birth_date(date(1988, 7, 5), "F")
    assert not parts.matches_birth_date(date(1988, 7, 5), "M")


@pytest.mark.parametrize(
    ("nik", "code"),
    [
        ("327501120385000", "nik_format"),  # 15 digits
        ("32750112038500011", "nik_format"),  # 17 digits
        ("32750112038500a1", "nik_format"),
        ("".join(chr(0xFF10 + int(d)) for d in "3275011203850001"), "nik_format"),  # full-width
        ("", "nik_format"),
        ("2075011203850001", "nik_province"),  # 20 is no province
        ("9975011203850001", "nik_province"),
        ("3275013203850001", "nik_date"),  # day 32
        ("3275017203850001", "nik_date"),  # day 72 (32 for a woman)
        ("3275011213850001", "nik_date"),  # month 13
        ("3275013002850001", "nik_date"),  # 30 February
        ("3275010000850001", "nik_date"),  # day 0
        ("3275011203850000", "nik_serial"),
    ],
)
def test_refuses_malformed_niks(nik, code):
    with pytest.raises(NikError) as error:
        parse_nik(nik)
    assert error.value.code == code


def test_29_february_needs_a_leap_year_in_either_century():
    assert parse_nik("3275012902000001").day == 29  # 2000 was a leap year
    with pytest.raises(NikError):
        parse_nik("3275012902010001")  # neither 1901 nor 2001


def test_papua_codes_before_and_after_the_split_are_accepted():
    for province in ("91", "92", "93", "94", "95", "96"):
        assert parse_nik(f"{province}71011203850001").province == province


def test_mask_shows_only_the_last_four_digits():
    assert mask_nik("3275011203850001") == "************0001"
