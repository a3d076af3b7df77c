"""A group of recipient files that fails while the outbox is built leaves nothing published — no new `<outbox>/P`,
an earlier publication untouched, no build folder — with the group's own error."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipeline.config import Settings, WorkLayout
from pipeline.flows.monthly import RunConfig, publish, run_month
from pipeline.handoff import DecisionSummary
from tests.conftest import DEFAULT_POLICY, SAMPLE_INBOX, SAMPLE_PERIOD

SETTINGS = Settings(pseudonym_secret=b"test-secret", workers=2, data_docs=False)


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample month run once (the reference)."""
    root = tmp_path_factory.mktemp("month")
    run_month(SAMPLE_PERIOD, SAMPLE_INBOX, root / "outbox", DEFAULT_POLICY, root / "work", SETTINGS)
    return root


def files_under(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` with its bytes (P's run lock aside: it stays by design)."""
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*"))
            if path.is_file() and not path.name.endswith(".lock")}


def config(root: Path) -> RunConfig:
    return RunConfig(period=SAMPLE_PERIOD, inbox=str(SAMPLE_INBOX), workdir=str(root / "work"),
                     outbox=str(root / "outbox"), policy=str(DEFAULT_POLICY))


@pytest.mark.parametrize("earlier_publication", [False, True])
def test_a_group_failing_mid_build_publishes_nothing(month, tmp_path, earlier_publication):
    shutil.copytree(month / "work", tmp_path / "work")
    if earlier_publication:
        shutil.copytree(month / "outbox", tmp_path / "outbox")
    before = files_under(tmp_path / "outbox") if earlier_publication else {}
    # garbage where the electricity DSO's group reads its returned rows, after it has written its list
    WorkLayout(tmp_path / "work", SAMPLE_PERIOD).decided("electricity_returned").write_bytes(b"not parquet")
    with pytest.raises(Exception, match="Parquet|parquet|magic"):
        publish(config(tmp_path), DecisionSummary.load(WorkLayout(tmp_path / "work", SAMPLE_PERIOD)))
    outbox = tmp_path / "outbox"
    assert files_under(outbox) == before   # no new file anywhere, the earlier publication as it was
    assert sorted(path.name for path in outbox.iterdir() if not path.name.endswith(".lock")) == (
        [SAMPLE_PERIOD] if earlier_publication else [])   # no build folder left behind
