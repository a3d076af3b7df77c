"""Issue 9 point 6: digits are ASCII digits everywhere; Unicode digits never pass as numbers or codes."""

from __future__ import annotations

import pytest

from pipeline.period import parse_month, try_parse_month
from pipeline.quality import personcode
from pipeline.quality.reasons import Reason
from pipeline.sources.common import parse_cents
from pipeline.sources.prices import parse_price

ARABIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@pytest.mark.parametrize("text", ["2025-01".translate(ARABIC), "2025-01".translate(FULLWIDTH), "2025-01\n",
                                  "２025-01"])
def test_a_period_in_other_digits_is_not_a_month(text):
    with pytest.raises(ValueError):
        parse_month(text)
    assert try_parse_month(text) is None


@pytest.mark.parametrize("text", ["²", "١٢.٥٠", "12.５", "１2", "⁵"])
def test_an_amount_in_other_digits_is_a_bad_amount_not_a_crash(text):
    assert parse_cents(text) == (None, Reason.BAD_AMOUNT)


def test_plain_amounts_still_parse():
    assert parse_cents("1234.5") == (123450, None) and parse_cents("-0.00") == (0, None)
    assert parse_cents("-1.00") == (None, Reason.NEGATIVE_AMOUNT)


@pytest.mark.parametrize("code", ["32" + "1234".translate(FULLWIDTH) + "56789", "３21234-56789",
                                  "150380-10004".translate(ARABIC)])
def test_a_personal_code_in_other_digits_is_invalid(code):
    assert not personcode.is_valid(code)
    assert personcode.normalize(code) is None


@pytest.mark.parametrize("text", ["1e3", "1_000", " 12", "12 ", "+5", "NaN", "Infinity", "12.", ".5", "1,5",
                                  "١٢", "12.345"])
def test_a_price_is_the_plain_decimal_form_only(text):
    assert parse_price(text) is None


@pytest.mark.parametrize(("text", "value"), [("203.58", "203.58"), ("70", "70"), ("-3.10", "-3.10"), ("0.5", "0.5")])
def test_plain_prices_parse_exactly(text, value):
    assert str(parse_price(text)) == value
