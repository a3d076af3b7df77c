"""Consumption months (`YYYY-MM`) as integers, so windows and spreads are plain arithmetic.

A month index is `year * 12 + (month - 1)`; it sorts like the calendar and subtracts to a month count.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

MONTH_PATTERN = r"^(19\d\d|[2-9]\d{3})-(0[1-9]|1[0-2])$"   # a real `YYYY-MM` month from 1900: the one rule
_MONTH = re.compile(MONTH_PATTERN, re.ASCII)


def parse_month(text: str) -> int:
    """`"2025-01"` -> month index. Raises ValueError for anything that is not a real `YYYY-MM` month."""
    match = _MONTH.fullmatch(text or "")
    if not match:
        raise ValueError(f"not a real YYYY-MM month: {text!r}")
    return int(match.group(1)) * 12 + int(match.group(2)) - 1


def parse_months(texts: Any) -> tuple[Any, Any]:
    """`parse_month` for a whole Arrow string array at once: numpy (valid mask, month index, 0 where invalid).

    The same rule as MONTH_PATTERN, read off the bytes in numpy (a regex, two slices and two casts in Arrow were
    a visible part of staging VID): exactly seven bytes, four ASCII digits of a year from 1900, `-`, a month 01..12."""
    # lazy: Arrow only for whole columns; DAG files parse single months
    from pipeline.textcolumns import chars_at, digits_at, fixed_width

    fits, matrix = fixed_width(texts, 7)
    year_ok, year = digits_at(matrix, [0, 1, 2, 3])
    month_ok, month = digits_at(matrix, [5, 6])
    valid = fits & year_ok & month_ok & chars_at(matrix, {4: "-"}) & (year >= 1900) & (month >= 1) & (month <= 12)
    return valid, np.where(valid, year * 12 + month - 1, 0).astype(np.int32)


_SEEN: dict[str, int | None] = {}


def try_parse_month(text: str | None) -> int | None:
    """Like `parse_month`, but None for an invalid month (record checks turn that into BAD_PERIOD).

    Extracts repeat a few dozen distinct months millions of times, so answers are remembered.
    """
    key = text or ""
    if key in _SEEN:
        return _SEEN[key]
    try:
        value: int | None = parse_month(key)
    except ValueError:
        value = None
    if len(_SEEN) < 100_000:
        _SEEN[key] = value
    return value


def format_month(index: int) -> str:
    """Month index -> `"YYYY-MM"`."""
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def month_number(index: int) -> int:
    """Calendar month 1..12 of a month index (for heating-season tests)."""
    return index % 12 + 1
