"""One run per period: an exclusive `flock` on `.<P>.lock` in every folder a run of P writes (its workdir and its
outbox root), held for the whole run.

Why both folders: two runs of P can share an outbox with different workdirs (or the reverse), and either overlap
mixes months (issue 9: a run exited 0 having published the other inbox's result). Why `flock`: the kernel drops it
when the holder dies, so a killed run never leaves a lock that needs a human; a lock file left on disk is harmless.

The second run of P is refused at once with one line (`PeriodBusy`, exit 2 on the CLI), never queued: a queued run
would publish after the first one with nobody watching. The lock is part of the flow kernel (base layer), not of
publishing: ingest, decide and publish stages, and every flow (monthly, ALDIS, claims, simulate), take the same
lock. What a killed run left beside the outbox (`.build-P-*`, `.replaced-P-*`) is publishing's business: the
holder's `publish.atomic.build_folder` removes it before building.

Any flow calls it the same way, with the folders its run of P writes:

    with period_lock(period, workdir, outbox):
        ...  # stage, decide, build aside, publish

Airflow tasks of one DAG run that work in parallel on P take it `shared=True`; a task that publishes takes it
exclusively (the default).
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from pipeline.errors import EikisError


class PeriodBusy(EikisError):
    """Another process is running the same period on the same workdir or outbox."""


def lock_path(folder: Path, period: str) -> Path:
    return Path(folder) / f".{period}.lock"


@contextmanager
def _flock(path: Path, period: str, shared: bool) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        try:
            fcntl.flock(descriptor, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(descriptor, 32, 0).decode("ascii", "replace").strip()
            raise PeriodBusy(f"period {period} is already being run by another process"
                             f"{f' (pid {holder})' if holder.isdecimal() else ''}; "
                             "wait for it to finish, then run again", file=path) from None
        if not shared:
            os.ftruncate(descriptor, 0)
            os.pwrite(descriptor, f"{os.getpid()}\n".encode("ascii"), 0)
        yield
    finally:
        os.close(descriptor)  # closing the last descriptor releases the flock


@contextmanager
def period_lock(period: str, *folders: Path, shared: bool = False) -> Iterator[None]:
    """Hold P's lock in every folder for the block; refuse (`PeriodBusy`) if any is held by another run."""
    with ExitStack() as stack:
        for folder in dict.fromkeys(Path(f).resolve() for f in folders):
            stack.enter_context(_flock(lock_path(folder, period), period, shared))
        yield
