"""Coverage (CONTRACTS §17) on a hand-made month: `unreached.csv` is exactly the eligible addresses that no active
connection reaches (their own INDIVIDUAL one, or for an apartment its building's COMMON one), per municipality;
`summaries/coverage.csv` counts them; the run report shows them; nothing else in the outbox changes.

P = 2025-01, minimal policy (threshold 500.00). Rīga (100003003) holds two blocks of flats; Valmieras nov.
(100016647) the houses. Every household below is ELIGIBLE (no income) unless it says otherwise.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from pipeline.config import Settings
from pipeline.csvio import read_rows
from pipeline.flows.monthly import run_month
from tests.builders import InboxBuilder, months
from tests.conftest import MINIMAL_POLICY

P = "2025-01"
RIGA, VALMIERA = "100003003", "100016647"
OWN_LINE, DISCONNECTED_ONLY, COMMON_HOUSE, RICH, FORMULA = 101000001, 101000002, 101000003, 101000004, 101000005
GAS_HOUSE = 101000006
BLOCK, FLAT_HEATED = 101100001, 105000001
BLOCK_2, FLAT_BUILDING_LINE, FLAT_OWN_GAS, FLAT_DISCONNECTED_COMMON = 101100002, 105000002, 105000003, 105000004


def build_month() -> InboxBuilder:
    b = InboxBuilder(P)
    b.standard_tree()
    for code, name in ((OWN_LINE, "Ozoli"), (DISCONNECTED_ONLY, "Liepas"), (COMMON_HOUSE, "Kalni"), (RICH, "Lejas"),
                       (GAS_HOUSE, "Priedes")):
        b.house(code, name)
    b.address(FORMULA, 108, 100015122, 105, "Formula", '=HYPERLINK("http://x","y"), Vecates pag.')
    b.building(BLOCK, "1")
    b.apartment(FLAT_HEATED, BLOCK, "1")
    b.building(BLOCK_2, "2")
    b.apartment(FLAT_BUILDING_LINE, BLOCK_2, "1")
    b.apartment(FLAT_OWN_GAS, BLOCK_2, "2")
    b.apartment(FLAT_DISCONNECTED_COMMON, BLOCK_2, "3")
    serial = iter(range(1, 100))
    for code in (OWN_LINE, DISCONNECTED_ONLY, COMMON_HOUSE, FORMULA, GAS_HOUSE, BLOCK, FLAT_HEATED,
                 FLAT_BUILDING_LINE, FLAT_OWN_GAS, FLAT_DISCONNECTED_COMMON):
        b.person(next(serial), code)
    rich = b.person(next(serial), RICH)
    b.monthly(rich, "2000.00", months("2024-01", 12))                           # NOT_ELIGIBLE, unreached
    b.benefit(rich, "10.00", ["2024-06"])

    b.connection("electricity", "E1", OWN_LINE)                                   # own INDIVIDUAL: reached
    b.connection("electricity", "E2", DISCONNECTED_ONLY, status="DISCONNECTED")  # disconnected: not reached
    b.connection("heat", "H1", COMMON_HOUSE, kind="COMMON", company=('AS "Siltums"', "40003286750"))  # at itself
    b.connection("gas", "G1", GAS_HOUSE, company=('AS "Gaso"', "40203108921"))
    b.connection("heat", "H2", BLOCK, kind="COMMON", company=('AS "Siltums"', "40003286750"))  # BLOCK and its flat
    b.connection("electricity", "E3", BLOCK_2)          # INDIVIDUAL at the building: reaches no flat under it
    b.connection("gas", "G2", FLAT_OWN_GAS, company=('AS "Gaso"', "40203108921"))
    b.connection("gas", "G3", BLOCK_2, kind="COMMON", status="DISCONNECTED", company=('AS "Gaso"', "40203108921"))
    b.price(P, electricity="150.01", gas="60.01", woodchip="90.00")
    return b


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("coverage")
    build_month().write(root / "inbox")
    settings = Settings(pseudonym_secret=b"test-secret", workers=1, data_docs=False)
    run_month(P, root / "inbox", root / "outbox", MINIMAL_POLICY, root / "work", settings)
    return root


def unreached(root: Path, municipality: str) -> list[dict[str, str]]:
    path = root / "outbox" / P / "municipalities" / municipality / "unreached.csv"
    return [row for _, row in read_rows(path, ("aris_code", "address"))]


def test_unreached_rows_are_exactly_the_eligible_addresses_without_an_active_connection(month):
    # reached: OWN_LINE (own line), COMMON_HOUSE (common at itself), GAS_HOUSE, BLOCK and FLAT_HEATED (the
    # building's common heat), FLAT_OWN_GAS; not: the disconnected line, the flat under an INDIVIDUAL building
    # line, the flat under a DISCONNECTED common line, the formula address; RICH is not eligible.
    assert [row["aris_code"] for row in unreached(month, VALMIERA)] == [str(DISCONNECTED_ONLY), str(FORMULA)]
    assert [row["aris_code"] for row in unreached(month, RIGA)] == [str(FLAT_BUILDING_LINE),
                                                                    str(FLAT_DISCONNECTED_COMMON)]
    households = pd.read_parquet(month / "work" / P / "decisions" / "households.parquet").set_index("aris_code")
    for row in unreached(month, VALMIERA) + unreached(month, RIGA):
        assert households.loc[row["aris_code"], "status"] == "ELIGIBLE"
        expected = households.loc[row["aris_code"], "address"]
        assert row["address"] in (expected, "'" + expected)     # formula-neutralised where it must be


def test_an_address_that_looks_like_a_formula_is_neutralised(month):
    formula = next(row for row in unreached(month, VALMIERA) if row["aris_code"] == str(FORMULA))
    assert formula["address"].startswith("'=HYPERLINK(")


def test_coverage_counts_per_municipality(month):
    text = (month / "work" / P / "summaries" / "coverage.csv").read_text(encoding="utf-8")
    assert text.splitlines() == [
        "municipality;eligible_households;with_electricity;with_gas;with_heat;with_none",
        f"{RIGA};5;0;1;2;2",
        f"{VALMIERA};5;1;1;1;2",
    ]


def test_every_municipality_gets_unreached_csv_in_the_manifest(month):
    manifest = json.loads((month / "outbox" / P / "manifest.json").read_text(encoding="utf-8"))
    listed = {item["path"]: item["rows"] for item in manifest["files"] if item["path"].endswith("unreached.csv")}
    assert listed == {f"municipalities/{RIGA}/unreached.csv": 2, f"municipalities/{VALMIERA}/unreached.csv": 2}


def test_report_shows_coverage_as_the_first_month(month):
    report = (month / "work" / P / "report" / "report.md").read_text(encoding="utf-8")
    assert "**4 (40.0 %) are reached by no list**" in report
    assert "First month with coverage counted" in report


def test_report_shows_the_trend_against_the_previous_month_in_the_store(tmp_path):
    """Two months in one store: the second report compares its unreached households with the first's."""
    settings = Settings(pseudonym_secret=b"test-secret", workers=1, data_docs=False, quarantine_tolerance=0.5)
    db = f"sqlite:///{tmp_path / 'store.sqlite'}"
    first = build_month()
    first.period = "2024-12"
    first.price("2024-12", electricity="150.01", gas="60.01", woodchip="90.00")
    first.write(tmp_path / "inbox")
    run_month("2024-12", tmp_path / "inbox", tmp_path / "outbox", MINIMAL_POLICY, tmp_path / "work", settings, db)
    second = build_month()
    second.connection("electricity", "E9", DISCONNECTED_ONLY)            # reached this month
    second.write(tmp_path / "inbox")
    run_month(P, tmp_path / "inbox", tmp_path / "outbox", MINIMAL_POLICY, tmp_path / "work", settings, db,
              accept_anomaly="test: one more connection")
    report = (tmp_path / "work" / P / "report" / "report.md").read_text(encoding="utf-8")
    assert "Against 2024-12 (4 of 10): -1 households reached by no list." in report
    assert "| 2024-12 | 10 | 4 | 40.0 % |" in report
    assert "| 2025-01 | 10 | 3 | 30.0 % |" in report
