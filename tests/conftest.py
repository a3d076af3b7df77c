"""Shared fixtures: settings for fast runs, the bundled sample, and paths to the real VZD rows."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipeline.config import Settings

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_INBOX = ROOT / "sample_data" / "inbox"
SAMPLE_PERIOD = "2026-11"
REAL_VZD = ROOT.parent / "shared" / "real_samples" / "vzd_varis"
MINIMAL_POLICY = ROOT / "policy" / "minimal_policy.yaml"
DEFAULT_POLICY = ROOT / "policy" / "eikis_policy.yaml"

os.environ.setdefault("EIKIS_PSEUDONYM_SECRET", "test-secret")
os.environ.setdefault("EIKIS_DEV_MODE", "1")  # tests may use the built-in pseudonym secret


@pytest.fixture
def settings() -> Settings:
    """One worker, no Data Docs: the suites still run, only the HTML is skipped."""
    return Settings(pseudonym_secret=b"test-secret", workers=1, data_docs=False)


@pytest.fixture(scope="session")
def real_vzd() -> Path:
    if not REAL_VZD.is_dir():
        pytest.skip("shared/real_samples/vzd_varis is not beside the repository")
    return REAL_VZD
