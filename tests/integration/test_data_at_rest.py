"""Issue 9 point 5: work files are owner-only, and the built-in pseudonym secret is refused outside development."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipeline.config import DEV_SECRET, Settings
from pipeline.errors import ConfigError
from tests.cli import eikis, one_line_error
from tests.conftest import DEFAULT_POLICY, SAMPLE_INBOX, SAMPLE_PERIOD

PRODUCTION = {"EIKIS_DATA_DOCS": "0", "EIKIS_WORKERS": "1", "PATH": "/usr/bin"}  # no development mode


def cli(*args: object, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return eikis(*args, env=env, base=PRODUCTION)


def test_work_files_and_the_sqlite_store_are_owner_only(tmp_path: Path):
    workdir = tmp_path / "work"
    result = cli("run", "--period", SAMPLE_PERIOD, "--inbox", str(SAMPLE_INBOX), "--outbox", str(tmp_path / "out"),
                 "--policy", str(DEFAULT_POLICY), "--workdir", str(workdir),
                 env={"EIKIS_PSEUDONYM_SECRET": "test-secret", "EIKIS_PORTAL_DATA_KEY": "test-data-key"})
    assert result.returncode == 0, result.stderr
    root = workdir / SAMPLE_PERIOD
    assert stat.S_IMODE(workdir.stat().st_mode) == 0o700 and stat.S_IMODE(root.stat().st_mode) == 0o700
    checked = 0
    for folder in ("staging", "quarantine", "decisions", "summaries"):
        for path in [root / folder, *(root / folder).rglob("*")]:
            mode = stat.S_IMODE(path.stat().st_mode)
            assert mode & 0o077 == 0, (str(path.relative_to(root)), oct(mode))
            checked += 1
    assert checked > 20
    assert stat.S_IMODE((workdir / "eikis.sqlite").stat().st_mode) == 0o600


def test_staging_of_income_benefits_and_protected_users_holds_no_names(tmp_path: Path):
    result = cli("ingest", "--period", SAMPLE_PERIOD, "--inbox", str(SAMPLE_INBOX), "--workdir", str(tmp_path),
                 env={"EIKIS_PSEUDONYM_SECRET": "test-secret", "EIKIS_PORTAL_DATA_KEY": "test-data-key"})
    assert result.returncode == 0, result.stderr
    names = {"Jānis", "Līga", "Bērziņš", "Ozoliņš"}
    for source in ("vid", "vsaa", "sopa"):
        table = pq.read_table(tmp_path / SAMPLE_PERIOD / "staging" / f"{source}.parquet")
        assert not {c for c in table.column_names if "name" in c and c != "trader_name"}, source
        text = " ".join(str(v) for column in table.columns if column.type == "string" for v in column.to_pylist())
        assert not any(name in text for name in names), source


@pytest.mark.parametrize("environ", [{}, {"EIKIS_PSEUDONYM_SECRET": DEV_SECRET}, {"EIKIS_DEV_MODE": "0"}])
def test_the_built_in_secret_is_refused_outside_development_mode(environ):
    with pytest.raises(ConfigError, match="EIKIS_PSEUDONYM_SECRET.*EIKIS_DEV_MODE=1"):
        Settings.from_env(environ)


def test_the_built_in_portal_data_key_is_refused_too():
    with pytest.raises(ConfigError, match="EIKIS_PORTAL_DATA_KEY"):
        Settings.from_env({"EIKIS_PSEUDONYM_SECRET": "s3cret-of-the-bureau"})


def test_development_mode_allows_the_built_in_secret_and_a_real_secret_needs_no_mode():
    assert Settings.from_env({"EIKIS_DEV_MODE": "1"}).pseudonym_secret == DEV_SECRET.encode()
    bureau = Settings.from_env({"EIKIS_PSEUDONYM_SECRET": "s3cret-of-the-bureau", "EIKIS_PORTAL_DATA_KEY": "k"})
    assert bureau.pseudonym_secret == b"s3cret-of-the-bureau"


def test_a_run_without_a_secret_stops_with_one_line(tmp_path: Path):
    result = cli("run", "--period", SAMPLE_PERIOD, "--inbox", str(SAMPLE_INBOX), "--outbox", str(tmp_path / "out"),
                 "--policy", str(DEFAULT_POLICY), "--workdir", str(tmp_path / "work"), "--no-db", env={})
    assert one_line_error(result).startswith("eikis: error: EIKIS_PSEUDONYM_SECRET")
    assert not (tmp_path / "out").exists()
