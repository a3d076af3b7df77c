"""Issue 9 points 6 and 7 on real inboxes: symlinks, folders named like files, FIFOs and other scripts' digits are
refused or quarantined with one line, never followed, skipped or crashed on."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipeline.config import Settings, WorkLayout
from pipeline.ingest import ingest_source
from tests.builders import InboxBuilder, months, person_code
from tests.cli import eikis, one_line_error
from tests.conftest import SAMPLE_INBOX, SAMPLE_PERIOD

P = SAMPLE_PERIOD
SETTINGS = Settings(pseudonym_secret=b"test-secret", workers=1, data_docs=False)


def ingest_cli(inbox: Path, workdir: Path) -> subprocess.CompletedProcess[str]:
    return eikis("ingest", "--period", P, "--inbox", inbox, "--workdir", workdir, timeout=300)


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    shutil.copytree(SAMPLE_INBOX, tmp_path / "inbox")
    return tmp_path / "inbox"


def test_a_symlinked_file_pointing_outside_the_inbox_is_refused(inbox, tmp_path):
    outside = tmp_path / "elsewhere.xml"
    target = inbox / P / "vid" / "income_01.xml"
    shutil.move(target, outside)
    target.symlink_to(outside)
    line = one_line_error(ingest_cli(inbox, tmp_path / "work"))
    assert "vid/income_01.xml" in line and "symbolic link" in line


def test_a_symlinked_source_folder_is_refused(inbox, tmp_path):
    shutil.move(inbox / P / "vsaa", tmp_path / "vsaa")
    (inbox / P / "vsaa").symlink_to(tmp_path / "vsaa", target_is_directory=True)
    assert "symbolic link" in one_line_error(ingest_cli(inbox, tmp_path / "work"))


def test_a_folder_named_like_an_input_file_is_refused_not_skipped(inbox, tmp_path):
    persons = inbox / P / "pmlp" / "persons_02.xml"
    persons.rename(tmp_path / "persons_02.xml")
    persons.mkdir()
    (tmp_path / "persons_02.xml").rename(persons / "persons_02.xml")
    line = one_line_error(ingest_cli(inbox, tmp_path / "work"))
    assert "pmlp/persons_02.xml" in line and "not a regular file" in line


def test_a_fifo_named_like_an_input_file_is_refused_without_hanging(inbox, tmp_path):
    os.mkfifo(inbox / P / "prices" / "more_prices.csv")
    line = one_line_error(ingest_cli(inbox, tmp_path / "work"))
    assert "prices/more_prices.csv" in line and "not a regular file" in line


def test_files_in_a_subfolder_of_a_source_are_refused_not_ignored(inbox, tmp_path):
    late = inbox / P / "vid" / "late"
    late.mkdir()
    (inbox / P / "vid" / "income_02.xml").rename(late / "income_02.xml")
    line = one_line_error(ingest_cli(inbox, tmp_path / "work"))
    assert "vid/late" in line and "subfolder" in line


def test_a_symlinked_period_folder_is_refused(tmp_path):
    shutil.copytree(SAMPLE_INBOX / P, tmp_path / "real" / P)
    (tmp_path / "inbox").mkdir()
    (tmp_path / "inbox" / P).symlink_to(tmp_path / "real" / P, target_is_directory=True)
    line = one_line_error(ingest_cli(tmp_path / "inbox", tmp_path / "work"))
    assert f"inbox/{P}:" in line and "symbolic link" in line


def test_sources_are_read_from_the_runs_private_read_only_copy(inbox, tmp_path):
    """Issue 28: a provider rewriting an inbox file after the run took it changes nothing the run reads."""
    ingest_source("aris", P, inbox, tmp_path / "work", SETTINGS)
    summary = ingest_source("vid", P, inbox, tmp_path / "work", SETTINGS)
    copy = tmp_path / "work" / P / "inbox" / "vid" / "income_01.xml"
    assert copy.stat().st_mode & 0o777 == 0o400
    assert copy.read_bytes() == (inbox / P / "vid" / "income_01.xml").read_bytes()
    entry = next(item for item in summary.files if item["file"] == "vid/income_01.xml")
    assert entry["sha256"] == hashlib.sha256(copy.read_bytes()).hexdigest() and entry["bytes"] == copy.stat().st_size
    (inbox / P / "vid" / "income_01.xml").write_bytes(b"<truncated")  # the provider rewrites it after the take
    assert copy.read_bytes() != b"<truncated"


def staged_month(tmp_path: Path, change) -> WorkLayout:
    b = InboxBuilder("2025-01")
    b.standard_tree()
    home = b.house(101000001, "Ozoli")
    b.person(1, home)
    b.monthly(person_code(1), "100.00", months("2024-01", 12))
    b.benefit(person_code(1), "10.00", months("2024-01", 12))
    b.connection("electricity", "E1", home)
    b.price("2025-01", electricity="150.01", gas="60.01", woodchip="80.00")
    change(b)
    b.write(tmp_path / "inbox")
    for source in ("aris", "pmlp", "vsaa", "electricity", "prices"):
        ingest_source(source, "2025-01", tmp_path / "inbox", tmp_path / "work", SETTINGS)
    return WorkLayout(tmp_path / "work", "2025-01")


def reasons(layout: WorkLayout, source: str) -> list[str]:
    return pq.read_table(layout.quarantined(source)).column("reason").to_pylist()


def test_other_scripts_digits_are_quarantined_not_read_as_numbers(tmp_path):
    def change(b: InboxBuilder) -> None:
        b.address("١٠١٠٠٠٠٠٢", 108, 100015122, 105, "Liepas", "Liepas")
        b.benefit(person_code(1), "²", ["2023-05"])
        b.connection("electricity", "E2", 101000001, company=("SIA X", "４０００３０３２９４９"))
        b.prices.append(("2024-06", "GAS", "1e3", "TTF"))
        b.prices.append(("2024-07", "GAS", "1_000", "TTF"))

    layout = staged_month(tmp_path, change)
    assert reasons(layout, "aris") == ["INVALID_ARIS_CODE"]
    assert reasons(layout, "vsaa") == ["BAD_AMOUNT"]
    assert reasons(layout, "electricity") == ["INVALID_REG_NO"]
    assert reasons(layout, "prices") == ["BAD_AMOUNT", "BAD_AMOUNT"]


def test_an_error_in_a_file_names_the_inbox_file_not_the_runs_copy(inbox, tmp_path):
    path = inbox / P / "vid" / "income_02.xml"
    path.write_bytes(path.read_bytes()[:-200])
    line = one_line_error(ingest_cli(inbox, tmp_path / "work"))
    assert f"{inbox}/{P}/vid/income_02.xml" in line and str(tmp_path / "work") not in line
