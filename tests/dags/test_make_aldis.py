"""`make aldis` right after `make run` (README): the ALDIS flow stages SOPA records under pseudonyms, so without a
bureau secret it needs `EIKIS_DEV_MODE=1` just as `make run` sets it, or the documented demo stops at once."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_make_aldis_runs_the_sample_in_dev_mode_like_make_run(tmp_path):
    dry = subprocess.run(["make", "-n", "-s", "aldis", f"OUT={tmp_path}"], cwd=ROOT, capture_output=True, text=True,
                         timeout=60, check=True)
    # the venv's setup commands come first when setup.py or the C source is newer than the venv's stamp
    command = dry.stdout.replace("\\\n", " ").strip().splitlines()[-1]
    assert command.startswith("EIKIS_DEV_MODE=1 .venv/bin/eikis aldis --period 2026-11"), command
