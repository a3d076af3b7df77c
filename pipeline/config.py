"""Run settings: embedded defaults that work on a fresh machine, overridable by environment variables.

Numbers the law may change live in the policy file (`pipeline.policy`), not here; these are operational knobs.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.errors import ConfigError
from pipeline.logs import get_logger

log = get_logger("config")

# Only for the embedded demo and tests: production sets EIKIS_PSEUDONYM_SECRET (see README, docker-compose.yaml).
_DEV_SECRET = "eikis-embedded-development-secret-not-for-production"
# Likewise for EIKIS_PORTAL_DATA_KEY, the key that seals display names for the staff portal.
_DEV_DATA_KEY = "eikis-embedded-development-data-key-not-for-production"


@dataclass(frozen=True)
class Settings:
    """Operational settings of one run."""

    pseudonym_secret: bytes = field(repr=False, default=_DEV_SECRET.encode())
    portal_data_key: bytes = field(repr=False, default=_DEV_DATA_KEY.encode())
    quarantine_tolerance: float | None = None  # overrides the policy's share for every source when set
    workers: int = 2
    batch_rows: int = 200_000
    data_docs: bool = True

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, *, needs_secret: bool = True) -> Settings:
        """Read `EIKIS_*` variables; anything unset keeps its embedded default."""
        env = os.environ if environ is None else environ
        secret = env.get("EIKIS_PSEUDONYM_SECRET")
        if not secret:
            if needs_secret:
                log.warning("EIKIS_PSEUDONYM_SECRET is not set: using the embedded development secret")
            secret = _DEV_SECRET
        data_key = env.get("EIKIS_PORTAL_DATA_KEY")
        if not data_key:
            if needs_secret:
                log.warning("EIKIS_PORTAL_DATA_KEY is not set: using the embedded development data key")
            data_key = _DEV_DATA_KEY
        return cls(
            pseudonym_secret=secret.encode(),
            portal_data_key=data_key.encode(),
            quarantine_tolerance=_share(env.get("EIKIS_QUARANTINE_TOLERANCE")),
            workers=max(1, int(env.get("EIKIS_WORKERS", min(2, os.cpu_count() or 1)))),
            batch_rows=int(env.get("EIKIS_BATCH_ROWS", cls.batch_rows)),
            data_docs=env.get("EIKIS_DATA_DOCS", "1") not in ("0", "false", "False"),
        )


@dataclass(frozen=True)
class WorkLayout:
    """Where one period's internal files live under the workdir (never the outbox)."""

    workdir: Path
    period: str

    @property
    def root(self) -> Path:
        return self.workdir / self.period

    @property
    def staging(self) -> Path:
        return self.root / "staging"

    def staged(self, source: str) -> Path:
        return self.staging / f"{source}.parquet"

    @property
    def quarantine(self) -> Path:
        return self.root / "quarantine"

    def quarantined(self, source: str) -> Path:
        return self.quarantine / f"{source}.parquet"

    @property
    def summaries(self) -> Path:
        return self.root / "summaries"

    @property
    def data_docs(self) -> Path:
        return self.root / "data_docs"

    @property
    def decisions(self) -> Path:
        return self.root / "decisions"

    def decided(self, name: str) -> Path:
        """A decision table decide hands to publish and the store: `households`, `<commodity>`, …"""
        return self.decisions / f"{name}.parquet"

    @property
    def report(self) -> Path:
        return self.root / "report"


def _share(text: str | None) -> float | None:
    """`EIKIS_QUARANTINE_TOLERANCE`: a share 0-1 in ASCII decimal form, or unset."""
    if not text:
        return None
    if not re.fullmatch(r"[0-9]+(\.[0-9]+)?", text) or float(text) > 1:
        raise ConfigError(f"EIKIS_QUARANTINE_TOLERANCE must be a share from 0 to 1, like 0.02 (got {text[:20]!r})")
    return float(text)
