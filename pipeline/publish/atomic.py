"""Publishing `<outbox>/<P>` all at once: a failed run leaves no outbox for P (CONTRACTS §10).

Files are built in a hidden sibling folder on the same file system and renamed into place. A previous
publication of P is first renamed aside and removed only after the new one is in place, so a crash between the
two renames leaves the old publication recoverable under `.replaced-<P>-*`, never a half-written one.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipeline.logs import get_logger

log = get_logger("publish.atomic")


@contextmanager
def build_folder(outbox: Path, period: str) -> Iterator[Path]:
    """A fresh hidden folder to build P in; removed if the block fails."""
    outbox.mkdir(parents=True, exist_ok=True)
    build = outbox / f".build-{period}-{uuid.uuid4().hex[:8]}"
    build.mkdir()
    try:
        yield build
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)
        raise


def publish(build: Path, outbox: Path, period: str) -> Path:
    """Rename the built folder to `<outbox>/<P>`, replacing an earlier publication of P."""
    target = outbox / period
    aside = None
    if target.exists():
        aside = outbox / f".replaced-{period}-{uuid.uuid4().hex[:8]}"
        os.rename(target, aside)
    os.rename(build, target)
    if aside is not None:
        shutil.rmtree(aside, ignore_errors=True)
    _fsync_dir(outbox)
    log.info("published %s", target)
    return target


def _fsync_dir(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
