"""`eikis simulate` (CONTRACTS §17) on the bundled sample month: the baseline equals the monthly run's own counts,
raising only the threshold never makes an eligible household ineligible (Hypothesis), small cells are suppressed,
and no output names an address, an address code or a person."""

from __future__ import annotations

import dataclasses
import re
import shutil
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.catalog import CONNECTION_COMMODITIES
from pipeline.config import Settings, WorkLayout
from pipeline.csvio import read_rows
from pipeline.decide.simulate import Row, Variant, simulate_month
from pipeline.flows.monthly import run_month
from pipeline.flows.simulate import policy_of, simulate
from pipeline.publish.simulation import COLUMNS, suppressed_rows
from tests.cli import eikis, one_line_error
from tests.conftest import ROOT

P = "2026-11"
POLICY = ROOT / "policy" / "eikis_policy.yaml"
VARIANTS = [("threshold_minus_10", ROOT / "policy" / "variants" / "threshold_minus_10.yaml"),
            ("threshold_plus_10", ROOT / "policy" / "variants" / "threshold_plus_10.yaml")]
COUNT_COLUMNS = ("households", "eligible_households", "newly_eligible", "no_longer_eligible")


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("simulate")
    shutil.copytree(ROOT / "sample_data" / "inbox" / P, root / "inbox" / P)
    run_month(P, root / "inbox", root / "outbox", POLICY, root / "work",
              Settings(pseudonym_secret=b"test-secret", workers=1, data_docs=False))
    simulate(P, root / "work", POLICY, VARIANTS, root / "sim")
    return root


def published(root: Path) -> dict[tuple[str, str, str], dict[str, str]]:
    rows = read_rows(root / "sim" / P / "simulation.csv", COLUMNS)
    return {(row["variant"], row["breakdown"], row["group"]): row for _, row in rows}


def raw_baseline(root: Path) -> dict[tuple[str, str], Row]:
    variants = [Variant("baseline", *policy_of(POLICY, P))]
    month = simulate_month(WorkLayout(root / "work", P), variants)
    return {(row.breakdown, row.group): row for row in month.rows}


def test_the_baseline_equals_the_monthly_runs_own_counts(month):
    decided = month / "work" / P / "decisions"
    households = pd.read_parquet(decided / "households.parquet")
    eligible = households.loc[households["status"] == "ELIGIBLE"]
    dwellings = {c: int(pd.read_parquet(decided / f"{c}.parquet")["eligible_dwellings"].sum())
                 for c in CONNECTION_COMMODITIES}
    raw = raw_baseline(month)
    total = raw[("total", "")]
    assert (total.households, total.eligible_households, total.eligible_persons) == (
        len(households), len(eligible), int(eligible["members"].sum()))
    assert total.dwellings == dwellings
    assert (total.newly_eligible, total.no_longer_eligible) == (0, 0)
    per_municipality = eligible.groupby("municipality_code").size()
    for code, count in per_municipality.items():
        assert raw[("municipality", code)].eligible_households == count
    # and the published total shows the same numbers wherever they are 5 or more
    row = published(month)[("baseline", "total", "")]
    assert row["households"] == str(len(households)) and row["eligible_households"] == str(len(eligible))
    assert row["eligible_dwellings_electricity"] == str(dwellings["electricity"])
    assert row["estimated_compensation_eur"] == f"{Decimal(10) * dwellings['electricity']:.2f}"  # 0.10 EUR × 100 kWh


def test_every_breakdown_is_written_for_every_variant(month):
    rows = published(month)
    for variant in ("baseline", "threshold_minus_10", "threshold_plus_10"):
        assert (variant, "total", "") in rows
        assert {group for v, b, group in rows if v == variant and b == "household_size"} == {"1", "2", "3", "4", "5+"}
        assert {group for v, b, group in rows if v == variant and b == "income_decile"} == {str(d) for d in
                                                                                          range(1, 11)}


def test_raising_the_threshold_adds_and_lowering_it_removes_households(month):
    rows = published(month)
    assert int(rows[("threshold_plus_10", "total", "")]["eligible_households"]) > \
        int(rows[("baseline", "total", "")]["eligible_households"]) > \
        int(rows[("threshold_minus_10", "total", "")]["eligible_households"])


def test_no_household_count_under_5_is_published(month):
    for row in published(month).values():
        for column in COUNT_COLUMNS:
            assert row[column] == "<5" or int(row[column]) >= 5, (row, column)


