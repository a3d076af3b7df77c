"""Pseudonymous person keys and name-token keys: keyed hashes, so internal records can link a person's data and
staff can search by code or name without the store holding either, and nobody without the key can reverse or
recompute the link."""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import unicodedata
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

_NON_WORD = re.compile(r"[^0-9a-z]+")
_NAME_DOMAIN = b"eikis-name-token\x00"
_SHA256_BLOCK = 64


def person_key(secret: bytes, person_code: str) -> str:
    """16 hex digits of HMAC-SHA256 over the normalized 11-digit code."""
    mac = _keyed(secret).copy()
    mac.update(person_code.encode("ascii"))
    return mac.hexdigest()[:16]


def person_keys_column(secret: bytes, person_codes: pa.Array) -> pa.Array:
    """`person_key` of a column of normalized codes without nulls (PMLP stages ≈2 M a month), as a string column.

    The same HMAC-SHA256 (RFC 2104), computed from the two SHA-256 states that absorb the padded key once: a
    copy of each per code is what `hmac` does inside too, less its Python wrapper (PMLP keys every code of the
    country each month). The 8 bytes kept of each digest are hex-encoded in one call and cut into 16-digit
    strings by Arrow."""
    if person_codes.null_count or pc.any(pc.invert(pc.string_is_ascii(person_codes))).as_py():
        raise ValueError("person_keys_column: every code must be present and ASCII (normalized digits)")
    inner, outer = _hmac_states(secret)
    inner_copy, outer_copy = inner.copy, outer.copy
    kept = []
    for code in person_codes.cast(pa.binary()).to_pylist():
        mac = inner_copy()
        mac.update(code)
        keyed = outer_copy()
        keyed.update(mac.digest())
        kept.append(keyed.digest()[:8])
    hex_digits = b"".join(kept).hex().encode("ascii")
    offsets = np.arange(0, 16 * len(kept) + 1, 16, dtype=np.int32)
    return pa.StringArray.from_buffers(len(kept), pa.py_buffer(offsets), pa.py_buffer(hex_digits))


@functools.lru_cache(maxsize=8)
def _hmac_states(secret: bytes) -> tuple[Any, Any]:
    """SHA-256 after absorbing (key XOR ipad) and after absorbing (key XOR opad), the key first hashed when longer
    than a block and zero-padded to it (RFC 2104): HMAC(key, m) is the outer state fed SHA-256(inner state fed m)."""
    key = hashlib.sha256(secret).digest() if len(secret) > _SHA256_BLOCK else secret
    key = key.ljust(_SHA256_BLOCK, b"\0")
    return (hashlib.sha256(bytes(byte ^ 0x36 for byte in key)), hashlib.sha256(bytes(byte ^ 0x5C for byte in key)))


@functools.lru_cache(maxsize=8)
def _keyed(secret: bytes) -> hmac.HMAC:
    """HMAC-SHA256 with the key already absorbed; a copy per value skips the key set-up, which is most of the cost
    of `hmac.new` or `hmac.digest` for a short message."""
    return hmac.new(secret, digestmod=hashlib.sha256)


def name_tokens(text: str) -> list[str]:
    """Search tokens of a name: lower case, diacritics removed, split on anything that is not a Latin letter or
    digit, so `Bērziņš-Liepa Jānis` gives `berzins`, `liepa`, `janis` (see `fold`)."""
    return fold(text).split()


def token_key(secret: bytes, token: str) -> str:
    """16 hex digits of HMAC-SHA256 over one normalised name token (domain-separated from person keys)."""
    mac = _keyed(secret).copy()
    mac.update(_NAME_DOMAIN + token.encode("ascii"))
    return mac.hexdigest()[:16]


def pair_key(first: str, second: str) -> str:
    """The search key of two name tokens of one person: their token keys, the lesser first.

    A name and a surname are each shared by tens of thousands of persons a month, the two together by a few hundred:
    a search for both reads the pair's rows, not every bearer of each. No further hashing: the token keys are
    pseudonymous already, and 32 hex digits never meet a single token's 16."""
    return min(first, second) + max(first, second)


def name_keys(secret: bytes, *parts: str) -> str:
    """The distinct token keys of a name, space-joined and sorted (the staged and stored form)."""
    return " ".join(sorted({key for part in parts for key in _part_keys(secret, part)}))


def name_keys_column(secret: bytes, given: pa.Array, surname: pa.Array) -> pa.Array:
    """`name_keys(secret, given, surname)` for whole columns. Each distinct name is folded and hashed once; a
    record whose parts give at most one token each (almost all) gets its keys combined in Arrow, the rest through
    `name_keys` itself."""
    parts, simple = [], np.ones(len(given), dtype=bool)
    for column in (given, surname):
        encoded = pc.fill_null(column, "").dictionary_encode()
        keys = [sorted(set(_part_keys(secret, name))) for name in encoded.dictionary.to_pylist()]
        parts.append(pc.take(pa.array([" ".join(part) for part in keys], type=pa.string()), encoded.indices))
        simple &= np.array([len(part) <= 1 for part in keys], dtype=bool)[encoded.indices.to_numpy()]
    first, second = parts
    ordered = pc.less(first, second)
    pair = pc.binary_join_element_wise(pc.if_else(ordered, first, second), pc.if_else(ordered, second, first), " ")
    one = pc.or_(pc.equal(second, ""), pc.equal(first, second))
    combined = pc.if_else(pc.equal(first, ""), second, pc.if_else(one, first, pair))
    if simple.all():
        return combined
    rest = pa.array(~simple)
    return pc.replace_with_mask(combined, rest, pa.array(
        [name_keys(secret, *names) for names in zip(given.filter(rest).to_pylist(), surname.filter(rest).to_pylist(),
                                                    strict=True)], type=pa.string()))


@functools.lru_cache(maxsize=1 << 16)
def _part_keys(secret: bytes, part: str) -> tuple[str, ...]:
    """Given names and surnames repeat across a population (a few thousand distinct values for 1.9 M persons), so
    each is normalised and hashed once per process, not once per person."""
    return tuple(token_key(secret, token) for token in name_tokens(part))


def fold(text: str) -> str:
    """Text folded for search: lower case, NFKD-decomposed, reduced to ASCII (diacritics and other non-ASCII
    characters dropped), every run of non-alphanumerics one space. `"Mežmaļi", Vecates pag.` -> `mezmali vecates
    pag`. `fold_series` does the same to a whole column at once."""
    plain = unicodedata.normalize("NFKD", text.lower()).encode("ascii", "ignore").decode("ascii")
    return " ".join(token for token in _NON_WORD.split(plain) if token)


def fold_series(texts: pd.Series) -> pd.Series:
    """`fold` for a column, in Arrow's compute kernels (≈1 M addresses nationally, no Python call per address)."""
    column = pa.array(texts.astype(object).where(texts.notna(), ""), type=pa.string())
    return pd.Series(fold_array(column).to_pandas().to_numpy(), index=texts.index)


def fold_array(column: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """`fold` for an Arrow string column (a null folds to ""), kept in Arrow for a caller that writes Arrow."""
    column = pc.fill_null(column, "")
    plain = pc.replace_substring_regex(pc.utf8_normalize(pc.utf8_lower(column), form="NFKD"), r"[^\x00-\x7f]", "")
    spaced = pc.replace_substring_regex(plain, _NON_WORD.pattern, " ")
    return pc.utf8_trim(spaced, characters=" ")
