"""Publishing `<outbox>/<P>` all at once: a failed run leaves no outbox for P (CONTRACTS §10).

Files are built in a hidden sibling folder on the same file system and swapped into place. A previous publication
of P is replaced with one `renameat2(RENAME_EXCHANGE)` (Linux ≥ 3.15, glibc ≥ 2.28): the kernel swaps the two
directories atomically, so `<outbox>/<P>` exists at every moment and a reader (a delivery, a municipality's sync)
never finds it missing. The old publication then sits under the build folder's name and is removed; a crash before
that leaves a `.build-P-*` folder, which the next run of P removes once it holds P's lock (`remove_stale`).

Where the exchange is unavailable (another OS, a file system that refuses it) publication falls back to two
renames, the old one aside first, and says so in the log: there `<outbox>/<P>` is missing for a moment.
"""

from __future__ import annotations

import ctypes
import errno
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipeline.logs import get_logger

log = get_logger("publish.atomic")

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
STALE_PREFIXES = (".build-", ".replaced-")


@contextmanager
def build_folder(outbox: Path, period: str) -> Iterator[Path]:
    """A fresh hidden folder to build P in; removed if the block fails. Only call it holding P's exclusive lock
    (`pipeline.runlock`): what a killed run of P left beside the outbox is removed first."""
    if not outbox.exists():
        outbox.mkdir(parents=True, mode=0o700)
    remove_stale(outbox, period)
    build = outbox / f".build-{period}-{uuid.uuid4().hex[:8]}"
    build.mkdir(mode=0o700)
    try:
        yield build
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)
        raise


def exchange(first: Path, second: Path) -> bool:
    """Swap two paths atomically (`renameat2(RENAME_EXCHANGE)`); False when this system cannot."""
    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if renameat2 is None:
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(first), None, str(second))


def publish(build: Path, outbox: Path, period: str) -> Path:
    """Put the built folder at `<outbox>/<P>`, replacing an earlier publication of P without a gap."""
    with publishing(build, outbox, period) as target:
        return target


@contextmanager
def publishing(build: Path, outbox: Path, period: str) -> Iterator[Path]:
    """Publish the built folder at `<outbox>/<P>`, then run the caller's block (recording the run in the store);
    if the block fails, the previous publication of P is put back (or, without one, the new one taken away), so
    publish and record are one outcome. The replaced publication is removed only after the block succeeded; the
    new one, taken back, returns to `build` (which `build_folder` removes)."""
    target = outbox / period
    owner_only(build)
    if not target.exists():
        os.rename(build, target)
        previous = None
    elif exchange(build, target):
        previous = build  # it now holds the previous publication
    else:
        log.warning("atomic exchange unavailable here: %s is replaced with two renames (briefly absent)", target)
        previous = outbox / f".replaced-{period}-{uuid.uuid4().hex[:8]}"
        os.rename(target, previous)
        os.rename(build, target)
    _fsync_dir(outbox)
    try:
        yield target
    except BaseException:
        if previous is None:
            os.rename(target, build)
        elif previous == build:
            exchange(build, target)
        else:
            os.rename(target, build)
            os.rename(previous, target)
        _fsync_dir(outbox)
        log.warning("%s not published: the step after publishing failed, the previous state is back", target)
        raise
    if previous is not None:
        shutil.rmtree(previous, ignore_errors=True)
    log.info("published %s", target)


def owner_only(folder: Path) -> None:
    """Folders 0700, files 0600: an outbox holds what recipients may see, not every user of the machine (an ALDIS
    outbox ties a contract and an address to a social-assistance decision). Delivery runs as the same user."""
    folder.chmod(0o700)
    for path in folder.rglob("*"):
        if not path.is_symlink():  # a link's target is not the outbox's to change
            path.chmod(0o700 if path.is_dir() else 0o600)


def remove_stale(outbox: Path, period: str) -> None:
    """Remove P's build and replaced folders left by a killed run. Only call it holding P's lock."""
    if not Path(outbox).is_dir():
        return
    for prefix in STALE_PREFIXES:
        for stale in Path(outbox).glob(f"{prefix}{period}-*"):
            if stale.is_dir() and not stale.is_symlink():
                shutil.rmtree(stale, ignore_errors=True)
                log.info("removed %s left by an earlier run that did not finish", stale)


def _fsync_dir(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
