"""Issue 9 point 1: a quarantined VID or VSAA record must never silently lower a household's income.

The issue's scenario on the sample month (seed 3): the 24 VID records of the only member of household 101000021
(average 1 507.79 EUR against a 520 EUR threshold) get a personal code that fails the shape check. Before the fix
they were quarantined and the household was published ELIGIBLE with "0 for review".
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from pipeline.generate.inbox import generate_inbox
from tests.cli import eikis
from tests.conftest import DEFAULT_POLICY

P = "2026-11"
HOUSEHOLD = "101000021"
CODE = "20078711258"  # its only member, 24 VID records in income_02.xml
ARABIC = CODE.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))


def run(tmp_path: Path, alter) -> tuple[subprocess.CompletedProcess[str], pd.DataFrame]:
    inbox = tmp_path / "inbox"
    generate_inbox(P, inbox, scale="sample", seed=3, workers=1)
    alter(inbox / P)
    result = eikis("run", "--period", P, "--inbox", inbox, "--outbox", tmp_path / "out", "--policy", DEFAULT_POLICY,
                   "--workdir", tmp_path / "work", "--no-db")
    assert result.returncode == 0, result.stderr
    households = pd.read_parquet(tmp_path / "work" / P / "decisions" / "households.parquet")
    return result, households.set_index("aris_code")


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def review_count(stdout: str) -> int:
    return int(re.search(r"(\d+) for review", stdout).group(1))


@pytest.mark.parametrize("written", [f" {CODE}", ARABIC, f"{CODE[:6]}–{CODE[6:]}"],
                         ids=["leading space", "arabic-indic digits", "en dash"])
def test_a_household_whose_income_is_quarantined_goes_to_review(tmp_path, written):
    result, households = run(tmp_path, lambda base: replace_in(
        base / "vid" / "income_02.xml", f"<PersonCode>{CODE}<", f"<PersonCode>{written}<"))
    assert "INVALID_PERSON_CODE=24" in result.stdout
    assert households.loc[HOUSEHOLD, "status"] == "REVIEW"
    assert "INVALID_PERSON_CODE" in households.loc[HOUSEHOLD, "review_reasons"]
    assert review_count(result.stdout) >= 1


def test_a_quarantined_benefit_sends_its_household_to_review(tmp_path):
    def alter(base: Path) -> None:
        for path in sorted((base / "vsaa").glob("*.xml")):
            text = path.read_text(encoding="utf-8")
            first = re.search(r"<PersonCode>(\d{11})</PersonCode>", text).group(1)
            path.write_text(text.replace(f"<PersonCode>{first}<", f"<PersonCode>{first} <"), encoding="utf-8")
            alter.codes.append(first)  # type: ignore[attr-defined]
    alter.codes = []  # type: ignore[attr-defined]
    result, households = run(tmp_path, alter)
    persons = "".join(p.read_text(encoding="utf-8") for p in sorted((tmp_path / "inbox" / P / "pmlp").glob("*")))
    for code in alter.codes:  # type: ignore[attr-defined]
        written = f"{code[:6]}-{code[6:]}"
        address = re.search(rf"<PersonCode>{written}</PersonCode>.*?<AddressCode>(\d+)<", persons).group(1)
        assert households.loc[address, "status"] == "REVIEW", code


def test_quarantined_income_that_matches_nobody_is_counted_in_the_run_summary(tmp_path):
    result, _ = run(tmp_path, lambda base: replace_in(
        base / "vid" / "income_02.xml", f"<PersonCode>{CODE}<", "<PersonCode>X12<"))
    match = re.search(r"(\d+) quarantined income or benefit records match no counted person", result.stdout)
    assert match and int(match.group(1)) >= 24
    summary = (tmp_path / "work" / P / "decisions" / "decision.json").read_text(encoding="utf-8")
    assert '"unmatched_income_records": ' in summary
