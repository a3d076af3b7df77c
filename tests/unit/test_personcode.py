from __future__ import annotations

import pytest

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
