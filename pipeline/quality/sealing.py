"""Display names sealed at rest: AES-256-GCM with a random nonce per value, so a copy of the store or of staging
without the data key does not read out who lives where, while the portal (holding the key) can show the name of
the person a search found.

The key is `EIKIS_PORTAL_DATA_KEY` (any long random string; SHA-256 of it is the AES key). The embedded
development key only serves demos and tests, and the log says so.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Sequence
from itertools import repeat

import pyarrow as pa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12
_AAD = b"eikis-display-name-v1"


def aes_key(passphrase: bytes) -> bytes:
    return hashlib.sha256(passphrase).digest()


class Sealer:
    """Seals and opens short texts with one key."""

    def __init__(self, passphrase: bytes) -> None:
        self._aead = AESGCM(aes_key(passphrase))

    def seal(self, plain: str) -> str:
        return self.seal_many([plain.encode("utf-8")])[0]

    def seal_many(self, plains: Sequence[bytes]) -> list[str]:
        """Seal many UTF-8 texts, each under its own random nonce (`seal_column`)."""
        return self.seal_column(pa.array(plains, pa.binary())).to_pylist()

    def seal_column(self, plains: pa.Array) -> pa.Array:
        """Seal a binary column (PMLP seals ≈2 M names a month) into a string column, each value under its own
        random nonce. The nonces come from one `os.urandom` call (12 bytes a value, cut from it): one system call
        per batch instead of one per name. The encryption runs through `map` (no Python frame per name) and the
        base64 values become the column as bytes (no decode per name)."""
        if plains.null_count:
            raise ValueError("seal_column: a value is missing")
        randomness = os.urandom(NONCE_BYTES * len(plains))
        nonces = [randomness[start:start + NONCE_BYTES] for start in range(0, len(randomness), NONCE_BYTES)]
        sealed = map(self._aead.encrypt, nonces, plains.to_pylist(), repeat(_AAD))
        encode = binascii.b2a_base64
        return pa.array([encode(nonce + cipher, newline=False) for nonce, cipher in zip(nonces, sealed, strict=True)],
                        pa.binary()).cast(pa.string())

    def open(self, sealed: str) -> str | None:
        """The plain text, or None when the value was sealed under another key or is damaged."""
        try:
            raw = base64.b64decode(sealed.encode("ascii"), validate=True)
            return self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], _AAD).decode("utf-8")
        except (InvalidTag, ValueError):
            return None
