from __future__ import annotations

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.quality import personcode


@pytest.mark.parametrize("code", ["150380-10001"[:0] + personcode.with_check_digit("1503801000"),
                                  "010100-00003"[:0] + personcode.with_check_digit("0101000000")])
def test_old_codes_with_the_right_check_digit_are_valid(code):
    assert personcode.is_valid(code)
    assert personcode.is_valid(f"{code[:6]}-{code[6:]}")


def test_check_digit_follows_the_contract_formula():
    # Σ wᵢdᵢ for 1503801000 = 1+30+0+21+72+0+5+0+0+0 = 129; (1101-129) mod 11 = 4
    assert personcode.check_digit("1503801000") == 4


def test_wrong_check_digit_impossible_date_or_century_are_invalid():
    valid = personcode.with_check_digit("1503801000")
    assert not personcode.is_valid(valid[:10] + str((int(valid[10]) + 1) % 10))
    assert not personcode.is_valid(personcode.with_check_digit("3102801000"))   # 31 February
    assert not personcode.is_valid(personcode.with_check_digit("1503803000"))   # century digit 3
    assert not personcode.is_valid("15038010004x")
    assert not personcode.is_valid("1503-8010004")


def test_new_codes_are_format_checked_only():
    assert personcode.is_valid("32579461005")
    assert personcode.is_valid("325794-61005")
    assert not personcode.is_valid("31579461005")  # 31… is neither new format nor a real date


def test_normalize_drops_the_dash():
    assert personcode.normalize("010190-10001") == "01019010001"
    assert personcode.normalize("0101901000") is None


_DIGITS = st.text(alphabet="0123456789", min_size=10, max_size=10)
_CODES = st.one_of(
    _DIGITS.map(personcode.with_check_digit),                                       # right check digit
    _DIGITS.map(lambda ten: personcode.with_check_digit(ten)[:6] + "-" + personcode.with_check_digit(ten)[6:]),
    st.text(alphabet="0123456789-", max_size=13),                                   # near misses of the shape
    st.from_regex(r"3[0-9]{5}-?[0-9]{5}", fullmatch=True),                          # new-format neighbours
    st.builds(lambda day, month, year, century: f"{day:02d}{month:02d}{year:02d}{century}000",
              st.integers(0, 32), st.integers(0, 13), st.integers(0, 99), st.integers(0, 9))
    .map(personcode.with_check_digit),                                              # every date edge
    st.text(max_size=14),                                                           # anything, any script
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_CODES, max_size=40), st.integers(0, 5))
def test_the_column_rule_is_the_scalar_rule(codes, skip):
    """`valid_codes` must give `is_valid` for every code, also in a sliced Arrow array (non-zero offset)."""
    column = pa.array(["x"] * skip + codes, type=pa.string()).slice(skip)
    assert personcode.valid_codes(column).to_pylist() == [personcode.is_valid(code) for code in codes]


def test_the_column_rule_sees_leap_days_centuries_and_other_scripts():
    dated = {"2902000": False,   # 29 February 1800: not a leap year
             "2902041": True,    # 1904
             "2902002": True,    # 2000
             "2902001": False,   # 1900
             "3104801": False,   # 31 April
             "0101003": False}   # century digit 3
    codes = [personcode.with_check_digit(first + "000") for first in dated]
    codes += ["32579461005", "325794-61005", "3257946100", "٠١٠١٩٠١٠٠٠١", "01019０10001", None]
    expected = [*dated.values(), True, True, False, False, False, False]
    assert personcode.valid_codes(pa.array(codes, type=pa.string())).to_pylist() == expected
    assert [personcode.is_valid(code or "") for code in codes] == expected
