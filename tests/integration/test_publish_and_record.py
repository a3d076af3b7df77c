"""Publish and record are one outcome (issue 20.8): a store that fails after the run's store check publishes
nothing and keeps the previous month's publication and rows; a publication whose next step fails is taken back."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.publish.atomic import build_folder, publishing
from tests.conftest import DEFAULT_POLICY, SAMPLE_INBOX, SAMPLE_PERIOD

FAIL_MIDWAY = ("CREATE TRIGGER members_fail BEFORE INSERT ON household_members "
               "BEGIN SELECT RAISE(ABORT, 'the disk is full'); END")


def run(root: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    status = main(["run", "--period", SAMPLE_PERIOD, "--inbox", str(SAMPLE_INBOX), "--outbox", str(root / "outbox"),
                   "--policy", str(DEFAULT_POLICY), "--workdir", str(root / "work")])
    return status, capsys.readouterr().err


def break_store_midway(root: Path) -> None:
    """The store passes the run's check (connect, SELECT 1) but fails while P's rows are written."""
    with sqlite3.connect(root / "work" / "eikis.sqlite") as db:
        db.execute(FAIL_MIDWAY)


def published_folders(root: Path) -> list[str]:
    """The outbox's folders (P's lock file beside them aside)."""
    return sorted(p.name for p in (root / "outbox").iterdir() if p.is_dir())


def stored_runs(root: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(root / "work" / "eikis.sqlite") as db:
        return db.execute("SELECT period, recorded_at FROM runs").fetchall()


def test_a_store_failing_midway_publishes_nothing(tmp_path, capsys):
    assert main(["db", "upgrade", "--workdir", str(tmp_path / "work")]) == 0
    break_store_midway(tmp_path)
    status, err = run(tmp_path, capsys)
    assert status == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "outbox" / SAMPLE_PERIOD).exists()
    assert published_folders(tmp_path) == []                             # no build folder left either
    assert stored_runs(tmp_path) == []


def test_a_rerun_whose_store_fails_midway_keeps_the_previous_publication_and_rows(tmp_path, capsys):
    assert run(tmp_path, capsys)[0] == 0
    manifest = tmp_path / "outbox" / SAMPLE_PERIOD / "manifest.json"
    first_inode, first_runs = manifest.stat().st_ino, stored_runs(tmp_path)
    break_store_midway(tmp_path)
    assert run(tmp_path, capsys)[0] == 2
    assert manifest.stat().st_ino == first_inode                          # the earlier publication, not the new
    assert stored_runs(tmp_path) == first_runs
    assert published_folders(tmp_path) == [SAMPLE_PERIOD]


@pytest.mark.parametrize("earlier", [False, True])
def test_a_publication_whose_next_step_fails_is_taken_back(tmp_path, earlier):
    outbox = tmp_path / "outbox"
    if earlier:
        (outbox / SAMPLE_PERIOD).mkdir(parents=True)
        (outbox / SAMPLE_PERIOD / "manifest.json").write_text("earlier")
    with pytest.raises(RuntimeError), build_folder(outbox, SAMPLE_PERIOD) as build:
        (build / "manifest.json").write_text("new")
        with publishing(build, outbox, SAMPLE_PERIOD) as target:
            assert (target / "manifest.json").read_text() == "new"      # published while the block runs
            raise RuntimeError("the store's commit failed")
    published = [p.name for p in outbox.iterdir()]
    if earlier:
        assert published == [SAMPLE_PERIOD] and (outbox / SAMPLE_PERIOD / "manifest.json").read_text() == "earlier"
    else:
        assert published == []
