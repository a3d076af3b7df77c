"""Consumption months (`YYYY-MM`) as integers, so windows and spreads are plain arithmetic.

A month index is `year * 12 + (month - 1)`; it sorts like the calendar and subtracts to a month count.
"""

from __future__ import annotations

import re

_PERIOD = re.compile(r"([0-9]{4})-([0-9]{2})")  # ASCII digits; fullmatch, so no trailing newline


def parse_month(text: str) -> int:
    """`"2025-01"` -> month index. Raises ValueError for anything that is not a real `YYYY-MM` month."""
    match = _PERIOD.fullmatch(text or "")
    if not match:
        raise ValueError(f"not a YYYY-MM month: {text!r}")
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12 or year < 1900:
        raise ValueError(f"not a real month: {text!r}")
    return year * 12 + month - 1


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
