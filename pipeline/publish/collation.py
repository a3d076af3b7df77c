"""Latvian alphabetical order for names in the report ("Ādažu" after "Aizkraukles", "Ķekavas" after "Kuldīgas").

Python sorts by code point, so every name that starts with a long or softened letter lands after "Z". System
locales (`lv_LV.UTF-8`) are not installed everywhere and differ between C libraries, so the order is written out
here: the Latvian alphabet, with each letter carrying a diacritic placed right after its base letter, and the
foreign letters Q, W, X, Y where the Latin alphabet has them. Case is ignored first and breaks ties last.
"""

from __future__ import annotations

LATVIAN_ALPHABET = "aābcčdeēfgģhiījkķlļmnņopqrsštuūvwxyzž"
_RANK = {letter: index for index, letter in enumerate(LATVIAN_ALPHABET)}


def latvian_sort_key(text: str) -> tuple[tuple[tuple[int, int], ...], str]:
    """A key that orders strings as a Latvian reader expects. Characters outside the alphabet (spaces, digits,
    punctuation, other scripts) sort before every letter, among themselves by code point."""
    letters = tuple((1, _RANK[char]) if char in _RANK else (0, ord(char)) for char in text.casefold())
    return letters, text
