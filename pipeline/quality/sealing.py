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
        """Seal many UTF-8 texts, each under its own random nonce. The nonces come from one `os.urandom` call
        (12 bytes a value, cut from it): one system call per batch instead of one per name."""
        randomness = os.urandom(NONCE_BYTES * len(plains))
        encrypt, encode = self._aead.encrypt, binascii.b2a_base64
        sealed = []
        for start, plain in zip(range(0, len(randomness), NONCE_BYTES), plains, strict=True):
            nonce = randomness[start:start + NONCE_BYTES]
            sealed.append(encode(nonce + encrypt(nonce, plain, _AAD), newline=False).decode("ascii"))
        return sealed

    def open(self, sealed: str) -> str | None:
        """The plain text, or None when the value was sealed under another key or is damaged."""
        try:
            raw = base64.b64decode(sealed.encode("ascii"), validate=True)
            return self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], _AAD).decode("utf-8")
        except (InvalidTag, ValueError):
            return None