def test_no_output_names_an_address_an_address_code_or_a_person(month):
    staged = month / "work" / P / "staging"
    register = pq.read_table(staged / "aris.parquet", columns=["aris_code", "type_code", "address",
                                                               "municipality_code"]).to_pandas()
    municipalities = set(register["municipality_code"].dropna())
    codes = set(register["aris_code"]) - municipalities      # a municipality's code is its group in the breakdown
    dwellings = register.loc[register["type_code"].isin([107, 108, 109]), "address"].dropna()
    persons = pq.read_table(staged / "pmlp.parquet", columns=["person_code"]).to_pandas()["person_code"]
    for name in ("simulation.csv", "simulation.html"):
        text = (month / "sim" / P / name).read_text(encoding="utf-8")
        assert not set(re.findall(r"\d{9}", text)) & codes, name
        assert not [address for address in dwellings if address in text], name
        assert not [code for code in persons.dropna() if code.replace("-", "") in text.replace("-", "")], name


def test_the_page_is_self_contained(month):
    page = (month / "sim" / P / "simulation.html").read_text(encoding="utf-8")
    assert "<svg" in page and "<script" not in page and "http://" not in page and "https://" not in page


def _row(group: str, households: int, eligible: int, newly: int = 0, no_longer: int = 0) -> Row:
    return Row("v", "municipality", group, households, eligible, eligible * 2, {c: eligible for c in
               CONNECTION_COMMODITIES}, {c: eligible for c in CONNECTION_COMMODITIES}, eligible * 10_000_000,
               eligible, newly, no_longer)


def test_suppression_hides_small_cells_and_what_would_give_them_back():
    total = dataclasses.replace(_row("", 60, 25, newly=7, no_longer=0), breakdown="total")
    rows = suppressed_rows([total, _row("a", 20, 3, newly=3), _row("b", 20, 9, newly=4),
                            _row("c", 20, 13, newly=0)])
    by_group = {row["group"]: row for row in rows}
    # 3 eligible is suppressed; 9, the next smallest, goes with it (25 - 13 would otherwise give 12, not 3 + 9)
    assert [by_group[g]["eligible_households"] for g in "abc"] == ["<5", "<5", "13"]
    assert [by_group[g]["eligible_persons"] for g in "abc"] == ["<5", "<5", "26"]
    assert [by_group[g]["estimated_compensation_eur"] for g in "abc"] == ["<5", "<5", "130.00"]
    # a zero is written <5 too, but needs no cover: newly 3 and 4 both hidden, 0 hidden; no_longer all zero
    assert [by_group[g]["newly_eligible"] for g in "abc"] == ["<5", "<5", "<5"]
    assert by_group[""]["newly_eligible"] == "7" and by_group[""]["households"] == "60"


def test_one_of_newly_and_no_longer_hidden_hides_the_other():
    rows = suppressed_rows([dataclasses.replace(_row("", 60, 25, newly=12, no_longer=2), breakdown="total")])
    assert (rows[0]["newly_eligible"], rows[0]["no_longer_eligible"]) == ("<5", "<5")
    rows = suppressed_rows([dataclasses.replace(_row("", 60, 25, newly=12, no_longer=0), breakdown="total")])
    assert (rows[0]["newly_eligible"], rows[0]["no_longer_eligible"]) == ("12", "<5")


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(base=st.integers(min_value=0, max_value=150_000), raise_by=st.integers(min_value=0, max_value=60_000))
def test_raising_only_the_threshold_never_makes_an_eligible_household_ineligible(month, base, raise_by):
    policy, rates = policy_of(POLICY, P)
    low = dataclasses.replace(policy, income_threshold_eur=Decimal(base) / 100)
    high = dataclasses.replace(policy, income_threshold_eur=Decimal(base + raise_by) / 100)
    simulated = simulate_month(WorkLayout(month / "work", P), [Variant("baseline", low, rates),
                                                                Variant("higher", high, rates)])
    before, after = (one.eligible for one in simulated.decided)
    assert not (before & ~after).any()
    assert all(row.no_longer_eligible == 0 for row in simulated.rows)


def test_the_command_line_simulates_and_refuses_bad_variants_in_one_line(month, tmp_path):
    ok = eikis("simulate", "--period", P, "--workdir", month / "work", "--policy", POLICY,
               "--variant", f"plus={VARIANTS[1][1]}", "--out", tmp_path / "out")
    assert ok.returncode == 0, ok.stderr[-2000:]
    assert "simulation.csv and simulation.html" in ok.stdout and (tmp_path / "out" / P / "simulation.csv").exists()
    bad_name = eikis("simulate", "--period", P, "--workdir", month / "work", "--policy", POLICY,
                     "--variant", f"baseline={VARIANTS[1][1]}", "--out", tmp_path / "out2")
    assert "variant name 'baseline'" in one_line_error(bad_name)
    not_ingested = eikis("simulate", "--period", "2026-10", "--workdir", month / "work", "--policy", POLICY,
                         "--variant", f"plus={VARIANTS[1][1]}", "--out", tmp_path / "out3")
    assert "2026-10 is not ingested here" in one_line_error(not_ingested)
    assert not (tmp_path / "out2" / P).exists() and not (tmp_path / "out3" / "2026-10").exists()
