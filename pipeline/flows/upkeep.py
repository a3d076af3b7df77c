"""Retention of Airflow's own records: its task logs and metadata (runs, task instances, XComs) past a horizon.

EIKIS deletes personal data after its time (`flows.retention`, CONTRACTS §15); Airflow keeps its own copies of
what the tasks said and returned for ever unless told otherwise. The task logs and XComs are kept free of personal
data and secrets (`flows.failures`, `show_return_value_in_logs=False`), but they still name files, recipients and
counts per month, so they too are kept only `EIKIS_AIRFLOW_KEEP_DAYS` days (default 90): `airflow db clean`
removes the metadata rows (no archive tables: an archive would be another copy), and the log files older than that
are deleted. The `airflow_upkeep` DAG calls these every day; `eikis`-free deployments can run the same command.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from pipeline.errors import ConfigError
from pipeline.logs import get_logger

log = get_logger("flows.upkeep")

DEFAULT_KEEP_DAYS = 90
# The tables that grow with every run; `dag`, `dag_version` and connections are definitions, not history.
HISTORY_TABLES = ("dag_run", "task_instance", "task_instance_history", "task_reschedule", "xcom", "log", "job",
                  "trigger", "callback", "asset_event", "import_error")


def keep_days(environ: Mapping[str, str] | None = None) -> int:
    """`EIKIS_AIRFLOW_KEEP_DAYS`: how many days of Airflow logs and metadata to keep (at least 1)."""
    text = (os.environ if environ is None else environ).get("EIKIS_AIRFLOW_KEEP_DAYS") or str(DEFAULT_KEEP_DAYS)
    if not text.isdigit() or int(text) < 1:
        raise ConfigError(f"EIKIS_AIRFLOW_KEEP_DAYS must be a whole number of days, at least 1 (got {text[:20]!r})")
    return int(text)


def db_clean_command(before: dt.datetime) -> list[str]:
    """`airflow db clean` of the history tables older than `before`, without archive tables, failing loudly."""
    airflow = shutil.which("airflow") or str(Path(sys.executable).with_name("airflow"))
    return [airflow, "db", "clean", "--clean-before-timestamp", before.isoformat(), "--tables",
            ",".join(HISTORY_TABLES), "--skip-archive", "--error-on-cleanup-failure", "--yes"]


def remove_old_logs(folder: Path, before: dt.datetime) -> int:
    """Delete every log file under `folder` last written before `before`, then the folders left empty."""
    removed = 0
    if not folder.is_dir():
        return 0
    cutoff = before.timestamp()
    for path in sorted(folder.rglob("*"), reverse=True):  # children before their folders
        if path.is_file() and not path.is_symlink() and path.stat().st_mtime < cutoff:
            path.unlink()
            removed += 1
        elif path.is_dir() and not path.is_symlink() and not any(path.iterdir()):
            path.rmdir()
    return removed


def upkeep(log_folder: Path, now: dt.datetime, environ: Mapping[str, str] | None = None) -> dict[str, object]:
    """The DAG's one task: clean the metadata, then the log files, both older than the horizon."""
    before = now - dt.timedelta(days=keep_days(environ))
    cleaned = subprocess.run(db_clean_command(before), capture_output=True, text=True, timeout=3600, check=False)
    if cleaned.returncode != 0:
        raise ConfigError(f"airflow db clean failed with exit code {cleaned.returncode}")
    removed = remove_old_logs(log_folder, before)
    log.info("airflow upkeep: metadata and %d log file(s) before %s removed", removed, before.date().isoformat())
    return {"before": before.isoformat(), "log_files_removed": removed}
