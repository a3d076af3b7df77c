"""Issue 9 points 6 and 7, issue 20 point 4 and issue 21 point 1 on real inboxes: symlinks, folders named like files,
FIFOs, subfolders and other scripts' digits are refused or quarantined with one line, never followed, skipped or
crashed on, by every flow that reads the inbox (monthly and ALDIS, through `pipeline.inbox`)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipeline.config import Settings, WorkLayout
from pipeline.errors import SourceError
from pipeline.ingest import ingest_source
from pipeline.sources.claims import CLAIM_COLUMNS, read_claims
from tests.builders import InboxBuilder, months, person_code
from tests.cli import eikis, one_line_error
from tests.conftest import ROOT, SAMPLE_INBOX, SAMPLE_PERIOD

P = SAMPLE_PERIOD
SETTINGS = Settings(pseudonym_secret=b"test-secret", workers=1, data_docs=False)


def ingest_cli(inbox: Path, workdir: Path) -> subprocess.CompletedProcess[str]:
    return eikis("ingest", "--period", P, "--inbox", inbox, "--workdir", workdir, timeout=300)


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    shutil.copytree(SAMPLE_INBOX, tmp_path / "inbox")
    return tmp_path / "inbox"


def aldis_cli(inbox: Path, workdir: Path) -> subprocess.CompletedProcess[str]:
    return eikis("aldis", "--period", P, "--inbox", inbox, "--outbox", workdir.parent / "aldis_outbox",
                 "--traders", ROOT / "policy" / "traders.yaml", "--workdir", workdir, timeout=300)


# Every flow that reads the inbox, with a folder it reads and an input file in it: the same hostile shapes are
# refused the same way by each (issue 20 point 4, issue 21 point 1). Claims read their own inbox (EIKIS_CLAIMS).
READERS = [
    pytest.param(ingest_cli, "vid", "income_01.xml", id="monthly-vid"),
    pytest.param(ingest_cli, "connections/heat", "heat_40003286750.csv", id="monthly-heat"),
    pytest.param(aldis_cli, "sopa", "protected_users_02.xml", id="aldis-sopa"),
    pytest.param(aldis_cli, "contracts/40003032949", "contracts_01.csv", id="aldis-contract-list"),
]


def refused(run, inbox: Path, tmp_path: Path) -> str:
    """The one-line error of a refused run (exit 2); ALDIS published nothing."""
    line = one_line_error(run(inbox, tmp_path / "work"))
    assert not (tmp_path / "aldis_outbox" / P).exists()
    return line


@pytest.mark.parametrize("run, folder, name", READERS)
def test_a_symlinked_file_pointing_outside_the_inbox_is_refused(inbox, tmp_path, run, folder, name):
    outside = tmp_path / "elsewhere"
    target = inbox / P / folder / name
    shutil.move(target, outside)
    target.symlink_to(outside)
    line = refused(run, inbox, tmp_path)
    assert f"{folder}/{name}" in line and "symbolic link" in line


@pytest.mark.parametrize("run, folder, name", READERS)
def test_a_symlinked_source_folder_is_refused(inbox, tmp_path, run, folder, name):
    shutil.move(inbox / P / folder, tmp_path / "moved")
    (inbox / P / folder).symlink_to(tmp_path / "moved", target_is_directory=True)
    line = refused(run, inbox, tmp_path)
    assert f"{P}/{folder}:" in line and "symbolic link" in line


@pytest.mark.parametrize("run, folder, name", READERS)
def test_a_folder_named_like_an_input_file_is_refused_not_skipped(inbox, tmp_path, run, folder, name):
    path = inbox / P / folder / name
    path.rename(tmp_path / name)
    path.mkdir()
    (tmp_path / name).rename(path / name)
    line = refused(run, inbox, tmp_path)
    assert f"{folder}/{name}" in line and "not a regular file" in line


@pytest.mark.parametrize("run, folder, name", READERS)
def test_a_fifo_named_like_an_input_file_is_refused_without_hanging(inbox, tmp_path, run, folder, name):
    os.mkfifo(inbox / P / folder / f"more{Path(name).suffix}")
    line = refused(run, inbox, tmp_path)
    assert f"{folder}/more{Path(name).suffix}" in line and "not a regular file" in line


@pytest.mark.parametrize("run, folder, name", READERS)
def test_files_in_a_subfolder_of_a_source_are_refused_not_ignored(inbox, tmp_path, run, folder, name):
    late = inbox / P / folder / "late"
    late.mkdir()
    (inbox / P / folder / name).rename(late / name)
    line = refused(run, inbox, tmp_path)
    assert f"{folder}/late" in line and "subfolder" in line


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


# ---------------------------------------------------------------- claims (EIKIS_CLAIMS/<P>/<kind>/<reg_no>/*.csv)
CLAIMS_P = "2026-01"
SUPPLIER = "traders_electricity/40000000001"


def _claims_tree(tmp_path: Path) -> Path:
    folder = tmp_path / "claims" / CLAIMS_P / SUPPLIER
    folder.mkdir(parents=True)
    row = "C-1;2026-02-03T10:00:00;E1;ELECTRICITY_BASE;1;10.000;1.00"
    (folder / "claims.csv").write_text(";".join(CLAIM_COLUMNS) + f"\n{row}\n", encoding="utf-8")
    return tmp_path / "claims"


def _link_file(folder: Path, tmp_path: Path) -> str:
    (folder / "claims.csv").rename(tmp_path / "elsewhere.csv")
    (folder / "claims.csv").symlink_to(tmp_path / "elsewhere.csv")
    return "claims.csv: is a symbolic link"


def _link_folder(folder: Path, tmp_path: Path) -> str:
    folder.rename(tmp_path / "moved")
    folder.symlink_to(tmp_path / "moved", target_is_directory=True)
    return "40000000001: is a symbolic link"


def _folder_named_like_a_file(folder: Path, tmp_path: Path) -> str:
    (folder / "more.csv").mkdir()
    return "more.csv: is named like an input file but is not a regular file"


def _fifo(folder: Path, tmp_path: Path) -> str:
    os.mkfifo(folder / "more.csv")
    return "more.csv: is named like an input file but is not a regular file"


def _subfolder(folder: Path, tmp_path: Path) -> str:
    (folder / "late").mkdir()
    (folder / "claims.csv").rename(folder / "late" / "claims.csv")
    return "late: is a subfolder"


@pytest.mark.parametrize("make", [_link_file, _link_folder, _folder_named_like_a_file, _fifo, _subfolder])
def test_the_claims_inbox_refuses_the_same_hostile_shapes(tmp_path, make):
    root = _claims_tree(tmp_path)
    expected = make(root / CLAIMS_P / SUPPLIER, tmp_path)
    with pytest.raises(SourceError, match=expected):
        read_claims(root, CLAIMS_P, copies=tmp_path / "work" / "claims" / "inbox")


def test_claims_are_read_from_the_runs_private_copy_and_errors_name_the_claims_file(tmp_path):
    root = _claims_tree(tmp_path)
    copies = tmp_path / "work" / "claims" / "inbox"
    claims = read_claims(root, CLAIMS_P, copies=copies)
    assert [line.claim_id for line in claims[SUPPLIER].lines] == ["C-1"]
    copy = copies / SUPPLIER / "claims.csv"
    assert copy.stat().st_mode & 0o777 == 0o400
    assert copy.read_bytes() == (root / CLAIMS_P / SUPPLIER / "claims.csv").read_bytes()
    (root / CLAIMS_P / SUPPLIER / "claims.csv").write_text("not;the;header\n", encoding="utf-8")
    with pytest.raises(SourceError) as raised:
        read_claims(root, CLAIMS_P, copies=copies)
    line = raised.value.one_line()
    assert str(root / CLAIMS_P / SUPPLIER / "claims.csv") in line and str(copies) not in line
