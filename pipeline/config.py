"""Run settings: embedded defaults that work on a fresh machine, overridable by environment variables.

Numbers the law may change live in the policy file (`pipeline.policy`), not here; these are operational knobs.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.errors import ConfigError
from pipeline.logs import get_logger

log = get_logger("config")

# Only for the embedded demo and tests (`EIKIS_DEV_MODE=1`, which `make run` and the tests set): anyone who knows
# them can recompute every pseudonymous key from candidate personal codes (or unseal the portal's display names),
# so outside that mode they are refused.
DEV_SECRET = "eikis-embedded-development-secret-not-for-production"
DEV_DATA_KEY = "eikis-embedded-development-data-key-not-for-production"  # seals display names for the staff portal


@dataclass(frozen=True)
class Settings:
    """Operational settings of one run."""

    pseudonym_secret: bytes = field(repr=False, default=DEV_SECRET.encode())
    portal_data_key: bytes = field(repr=False, default=DEV_DATA_KEY.encode())
    quarantine_tolerance: float | None = None  # overrides the policy's share for every source when set
    workers: int = 2
    batch_rows: int = 200_000
    data_docs: bool = True

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, *, needs_secret: bool = True) -> Settings:
        """Read `EIKIS_*` variables; anything unset keeps its embedded default."""
        env = os.environ if environ is None else environ
        secret = secret_from_env(env, "EIKIS_PSEUDONYM_SECRET", DEV_SECRET, needs_secret)
        data_key = secret_from_env(env, "EIKIS_PORTAL_DATA_KEY", DEV_DATA_KEY, needs_secret)
        return cls(
            pseudonym_secret=secret.encode(),
            portal_data_key=data_key.encode(),
            quarantine_tolerance=_share(env.get("EIKIS_QUARANTINE_TOLERANCE")),
            workers=_whole(env, "EIKIS_WORKERS", min(2, os.cpu_count() or 1)),
            batch_rows=_whole(env, "EIKIS_BATCH_ROWS", cls.batch_rows),
            data_docs=env.get("EIKIS_DATA_DOCS", "1") not in ("0", "false", "False"),
        )


@contextmanager
def private_files() -> Iterator[None]:
    """Files and folders created inside are owner-only (umask 077): work files hold personal codes and income.

    The umask is per process; each stage that writes work files runs in its own process under Airflow, and the
    CLI runs the stages one after the other, so nothing else in the process is writing meanwhile. Worker
    processes forked inside inherit it.
    """
    previous = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(previous)


def make_private(folder: Path) -> Path:
    """Create `folder` (and parents) and make it owner-only, also when it already existed with a looser mode."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    folder.chmod(0o700)
    return folder


@dataclass(frozen=True)
class WorkLayout:
    """Where one period's internal files live under the workdir (never the outbox)."""

    workdir: Path
    period: str

    @property
    def root(self) -> Path:
        return self.workdir / self.period

    def make_private(self) -> None:
        """The workdir and the period folder owner-only: everything under them is unreachable to others."""
        make_private(self.workdir)
        make_private(self.root)

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


def _whole(env: Mapping[str, str], name: str, default: int) -> int:
    """A positive whole number in ASCII digits, or the default when unset."""
    text = env.get(name)
    if not text:
        return default
    if not re.fullmatch(r"[0-9]{1,9}", text) or int(text) < 1:
        raise ConfigError(f"{name} must be a whole number of at least 1 (got {text[:20]!r})")
    return int(text)


def secret_from_env(env: Mapping[str, str], name: str, development: str, needed: bool) -> str:
    """A secret from the environment; the built-in development value only with `EIKIS_DEV_MODE=1`.

    The one start-up check for every built-in key (the pseudonym secret, the portal's data and session keys).
    """
    value = env.get(name) or development
    if needed and value == development:
        if env.get("EIKIS_DEV_MODE") != "1":
            raise ConfigError(f"{name} is not set (or is the built-in development value): set the bureau's "
                              "secret, or EIKIS_DEV_MODE=1 for a demo or test run")
        log.warning("EIKIS_DEV_MODE=1: using the built-in development value of %s", name)
    return value
