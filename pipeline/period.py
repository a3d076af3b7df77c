"""Consumption months (`YYYY-MM`) as integers, so windows and spreads are plain arithmetic.

A month index is `year * 12 + (month - 1)`; it sorts like the calendar and subtracts to a month count.
"""

from __future__ import annotations

import re
from typing import Any

MONTH_PATTERN = r"^(19\d\d|[2-9]\d{3})-(0[1-9]|1[0-2])$"   # a real `YYYY-MM` month from 1900: the one rule
_MONTH = re.compile(MONTH_PATTERN, re.ASCII)


def parse_month(text: str) -> int:
    """`"2025-01"` -> month index. Raises ValueError for anything that is not a real `YYYY-MM` month."""
    match = _MONTH.fullmatch(text or "")
    if not match:
        raise ValueError(f"not a real YYYY-MM month: {text!r}")
    return int(match.group(1)) * 12 + int(match.group(2)) - 1


def parse_months(texts: Any) -> tuple[Any, Any]:
    """`parse_month` for a whole Arrow string array at once: (valid mask, month index, 0 where invalid)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    valid = pc.match_substring_regex(texts, MONTH_PATTERN)
    safe = pc.if_else(valid, texts, pa.scalar("2000-01"))
    year = pc.cast(pc.utf8_slice_codeunits(safe, 0, 4), pa.int32())
    month = pc.cast(pc.utf8_slice_codeunits(safe, 5, 7), pa.int32())
    return valid, pc.add(pc.multiply(year, 12), pc.subtract(month, 1))


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
