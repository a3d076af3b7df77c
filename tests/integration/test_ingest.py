"""Ingest on real files: staging, quarantine reason codes, whole-file failures through the CLI, GX suites."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipeline.config import Settings, WorkLayout
from pipeline.errors import ValidationFailed
from pipeline.flows.monthly import RunConfig, ingest_all
from tests.conftest import DEFAULT_POLICY, SAMPLE_INBOX, SAMPLE_PERIOD

REQUIRED_REASONS = {"INVALID_PERSON_CODE", "UNKNOWN_ADDRESS", "DUPLICATE_PERSON", "NEGATIVE_AMOUNT", "BAD_PERIOD",
                    "DUPLICATE_MONTH", "UNKNOWN_ENUM"}


@pytest.fixture(scope="module")
def staged(tmp_path_factory: pytest.TempPathFactory) -> WorkLayout:
    workdir = tmp_path_factory.mktemp("work")
    settings = Settings(pseudonym_secret=b"test-secret", workers=2, data_docs=True)
    ingest_all(RunConfig(SAMPLE_PERIOD, str(SAMPLE_INBOX), str(workdir)), settings)
    return WorkLayout(workdir, SAMPLE_PERIOD)


def quarantine(layout: WorkLayout, source: str):
    return pq.read_table(layout.quarantined(source)).to_pandas()


def test_every_source_is_staged_as_typed_parquet(staged):
    for source in ("aris", "pmlp", "vid", "vsaa", "electricity", "gas", "heat", "prices", "sopa"):
        table = pq.read_table(staged.staged(source))
        assert table.num_rows > 0, source
    vid = pq.read_table(staged.staged("vid")).schema
    assert str(vid.field("amount_cents").type) == "int64" and str(vid.field("period_start").type) == "int32"
    assert "GivenName" not in vid.names and "given_name" not in vid.names


def test_a_source_of_several_files_is_one_source(staged):
    files = {row["file"] for row in pq.read_table(staged.staged("vid"), columns=["file"]).to_pylist()}
    assert files == {"vid/income_01.xml", "vid/income_02.xml"}


def test_a_sopa_record_without_a_decision_number_is_staged_not_quarantined(staged):
    """§8: the DecisionNumber "may be missing" — a valid record that ALDIS returns as NO_DECISION (§12)."""
    table = pq.read_table(staged.staged("sopa"), columns=["decision_number"])
    assert table.column("decision_number").null_count >= 1  # the sample has such a record
    assert "MISSING_VALUE" not in set(quarantine(staged, "sopa")["reason"])


def test_each_required_reason_code_is_quarantined_with_file_and_record(staged):
    found = set()
    for source in ("pmlp", "vid", "vsaa", "electricity"):
        table = quarantine(staged, source)
        found |= set(table["reason"])
        assert table["file"].str.len().gt(0).all() and table["record"].gt(0).all()
    assert found >= REQUIRED_REASONS


def test_quarantine_descriptions_hold_no_personal_data(staged):
    codes = set(pq.read_table(staged.staged("pmlp"), columns=["person_code"]).to_pandas()["person_code"])
    for source in ("pmlp", "vid", "vsaa"):
        for detail in quarantine(staged, source)["detail"]:
            assert not any(code in detail.replace("-", "") for code in codes)


def test_duplicate_person_quarantines_both_copies(staged):
    table = quarantine(staged, "pmlp")
    duplicates = table.loc[table["reason"] == "DUPLICATE_PERSON"]
    assert len(duplicates) == 2 and duplicates["person_key"].nunique() == 1
    assert set(duplicates["file"]) == {"pmlp/persons_01.xml", "pmlp/zz_injected.xml"}


def test_data_docs_are_built_for_every_source(staged):
    index = (staged.data_docs / "index.html").read_text(encoding="utf-8")
    for source in ("aris", "pmlp", "vid", "vsaa", "electricity", "gas", "heat", "prices", "sopa"):
        assert (staged.data_docs / source / "index.html").exists()
        assert f'href="{source}/index.html"' in index
    assert "FAILED" not in index
    # VID is validated part by part and its one site shows each part's result as a page the index links
    parts = sorted(path.stem for path in staged.staged("vid").glob("*.parquet"))
    pages = sorted((staged.data_docs / "vid").glob("validations/vid_rows/part-*/*/*.html"))
    assert len(parts) >= 2 and [page.parent.parent.name for page in pages] == parts
    for page in pages:
        assert f'href="vid/{page.relative_to(staged.data_docs / "vid").as_posix()}">{page.parent.parent.name}<' in index
        assert "Succeeded" in page.read_text(encoding="utf-8")
    site_index = (staged.data_docs / "vid" / "index.html").read_text(encoding="utf-8")
    assert all(part in site_index for part in parts) and "whole-table" in site_index


def test_a_quarantine_over_the_tolerance_stops_the_run_and_names_source_and_file(tmp_path):
    inbox = tmp_path / "inbox"
    shutil.copytree(SAMPLE_INBOX, inbox)
    vid = inbox / SAMPLE_PERIOD / "vid" / "income_02.xml"
    vid.write_text(vid.read_text(encoding="utf-8").replace("<AmountEUR>", "<AmountEUR>-"), encoding="utf-8")
    settings = Settings(pseudonym_secret=b"test-secret", workers=1, data_docs=True)
    with pytest.raises(ValidationFailed, match=r"quarantine/vid.parquet: vid: \d+ of \d+ records quarantined"):
        ingest_all(RunConfig(SAMPLE_PERIOD, str(inbox), str(tmp_path / "work")), settings)
    assert "FAILED" in (tmp_path / "work" / SAMPLE_PERIOD / "data_docs" / "index.html").read_text(encoding="utf-8")


def _run_cli(inbox: Path, outbox: Path, workdir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "run", "--period", SAMPLE_PERIOD, "--inbox", str(inbox),
         "--outbox", str(outbox), "--policy", str(DEFAULT_POLICY), "--workdir", str(workdir)],
        capture_output=True, text=True, env={"EIKIS_DATA_DOCS": "0", "EIKIS_WORKERS": "1", "PATH": "/usr/bin",
                                             "EIKIS_DEV_MODE": "1"},
        check=False)


def _break_vid(base: Path) -> None:
    (base / "vid" / "income_01.xml").write_text("<IncomeExtract xmlns='urn:eikis:vid:income:v1' extractDate="
                                                "'2025-01-31'><Income><DocumentId>", encoding="utf-8")


def _wrong_namespace(base: Path) -> None:
    path = base / "vsaa" / "benefits_01.xml"
    path.write_text(path.read_text(encoding="utf-8").replace("benefits:v1", "benefits:v9"), encoding="utf-8")


def _xsd_break(base: Path) -> None:
    path = base / "pmlp" / "persons_02.xml"
    path.write_text(path.read_text(encoding="utf-8").replace("<Vital>", "<Extra/><Vital>", 1), encoding="utf-8")


def _bad_bytes(base: Path) -> None:
    path = base / "sopa" / "protected_users.xml"
    path.write_bytes(path.read_bytes().replace(b"Pabeigts", b"Pabeigts\xff", 1))


def _no_prices(base: Path) -> None:
    shutil.rmtree(base / "prices")


def _no_price_for_p(base: Path) -> None:
    path = base / "prices" / "monthly_prices.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(line for line in lines if not line.startswith(f"{SAMPLE_PERIOD};WOODCHIP")) + "\n",
                    encoding="utf-8")


def _bad_csv_header(base: Path) -> None:
    path = base / "connections" / "gas" / "objects_01.csv"
    path.write_text("id;code\n1;2\n", encoding="utf-8")


@pytest.mark.parametrize(("breaker", "expected"), [
    (_break_vid, r"vid/income_01.xml:1: premature end of data"),
    (_wrong_namespace, r"vsaa/benefits_01.xml:2: XSD violation"),
    (_xsd_break, r"pmlp/persons_02.xml:3 \(record 1\): XSD violation: Element .*Extra"),
    (_bad_bytes, r"sopa/protected_users.xml:3 .*malformed XML: Invalid bytes"),
    (_no_prices, r"prices: required source prices is missing"),
    (_no_price_for_p, r"missing price for 2026-11: WOODCHIP"),
    (_bad_csv_header, r"connections/gas/objects_01.csv:1: unexpected header"),
])
def test_whole_file_problems_exit_non_zero_with_one_line_and_publish_nothing(tmp_path, breaker, expected):
    inbox = tmp_path / "inbox"
    shutil.copytree(SAMPLE_INBOX, inbox)
    breaker(inbox / SAMPLE_PERIOD)
    result = _run_cli(inbox, tmp_path / "outbox", tmp_path / "work")
    assert result.returncode != 0
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("eikis: error:")]
    assert len(error_lines) == 1, result.stderr[-2000:]
    assert re.search(expected, error_lines[0]), error_lines[0]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "outbox" / SAMPLE_PERIOD).exists()
