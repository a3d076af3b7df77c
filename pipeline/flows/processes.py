"""Run independent jobs of one stage in forked child processes, a bounded number at a time.

Why processes and not threads: the jobs (one source's staging and data-quality suite each) are not thread-safe —
each builds Great Expectations contexts, writes its quarantine and sets the umask for its work files — and most
of their time is Python holding the GIL. Why `fork`: the parent has already imported Great Expectations and
pyarrow (ARIS's suite ran first), so a forked child starts warm and shares those pages copy-on-write, where a
spawned one would pay seconds of imports per job; the job is a closure, so nothing but its result is pickled.

Each child leads its own process group, so a job's own worker pools (VID's files, a parted suite) are stopped
with it. The first job to fail stops the others (SIGTERM, then SIGKILL after a grace period) and its exception
is raised in the parent as the child raised it — a `SourceError` keeps its one line naming file, line and reason.
A child that dies without a result (killed, out of memory) fails the stage with `StageFailed`, one line. A child
whose parent dies (Ctrl-C reaches only the parent's group; `kill` of `eikis run`) is stopped by the kernel.
"""

from __future__ import annotations

import ctypes
import gc
import multiprocessing
import os
import pickle
import signal
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from pipeline.errors import EikisError
from pipeline.jobs import Job
from pipeline.logs import get_logger

log = get_logger("flows.processes")

STOP_GRACE_SECONDS = 20.0  # a stopped job removes its partial output; after this it is killed
PR_SET_PDEATHSIG = 1       # linux/prctl.h
REDELIVER_SECONDS = 0.01   # a stop swallowed where Python cannot raise is raised again this much later


class StageFailed(EikisError):
    """A job's process ended without handing back a result or an error (killed, or out of memory)."""


class StopRequested(SystemExit):
    """Raised in a job's process by SIGTERM: the job unwinds (removing its partial output) and exits 128 + 15."""


@dataclass(frozen=True)
class Finished:
    """A job's result, with the wall and CPU seconds measured inside its own process (its reaped workers'
    CPU included), so a benchmark can report each job even when several ran at once."""

    name: str
    value: Any
    seconds: float
    cpu_seconds: float


