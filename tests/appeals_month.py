"""The sample month run, published and recorded in an SQLite store: what appeals and corrections start from."""

from __future__ import annotations

from pathlib import Path

from pipeline.config import Settings
from pipeline.flows.monthly import run_month
from tests.conftest import DEFAULT_POLICY, SAMPLE_INBOX, SAMPLE_PERIOD


def recorded_sample_month(root: Path) -> Path:
    """`<root>/outbox`, `<root>/work` (decision records) and `<root>/work/eikis.sqlite` for the sample month."""
    settings = Settings(pseudonym_secret=b"test-secret", workers=1, data_docs=False)
    run_month(SAMPLE_PERIOD, SAMPLE_INBOX, root / "outbox", DEFAULT_POLICY, root / "work", settings,
              f"sqlite:///{root / 'work' / 'eikis.sqlite'}")
    return root
