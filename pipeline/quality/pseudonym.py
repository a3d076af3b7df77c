"""Pseudonymous person keys: a keyed hash, so internal decision records can link a person's data without
holding the personal code, and nobody without the key can reverse or recompute the link."""

from __future__ import annotations

import hashlib
import hmac


def person_key(secret: bytes, person_code: str) -> str:
    """16 hex digits of HMAC-SHA256 over the normalized 11-digit code."""
    return hmac.new(secret, person_code.encode("ascii"), hashlib.sha256).hexdigest()[:16]
