"""The Latvian personal code rule of CONTRACTS §3.

Old codes `DDMMYY-CNNNQ` carry a birth date (century digit 0/1/2 = 1800s/1900s/2000s) and a check digit;
new codes (issued from 2017-07-01) start with 32-39 and carry neither, so they are only format-checked.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_WEIGHTS = (1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
NEW = r"3[2-9][0-9]{4}-?[0-9]{5}"  # ASCII digits only (`\d` would take any script's digits)
_NEW = re.compile(NEW)
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


def valid_codes(codes: pa.Array) -> pa.BooleanArray:
    """`is_valid` for a whole column at once (Arrow regexes, numpy arithmetic): the same rule, no Python call per code.

    Shape and the new format are RE2 matches of the scalar patterns (RE2's `\\d` is ASCII only, as `re.ASCII`);
    the old format's century, date and check digit are computed on an (n, 11) digit matrix."""
    codes = pc.fill_null(codes, "")
    new = pc.match_substring_regex(codes, f"^{NEW}$").to_numpy(zero_copy_only=False)
    shaped = pc.match_substring_regex(codes, SHAPE).to_numpy(zero_copy_only=False)
    digits = _digit_matrix(pc.replace_substring(codes, "-", ""), shaped)
    century = digits[:, 6]
    year = 1800 + 100 * century + 10 * digits[:, 4] + digits[:, 5]
    month = 10 * digits[:, 2] + digits[:, 3]
    day = 10 * digits[:, 0] + digits[:, 1]
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    month_days = _MONTH_DAYS[np.clip(month, 1, 12) - 1] + ((month == 2) & leap)
    real_date = (century <= 2) & (month >= 1) & (month <= 12) & (day >= 1) & (day <= month_days)
    checked = (1101 - digits[:, :10] @ np.array(_WEIGHTS)) % 11 % 10 == digits[:, 10]
    return pa.array(new | (shaped & real_date & checked), type=pa.bool_())


_MONTH_DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


def _digit_matrix(texts: pa.Array, shaped: np.ndarray) -> np.ndarray:
    """The 11 digit values of each shaped text (dash removed, so exactly 11 ASCII bytes) as an (n, 11) int array,
    read straight from the Arrow buffers; rows that are not shaped hold zeros."""
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    width = np.int64 if pa.types.is_large_string(texts.type) else np.int32
    offsets = np.frombuffer(texts.buffers()[1], dtype=width)[texts.offset: texts.offset + len(texts) + 1]
    data = np.frombuffer(texts.buffers()[2] or b"", dtype=np.uint8) if len(texts) else np.zeros(0, np.uint8)
    starts = np.where(shaped, offsets[:-1], 0)
    padded = np.concatenate([data, np.full(11, ord("0"), dtype=np.uint8)])
    return padded[starts[:, None] + np.arange(11)].astype(np.int64) - ord("0")


def with_check_digit(first_ten: str) -> str:
    """Complete ten digits into a valid old-format code (used by the generator and tests)."""
    return first_ten + str(check_digit(first_ten))
