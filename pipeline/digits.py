"""ASCII digits, the only digits EIKIS accepts where a number or a code is meant.

Python's `str.isdigit()`, `int()`, `Decimal()` and the `re` class `\\d` all accept digits of every script
(Arabic-Indic `٣`, fullwidth `３`, superscript `²`), so a code typed in them would pass a shape check and then
either crash a conversion or become a key of its own (a second trader folder, a valid-looking ARIS code). Every
check of untrusted text goes through here, or uses an explicit `[0-9]` class.
"""

from __future__ import annotations


def is_ascii_digits(text: str, length: int | None = None) -> bool:
    """True when `text` is one or more ASCII digits (exactly `length` of them, when given)."""
    return bool(text) and text.isascii() and text.isdigit() and (length is None or len(text) == length)
