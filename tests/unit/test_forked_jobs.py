"""`run_forked`, the scheduler `ingest_all` runs the sources after ARIS with: bounded, in real forked processes,
the first failure raised as raised and the other jobs stopped with their own worker processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from pipeline.errors import SourceError
from pipeline.flows.processes import Finished, StageFailed, run_forked


def _pid_and_peers(folder: Path, name: str) -> int:
    """Note this process in `folder`, wait until no other job is noted as running, and return the pid."""
    marker = folder / f"{name}.running"
    marker.write_text(str(os.getpid()))
    peak = len(list(folder.glob("*.running")))
    (folder / f"{name}.peak").write_text(str(peak))
    time.sleep(0.3)
    marker.unlink()
    return os.getpid()


def test_jobs_run_in_their_own_processes_at_most_lanes_at_a_time(tmp_path):
    started: list[tuple[str, int]] = []
    finished: list[Finished] = []
    names = [f"job{number}" for number in range(5)]
    results = run_forked([(name, lambda name=name: _pid_and_peers(tmp_path, name)) for name in names], 2,
                         lambda name, pid: started.append((name, pid)), finished.append)
    assert sorted(results) == names and [name for name, _ in started] == names  # started in the order given
    assert all(results[name].value == pid for name, pid in started)  # the value came from the job's own process
    assert os.getpid() not in {pid for _, pid in started}
    assert max(int((tmp_path / f"{name}.peak").read_text()) for name in names) <= 2
    assert sorted(done.name for done in finished) == names
    assert all(done.seconds >= 0.3 and done.cpu_seconds >= 0 for done in finished)


def _sleep_in_a_pool(folder: Path) -> None:
    """A long job with a worker pool of its own (as VID's files have): both must stop when another job fails."""
    try:
        with ProcessPoolExecutor(max_workers=1) as pool:
            (folder / "worker.pid").write_text(str(pool.submit(os.getpid).result()))
            pool.submit(time.sleep, 120).result()
    finally:
        (folder / "cleaned-up").write_text("the job unwound, as a source removing its partial staging does")


def _fail_soon(folder: Path) -> None:
    while not (folder / "worker.pid").exists():
        time.sleep(0.05)
    raise SourceError("premature end of data: root element IncomeExtract never closed", file="vid/income_01.xml",
                      line=1)


def test_the_first_failure_is_raised_as_raised_and_stops_the_running_jobs_and_their_workers(tmp_path):
    started: dict[str, int] = {}
    began = time.monotonic()
    with pytest.raises(SourceError) as raised:
        run_forked([("vid", lambda: _sleep_in_a_pool(tmp_path)), ("pmlp", lambda: _fail_soon(tmp_path)),
                    ("never", lambda: (tmp_path / "never-started").write_text("x"))], 2,
                   lambda name, pid: started.__setitem__(name, pid))
    assert time.monotonic() - began < 60  # not the 120 s the long job would have taken
    assert raised.value.one_line() == "vid/income_01.xml:1: premature end of data: root element IncomeExtract " \
                                      "never closed"
    assert (tmp_path / "cleaned-up").exists()          # stopped by SIGTERM: its finally ran
    assert not (tmp_path / "never-started").exists()   # a job not yet started never starts
    assert "never" not in started
    for pid in (*started.values(), int((tmp_path / "worker.pid").read_text())):
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)  # neither the jobs nor the long job's pool worker is left running


def test_a_job_that_dies_without_a_result_fails_the_stage_with_one_line():
    with pytest.raises(StageFailed, match=r"^gas: its process ended without a result \(signal 9; killed, or out "
                                          r"of memory\?\)$"):
        run_forked([("gas", lambda: os.kill(os.getpid(), signal.SIGKILL))], 2)


def test_an_unexpected_error_keeps_its_class_for_the_cli_to_judge():
    with pytest.raises(ZeroDivisionError):
        run_forked([("prices", lambda: 1 // 0)], 2)


def _stopped_while_forking_a_worker() -> str:
    """A job whose stop arrives inside an at-fork hook, as a SIGTERM can while a job forks its worker pool (CI saw
    it during logging's hook): Python can only print an exception raised there, never propagate it."""
    def stop_me_now() -> None:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(1)  # the handler runs here, inside the hook
    os.register_at_fork(after_in_parent=stop_me_now)  # in the job's own process: the test's is untouched
    worker = os.fork()
    if worker == 0:
        os._exit(0)
    os.waitpid(worker, 0)
    time.sleep(30)
    return "ran on: the stop was lost"


def test_a_stop_that_lands_in_an_at_fork_hook_still_stops_the_job_and_prints_no_traceback(capfd):
    began = time.monotonic()
    with pytest.raises(SystemExit) as raised:
        run_forked([("vsaa", _stopped_while_forking_a_worker)], 2)
    assert raised.value.code == 128 + signal.SIGTERM
    assert time.monotonic() - began < 20  # not the 30 s the job sleeps once the stop is lost
    stderr = capfd.readouterr().err
    assert "Traceback" not in stderr and "Exception ignored" not in stderr, stderr


ORPHAN = """
import os, sys, time
from pathlib import Path
from pipeline.flows.processes import run_forked
folder = Path(sys.argv[1])
def job():
    (folder / "job.pid").write_text(str(os.getpid()))
    time.sleep(120)
run_forked([("vid", job)], 2)
"""


def test_a_job_stops_when_the_process_that_started_it_is_killed(tmp_path):
    parent = subprocess.Popen([sys.executable, "-c", ORPHAN, str(tmp_path)])
    try:
        while not (tmp_path / "job.pid").exists():
            time.sleep(0.05)
        job = int((tmp_path / "job.pid").read_text())
    finally:
        parent.kill()  # SIGKILL: the parent cannot stop its jobs itself
        parent.wait()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and _running(job):
        time.sleep(0.1)
    assert not _running(job)


def _running(pid: int) -> bool:
    """True while `pid` runs (a zombie awaiting its reaper counts as ended)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
