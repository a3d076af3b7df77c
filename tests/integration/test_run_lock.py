"""One run per period (issue 9, point 3): two real `eikis run` processes on one period, a run refused while P's
lock is held, stale build folders of a killed run cleaned, and a re-publish that never leaves `outbox/P` missing."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.publish.atomic import build_folder, publish
from pipeline.runlock import PeriodBusy, lock_path, period_lock
from tests.conftest import DEFAULT_POLICY, SAMPLE_INBOX, SAMPLE_PERIOD

EIKIS = str(Path(sys.executable).parent / "eikis")
ENV = {**os.environ, "EIKIS_PSEUDONYM_SECRET": "test-secret", "EIKIS_DATA_DOCS": "0", "EIKIS_WORKERS": "1"}


def run_command(inbox: Path, root: Path) -> list[str]:
    return [EIKIS, "run", "--period", SAMPLE_PERIOD, "--inbox", str(inbox), "--outbox", str(root / "outbox"),
            "--policy", str(DEFAULT_POLICY), "--workdir", str(root / "work"), "--no-db"]


def error_lines(stderr: str) -> list[str]:
    """The CLI's error lines (other lines on stderr are log warnings, e.g. about development keys)."""
    return [line for line in stderr.splitlines() if line.startswith("eikis: error")]


def other_inbox(tmp_path: Path) -> Path:
    """The sample month without its injected electricity file: a valid inbox whose result differs."""
    inbox = tmp_path / "inbox-b"
    shutil.copytree(SAMPLE_INBOX, inbox)
    (inbox / SAMPLE_PERIOD / "connections" / "electricity" / "zz_injected.csv").unlink()
    return inbox


@pytest.mark.slow
def test_two_runs_of_one_period_with_different_inboxes_race_and_only_one_publishes(tmp_path):
    runs = [subprocess.Popen(run_command(inbox, tmp_path), env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True) for inbox in (SAMPLE_INBOX, other_inbox(tmp_path))]
    outcomes = [(run.wait(timeout=600), *run.communicate()) for run in runs]
    codes = sorted(code for code, _, _ in outcomes)
    assert codes == [0, 2], outcomes
    winner = next(out for code, out, _ in outcomes if code == 0)
    loser = next(err for code, _, err in outcomes if code == 2)
    assert len(error_lines(loser)) == 1 and "is already being run by another process" in loser, loser
    assert "Traceback" not in loser
    run_id = re.search(r"^run (\S+):", winner, re.MULTILINE).group(1)
    manifest = (tmp_path / "outbox" / SAMPLE_PERIOD / "manifest.json").read_text(encoding="utf-8")
    assert f'"run_id": "{run_id}"' in manifest, "the outbox holds the result of the run that exited 0"
    assert not [p.name for p in (tmp_path / "outbox").iterdir() if p.name.startswith((".build-", ".replaced-"))]


HOLDER = """
import sys, time
from pathlib import Path
from pipeline.runlock import period_lock
with period_lock(sys.argv[1], *map(Path, sys.argv[2:])):
    print("locked", flush=True)
    time.sleep(120)
"""


@pytest.fixture
def holder(tmp_path):
    """A real second process holding P's lock on the outbox only (its workdir is elsewhere)."""
    process = subprocess.Popen([sys.executable, "-c", HOLDER, SAMPLE_PERIOD, str(tmp_path / "outbox")],
                               stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "locked"
    yield process
    process.kill()
    process.wait()


def test_a_run_is_refused_in_one_line_while_another_process_holds_the_period(tmp_path, holder):
    stale = tmp_path / "outbox" / f".build-{SAMPLE_PERIOD}-deadbeef"
    stale.mkdir(parents=True)
    started = time.monotonic()
    run = subprocess.run(run_command(other_inbox(tmp_path), tmp_path), env=ENV, capture_output=True, text=True,
                         timeout=120, check=False)
    assert run.returncode == 2
    assert error_lines(run.stderr) == [
        f"eikis: error: {lock_path((tmp_path / 'outbox').resolve(), SAMPLE_PERIOD)}: period {SAMPLE_PERIOD} is "
        f"already being run by another process (pid {holder.pid}); wait for it to finish, then run again"]
    assert "Traceback" not in run.stderr
    assert time.monotonic() - started < 60, "refused at once, not queued"
    assert not (tmp_path / "outbox" / SAMPLE_PERIOD).exists()
    assert stale.is_dir(), "a build folder is only cleaned by the lock's holder"


def test_the_lock_is_released_when_its_holder_is_killed_and_stale_folders_are_then_cleaned(tmp_path, holder):
    outbox = tmp_path / "outbox"
    with pytest.raises(PeriodBusy), period_lock(SAMPLE_PERIOD, tmp_path / "work", outbox):
        pass
    stale = [outbox / f".build-{SAMPLE_PERIOD}-0badf00d", outbox / f".replaced-{SAMPLE_PERIOD}-0badf00d"]
    for folder in stale:
        (folder / "dso_gas").mkdir(parents=True)
    other_month = outbox / ".build-2026-10-12345678"
    other_month.mkdir()
    holder.kill()
    holder.wait()
    with period_lock(SAMPLE_PERIOD, tmp_path / "work", outbox), build_folder(outbox, SAMPLE_PERIOD):
        assert not any(folder.exists() for folder in stale)  # the holder's publishing cleans what the killed run left
    assert other_month.is_dir(), "only P's leftovers are P's run's business"


def test_parallel_tasks_of_one_run_share_the_lock_but_exclude_a_whole_run(tmp_path):
    with (period_lock(SAMPLE_PERIOD, tmp_path, shared=True), period_lock(SAMPLE_PERIOD, tmp_path, shared=True),
          pytest.raises(PeriodBusy), period_lock(SAMPLE_PERIOD, tmp_path)):
        pass


WATCHER = """
import os, sys, time
target, stop = sys.argv[1], sys.argv[2]
checks = missing = 0
print("watching", flush=True)
while not os.path.exists(stop):
    checks += 1
    if not os.path.isdir(target):
        missing += 1
print(checks, missing, flush=True)
"""


def test_a_republish_never_leaves_the_period_folder_missing(tmp_path):
    outbox = tmp_path / "outbox"

    def publish_once(number: int) -> None:
        with build_folder(outbox, SAMPLE_PERIOD) as build:
            (build / "manifest.json").write_text(f'{{"n": {number}}}', encoding="utf-8")
            publish(build, outbox, SAMPLE_PERIOD)

    publish_once(0)
    stop = tmp_path / "stop"
    watcher = subprocess.Popen([sys.executable, "-c", WATCHER, str(outbox / SAMPLE_PERIOD), str(stop)],
                               stdout=subprocess.PIPE, text=True)
    assert watcher.stdout.readline().strip() == "watching"
    for number in range(1, 1501):
        publish_once(number)
    stop.touch()
    checks, missing = map(int, watcher.communicate(timeout=60)[0].split())
    assert checks > 1000, "the watcher must have been looking during the re-publishes"
    assert missing == 0
    assert (outbox / SAMPLE_PERIOD / "manifest.json").read_text(encoding="utf-8") == '{"n": 1500}'
    assert sorted(p.name for p in outbox.iterdir()) == [SAMPLE_PERIOD]