def cpu_seconds() -> float:
    """User + system CPU of this process and of its reaped children."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def run_forked(jobs: Sequence[Job], lanes: int, on_start: Callable[[str, int], None] | None = None,
               on_finish: Callable[[Finished], None] | None = None) -> dict[str, Finished]:
    """Run `jobs` in order, at most `lanes` at a time, each in a forked child; return every result by name.

    `on_start(name, pid)` and `on_finish(finished)` are called in the parent as jobs start and end (progress and
    benchmark lines). The first failure stops the jobs still running and is raised; jobs not yet started never
    start.
    """
    context = multiprocessing.get_context("fork")
    pending = list(jobs)
    running: dict[Connection, tuple[str, multiprocessing.process.BaseProcess]] = {}
    results: dict[str, Finished] = {}
    try:
        while pending or running:
            while pending and len(running) < max(1, lanes):
                name, job = pending.pop(0)
                reader, writer = context.Pipe(duplex=False)
                _flush_std_streams()  # else the child would write the parent's buffered output a second time
                process = context.Process(target=_child, args=(name, job, writer, os.getpid()), name=f"eikis-{name}")
                process.start()
                writer.close()
                _lead_group(process.pid)
                running[reader] = (name, process)
                if on_start is not None:
                    on_start(name, process.pid)
            for reader in wait(list(running)):
                name, process = running.pop(reader)  # type: ignore[index]
                message = _receive(reader)
                process.join()
                if message is None or message[0] != "ok":
                    if running:
                        log.warning("%s failed: stopping %s", name, ", ".join(other for other, _ in running.values()))
                    raise _failure(name, process.exitcode, message)
                _, value, seconds, cpu = message
                results[name] = Finished(name, value, seconds, cpu)
                if on_finish is not None:
                    on_finish(results[name])
    finally:
        _stop([process for _, process in running.values()])
    return results


def _child(name: str, job: Callable[[], Any], writer: Connection, parent: int) -> None:
    """In the child: run the job and send ("ok", value, seconds, cpu) or ("error", exception, traceback).

    The objects inherited from the parent are frozen first (`gc.freeze`, a splice of the collector's lists): the
    child's collections then never walk them, and a walk writes to every object's header, which copies every page
    of the parent's heap into the child (≈ 0.2 CPU-s a job measured with Great Expectations imported)."""
    gc.freeze()
    _lead_group(0)
    signal.signal(signal.SIGTERM, _stop_requested)  # unwinds the job, so it removes its partial output
    sys.unraisablehook = _redeliver_swallowed_stop(sys.unraisablehook)
    _stop_with_parent(parent)
    started, cpu = time.perf_counter(), cpu_seconds()
    try:
        value = job()
        message: tuple[Any, ...] = ("ok", value, time.perf_counter() - started, cpu_seconds() - cpu)
    except BaseException as exc:  # noqa: BLE001 - every failure goes to the parent, which decides
        message = ("error", exc, traceback.format_exc())
    try:
        payload = pickle.dumps(message)
        pickle.loads(payload)  # an exception that pickles but cannot be rebuilt would fail in the parent instead
    except Exception:  # noqa: BLE001 - its class and traceback still go, as a bug for the engineer
        what = type(message[1]).__name__ if message[0] == "error" else "its result"
        payload = pickle.dumps(("error", RuntimeError(f"{name}: {what} could not be handed to the parent"),
                                message[-1] if message[0] == "error" else ""))
    writer.send_bytes(payload)
    writer.close()


def _stop_with_parent(parent: int) -> None:
    """Ask Linux to SIGTERM this child when the parent dies (a killed `eikis run` must not leave sources running
    under its lock); where prctl is unavailable, the parent's own stop is all there is."""
    with suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the parent died before the request took effect
        raise SystemExit(128 + signal.SIGTERM)


def _flush_std_streams() -> None:
    for stream in (sys.stdout, sys.stderr):
        with suppress(Exception):  # a closed or detached stream has nothing to flush
            stream.flush()


def _stop_requested(signum: int, frame: object) -> None:
    raise StopRequested(128 + signal.SIGTERM)  # SIGALRM too: it only re-delivers a SIGTERM


def _redeliver_swallowed_stop(default_hook: Callable[[Any], None]) -> Callable[[Any], None]:
    """An unraisable-exception hook that delivers a swallowed stop again shortly instead of printing it.

    A SIGTERM can arrive while Python runs code whose exceptions it cannot propagate, only print: an at-fork hook
    (a job forking its worker pool runs logging's), a finaliser, a weakref callback. There the stop would be lost,
    the job would run on until SIGKILL, and "Exception ignored in … Traceback" would reach stderr (CI saw it).
    A timer, not a `kill` of itself (handled at once, still inside the hook), raises the stop again after
    `REDELIVER_SECONDS`, by then in ordinary code, where it unwinds the job; if it lands in such code again, so
    does the next."""
    def hook(unraisable: Any) -> None:
        if isinstance(unraisable.exc_value, StopRequested):
            signal.signal(signal.SIGALRM, _stop_requested)
            signal.setitimer(signal.ITIMER_REAL, REDELIVER_SECONDS)
            return
        default_hook(unraisable)
    return hook


def _lead_group(pid: int) -> None:
    """Make the child lead its own process group (called in both parent and child, whichever runs first)."""
    with suppress(PermissionError, ProcessLookupError):  # the child did it first and has exited since
        os.setpgid(pid, pid)


def _receive(reader: Connection) -> tuple[Any, ...] | None:
    try:
        return pickle.loads(reader.recv_bytes())
    except (EOFError, OSError):
        return None
    finally:
        reader.close()


def _failure(name: str, exitcode: int | None, message: tuple[Any, ...] | None) -> BaseException:
    """The exception to raise in the parent for a failed job: the child's own, or StageFailed when it died."""
    if message is None:
        how = f"signal {-exitcode}" if exitcode is not None and exitcode < 0 else f"exit code {exitcode}"
        return StageFailed(f"{name}: its process ended without a result ({how}; killed, or out of memory?)")
    _, exc, remote = message
    log.debug("%s failed in its process:\n%s", name, remote)  # -v only: the child's traceback for the engineer
    return exc


def _stop(processes: list[multiprocessing.process.BaseProcess]) -> None:
    """Stop running jobs and their worker pools: SIGTERM to each group, SIGKILL to what is left after the grace."""
    for process in processes:
        _signal_group(process, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():  # not reaped yet, so its pid still names its group
            log.warning("%s did not stop within %.0f s; killing it", process.name, STOP_GRACE_SECONDS)
            _signal_group(process, signal.SIGKILL)
        process.join()


def _signal_group(process: multiprocessing.process.BaseProcess, signum: int) -> None:
    if process.pid is None:
        return
    with suppress(ProcessLookupError):  # the group is gone: every process of the job has ended
        os.killpg(process.pid, signum)
