"""Issue 9 point 2 end to end: formulas in ARIS address texts and in suppliers' rows reach no recipient file
unneutralised (municipality, DSO, trader, heat files and address errors)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from pipeline.csvio import ContractDialect
from tests.builders import InboxBuilder, months, person_code
from tests.cli import eikis
from tests.conftest import MINIMAL_POLICY

P = "2025-01"
HYPERLINK = '=HYPERLINK("http://x","y")'


def test_no_recipient_cell_can_be_evaluated_by_a_spreadsheet(tmp_path: Path):
    b = InboxBuilder(P)
    b.standard_tree()
    home = b.address(101000001, 108, 100015122, 105, "Ozoli", HYPERLINK)
    b.person(1, home)
    b.monthly(person_code(1), "100.00", months("2024-01", 12))
    b.benefit(person_code(1), "10.00", months("2024-01", 12))
    b.connection("electricity", "@SUM(1+1)", home, address="=1+2")
    b.connection("electricity", "-2+3", "199999999", address="+cmd|' /C calc'!A0")
    b.connection("gas", "G1", home, address="\t=1+2")
    b.connection("heat", "H1", home, address="-2+3", company=('AS "Rīgas siltums"', "40003286750"))
    b.price(P, electricity="150.01", gas="60.01", woodchip="80.00")
    b.write(tmp_path / "inbox")
    result = eikis("run", "--period", P, "--inbox", tmp_path / "inbox", "--outbox", tmp_path / "out", "--policy",
                   MINIMAL_POLICY, "--workdir", tmp_path / "work", "--no-db")
    assert result.returncode == 0, result.stderr
    seen: set[str] = set()
    for path in sorted((tmp_path / "out" / P).rglob("*.csv")):
        rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline=""), dialect=ContractDialect))
        for row in rows:
            for cell in row:
                seen.add(cell)
                assert cell[:1] not in ("=", "+", "-", "@", "\t", "\r"), (path.name, cell)
    assert {"'" + HYPERLINK, "'@SUM(1+1)", "'=1+2", "'-2+3", "'\t=1+2"} <= seen
