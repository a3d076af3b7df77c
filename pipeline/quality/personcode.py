"""The Latvian personal code rule of CONTRACTS §3.

Old codes `DDMMYY-CNNNQ` carry a birth date (century digit 0/1/2 = 1800s/1900s/2000s) and a check digit;
new codes (issued from 2017-07-01) start with 32-39 and carry neither, so they are only format-checked.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

_WEIGHTS = (1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_NEW = re.compile(r"3[2-9][0-9]{4}-?[0-9]{5}")  # ASCII digits only (`\d` would take any script's digits)
_CENTURY = {"0": 1800, "1": 1900, "2": 2000}


SHAPE = r"^\d{6}-?\d{5}$"   # 11 digits, one '-' after the 6th allowed (§3); also used vectorised by readers
_SHAPE = re.compile(SHAPE, re.ASCII)


def normalize(code: str) -> str | None:
    """The 11 digits of a code written with or without the dash, or None when the shape is wrong."""
    return code.replace("-", "") if _SHAPE.fullmatch(code) else None


def candidate_digits(code: str) -> str | None:
    """The 11 digits a code that FAILED the shape check was probably meant to be, or None.

    Only used to find whose household a quarantined income or benefit record could belong to, so that household
    goes to REVIEW instead of silently losing that income; it never stages a record. Digits of any script count
    as their value (a code typed in Arabic-Indic or fullwidth digits), everything else is dropped (spaces, dashes
    of any kind, stray letters). Erring towards a match is the safe side: a wrong candidate puts a household
    in front of staff, a missed one lowers its income unseen.
    """
    digits = "".join(str(unicodedata.decimal(ch)) for ch in code if unicodedata.decimal(ch, None) is not None)
    return digits if len(digits) == 11 else None


def check_digit(first_ten: str) -> int:
    """`Q = (1101 − Σ wᵢ·dᵢ) mod 11 mod 10` over the first ten digits."""
    total = sum(weight * int(digit) for weight, digit in zip(_WEIGHTS, first_ten, strict=True))
    return (1101 - total) % 11 % 10


def is_valid(code: str) -> bool:
    """True when `code` passes the §3 rule (new format, or old format with a real date and a right check digit)."""
    if _NEW.fullmatch(code):
        return True
    digits = normalize(code)
    if digits is None:
        return False
    century = _CENTURY.get(digits[6])
    if century is None:
        return False
    try:
        dt.date(century + int(digits[4:6]), int(digits[2:4]), int(digits[0:2]))
    except ValueError:
        return False
    return check_digit(digits[:10]) == int(digits[10])


def with_check_digit(first_ten: str) -> str:
    """Complete ten digits into a valid old-format code (used by the generator and tests)."""
    return first_ten + str(check_digit(first_ten))
