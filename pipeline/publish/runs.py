"""Each claims check's own outbox, and `<outbox>/<P>` pointing at the approved one (issue 22.4).

Every check publishes `<outbox>/runs/<P>/<run_id>/` (built aside, renamed into place by `publish/atomic.py`), so a
preview never replaces another run's files. `<outbox>/<P>` is a symlink to the run the last approval paid,
re-pointed only by an approval and in one rename: a reader (a delivery, an auditor) sees the old or the new run,
and a rejected, superseded or never-approved preview never replaces what was paid.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path

RUNS = "runs"


def runs_folder(outbox: Path, period: str) -> Path:
    """`<outbox>/runs/<P>`: where every check of P publishes its own `<run_id>/` folder."""
    return Path(outbox) / RUNS / period


def approved_run(outbox: Path, period: str) -> str | None:
    """The run `<outbox>/<P>` points at (the last approved one), or None before any approval."""
    link = Path(outbox) / period
    return Path(os.readlink(link)).name if link.is_symlink() else None


def point_at_approved(outbox: Path, period: str, run_id: str) -> None:
    """Make `<outbox>/<P>` point at `runs/<P>/<run_id>` in one rename (a reader sees the old or the new run).

    Only an approval calls it, so a rejected or superseded preview never replaces what was paid. A `<P>` folder
    of the layout before per-run outboxes is kept as `runs/<P>/<its run id>`."""
    link = outbox / period
    if link.exists() and not link.is_symlink():
        previous = json.loads((link / "manifest.json").read_text(encoding="utf-8"))["run_id"]
        aside = runs_folder(outbox, period) / previous
        os.rename(link, aside if not aside.exists() else outbox / f".replaced-{period}-{uuid.uuid4().hex[:8]}")
    temporary = outbox / f".link-{period}-{uuid.uuid4().hex[:8]}"
    os.symlink(Path(RUNS) / period / run_id, temporary)
    os.replace(temporary, link)


def remove_stale_runs(runs: Path) -> None:
    """Build folders a killed check left under `runs/<P>/` (call holding P's lock, like `remove_stale`)."""
    if runs.is_dir():
        for stale in runs.glob(".build-*"):
            if stale.is_dir() and not stale.is_symlink():
                shutil.rmtree(stale, ignore_errors=True)
