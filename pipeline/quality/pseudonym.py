"""Pseudonymous person keys and name-token keys: keyed hashes, so internal records can link a person's data and
staff can search by code or name without the store holding either, and nobody without the key can reverse or
recompute the link."""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata

_NON_WORD = re.compile(r"[^0-9a-z]+")
_NAME_DOMAIN = b"eikis-name-token\x00"


def person_key(secret: bytes, person_code: str) -> str:
    """16 hex digits of HMAC-SHA256 over the normalized 11-digit code."""
    return hmac.new(secret, person_code.encode("ascii"), hashlib.sha256).hexdigest()[:16]


def name_tokens(text: str) -> list[str]:
    """Search tokens of a name: lower case, diacritics removed (NFKD, combining marks dropped), split on anything
    that is not a Latin letter or digit, so `Bērziņš-Liepa Jānis` gives `berzins`, `liepa`, `janis`."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return [token for token in _NON_WORD.split(plain) if token]


def token_key(secret: bytes, token: str) -> str:
    """16 hex digits of HMAC-SHA256 over one normalised name token (domain-separated from person keys)."""
    return hmac.new(secret, _NAME_DOMAIN + token.encode("ascii"), hashlib.sha256).hexdigest()[:16]


def name_keys(secret: bytes, *parts: str) -> str:
    """The distinct token keys of a name, space-joined and sorted (the staged and stored form)."""
    return " ".join(sorted({token_key(secret, token) for part in parts for token in name_tokens(part)}))


def fold(text: str) -> str:
    """Text folded for prefix search (addresses): its name tokens joined by single spaces, so case, diacritics,
    quotes and punctuation do not matter: `"Mežmaļi", Vecates pag.` -> `mezmali vecates pag`."""
    return " ".join(name_tokens(text))
