"""Decide and publish with two workers (their jobs in forked processes): the same decisions and files as with
one, and a group of recipient files that fails in its own process leaves nothing published — no new `<outbox>/P`,
an earlier publication untouched, no build folder — with the error one worker would have raised."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipeline.config import Settings, WorkLayout
from pipeline.decide.run import decide_period
from pipeline.flows import monthly
from pipeline.flows.monthly import RunConfig, publish, run_month
from pipeline.handoff import DecisionSummary
from pipeline.policy import load_policy
from tests.conftest import DEFAULT_POLICY, SAMPLE_INBOX, SAMPLE_PERIOD

ONE = Settings(pseudonym_secret=b"test-secret", workers=1, data_docs=False)
TWO = Settings(pseudonym_secret=b"test-secret", workers=2, data_docs=False)


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample month run once with one worker (the reference)."""
    root = tmp_path_factory.mktemp("month")
    run_month(SAMPLE_PERIOD, SAMPLE_INBOX, root / "outbox", DEFAULT_POLICY, root / "work", ONE)
    return root


@pytest.fixture(autouse=True)
def fork_the_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sample month is far below the size from which decide and publish fork their jobs: fork it anyway."""
    monkeypatch.setattr(monthly, "FORK_MIN_ROWS", 0)


def files_under(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` with its bytes (P's run lock aside: it stays by design)."""
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*"))
            if path.is_file() and not path.name.endswith(".lock")}


def config(root: Path) -> RunConfig:
    return RunConfig(period=SAMPLE_PERIOD, inbox=str(SAMPLE_INBOX), workdir=str(root / "work"),
                     outbox=str(root / "outbox"), policy=str(DEFAULT_POLICY))


def copy_month(month: Path, root: Path, with_outbox: bool) -> None:
    shutil.copytree(month / "work", root / "work")
    if with_outbox:
        shutil.copytree(month / "outbox", root / "outbox")


def test_two_workers_decide_and_publish_what_one_does(month, tmp_path):
    copy_month(month, tmp_path, with_outbox=False)
    policy = load_policy(DEFAULT_POLICY, SAMPLE_PERIOD)
    decision = decide_period(SAMPLE_PERIOD, tmp_path / "work", policy, TWO,
                             monthly.jobs_runner(TWO, 0))   # decide's jobs forked, as the flow can pass them
    decision.anomaly_tolerance = policy.anomaly_tolerance()   # what the flow's `decide` adds
    decisions = WorkLayout(tmp_path / "work", SAMPLE_PERIOD).decisions
    reference = WorkLayout(month / "work", SAMPLE_PERIOD).decisions
    for table in sorted(reference.glob("*.parquet")):
        assert pq.read_table(decisions / table.name).equals(pq.read_table(table)), table.name
    expected = DecisionSummary.load(WorkLayout(month / "work", SAMPLE_PERIOD)).to_dict()
    assert {**decision.to_dict(), "seconds": 0} == {**expected, "seconds": 0}
    publish(config(tmp_path), decision, settings=TWO)
    assert files_under(tmp_path / "outbox" / SAMPLE_PERIOD) == files_under(month / "outbox" / SAMPLE_PERIOD)


def _break_electricity_returns(root: Path) -> None:
    """Garbage where the electricity DSO's group reads its returned rows, after it has written its list: the
    group fails in its own process while the other groups run, with files of its own already in the build."""
    (WorkLayout(root / "work", SAMPLE_PERIOD).decided("electricity_returned")).write_bytes(b"not parquet")


def _error_of(root: Path, settings: Settings) -> BaseException:
    decision = DecisionSummary.load(WorkLayout(root / "work", SAMPLE_PERIOD))
    with pytest.raises(Exception) as raised:
        publish(config(root), decision, settings=settings)
    return raised.value


@pytest.mark.parametrize("earlier_publication", [False, True])
def test_a_group_failing_in_its_process_publishes_nothing(month, tmp_path, caplog, earlier_publication):
    copy_month(month, tmp_path, with_outbox=earlier_publication)
    before = files_under(tmp_path / "outbox") if earlier_publication else {}
    _break_electricity_returns(tmp_path)
    forked = _error_of(tmp_path, TWO)
    assert "electricity_dso failed: stopping" in caplog.text   # it failed in its own process, beside another
    outbox = tmp_path / "outbox"
    assert files_under(outbox) == before   # no new file anywhere, the earlier publication as it was
    assert sorted(path.name for path in outbox.iterdir() if not path.name.endswith(".lock")) == (
        [SAMPLE_PERIOD] if earlier_publication else [])   # no build folder left behind
    in_order = _error_of(tmp_path, ONE)
    assert (type(forked), str(forked)) == (type(in_order), str(in_order))   # the error one worker gives
