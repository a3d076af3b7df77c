"""Each CONTRACTS §9 rule function on a small hand-computed table (`pipeline.decide.rules`)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest

from pipeline.decide import rules
from pipeline.decide.rules import ELIGIBLE, NOT_ELIGIBLE, REVIEW, IncomeDocument
from pipeline.period import parse_month

P = parse_month("2025-01")


@pytest.mark.parametrize(("period", "months", "first", "last"), [
    ("2025-01", 12, "2024-01", "2024-12"),
    ("2026-11", 12, "2025-11", "2026-10"),
    ("2025-03", 3, "2024-12", "2025-02"),
])
def test_income_window_is_the_months_before_p(period, months, first, last):
    assert rules.income_window(parse_month(period), months) == (parse_month(first), parse_month(last))


@pytest.mark.parametrize(("status", "vital", "counts"), [
    ("ACTIVE", "ALIVE", True), ("ACTIVE", "DECEASED", False), ("INACTIVE", "ALIVE", False),
    ("INACTIVE", "DECEASED", False),
])
def test_only_active_and_alive_persons_count(status, vital, counts):
    assert rules.is_counting_person(status, vital) is counts


def test_counting_person_works_element_wise_for_the_fast_path():
    mask = rules.is_counting_person(np.array(["ACTIVE", "ACTIVE", "INACTIVE"]), np.array(["ALIVE", "DECEASED",
                                                                                          "ALIVE"]))
    assert mask.tolist() == [True, False, False]


def test_household_is_every_counting_person_at_one_address():
    persons = [("a", "101", "ACTIVE", "ALIVE"), ("b", "101", "ACTIVE", "ALIVE"), ("c", "101", "INACTIVE", "ALIVE"),
               ("d", "102", "ACTIVE", "DECEASED"), ("e", "103", "ACTIVE", "ALIVE")]
    assert rules.household_members(persons) == {"101": ["a", "b"], "103": ["e"]}   # nobody counts at 102


def _doc(document_id: str, submitted: str, file: str = "a.xml", record: int = 1, cents: int = 100) -> IncomeDocument:
    return IncomeDocument(document_id, "p", P - 1, P - 1, cents, submitted, file, record)


def test_latest_submitted_version_of_a_document_wins():
    versions = [_doc("D1", "2024-03-01T09:00:00", cents=1), _doc("D1", "2024-02-15T10:00:00", "b.xml", cents=2),
                _doc("D2", "2024-01-01T00:00:00", cents=3)]
    assert sorted(d.amount_cents for d in rules.latest_versions(versions)) == [1, 3]


def test_same_second_correction_goes_to_the_later_record_in_file_order():
    versions = [_doc("D1", "2024-03-01T09:00:00", "b.xml", 1, cents=2),
                _doc("D1", "2024-03-01T09:00:00", "a.xml", 7, cents=1)]
    assert [d.amount_cents for d in rules.latest_versions(versions)] == [2]
    assert [d.amount_cents for d in rules.latest_versions(reversed(versions))] == [2]


@pytest.mark.parametrize(("cents", "start", "end", "share"), [
    (120000, "2024-01", "2024-01", Fraction(120000)),          # inside
    (1000000, "2023-12", "2023-12", Fraction(0)),              # P-13: outside
    (1000000, "2025-01", "2025-01", Fraction(0)),              # P itself: outside
    (1200012, "2023-07", "2024-06", Fraction(600006)),         # 6 of 12 months
    (37, "2024-12", "2025-02", Fraction(37, 3)),               # one third of 37 cents: not rounded
    (100, "2023-01", "2026-12", Fraction(100 * 12, 48)),       # spread wider than the window
])
def test_window_share_spreads_evenly_and_keeps_window_months(cents, start, end, share):
    first, last = rules.income_window(P)
    assert rules.window_share(cents, parse_month(start), parse_month(end), first, last) == share


@pytest.mark.parametrize(("total", "members", "eligible"), [
    (Fraction(600000), 1, True),                 # avg exactly 500.00
    (Fraction(600001), 1, False),                # avg 500.000083…: shows as 500.00, still over
    (Fraction(599988) + Fraction(37, 3), 1, False),  # 6000.00333… over 12 months
    (Fraction(1200000), 2, True),                # 2 members, avg 500.00
    (Fraction(0), 0, False),                     # no member: no household to flag
    (Fraction(0), 1, True),
])
def test_eligibility_compares_the_unrounded_average(total, members, eligible):
    assert rules.is_income_eligible(total, members, 50000, 12) is eligible
    if members:
        assert (rules.average_income(total, 12, members) <= 50000) is eligible


def test_eligibility_works_on_scaled_integer_arrays_for_the_fast_path():
    # scale 3: totals are thirds of a cent; 1800000/3 = 600000 cents is exactly 12 × 500.00
    totals = np.array([1800000, 1800001, 3600000], dtype=np.int64)
    members = np.array([1, 1, 2], dtype=np.int64)
    assert rules.is_income_eligible(totals, members, 50000, 12, scale=3).tolist() == [True, False, True]


@pytest.mark.parametrize(("numerator", "denominator", "cents"), [
    (1, 2, 1), (49, 100, 0), (50, 100, 1), (600001, 12, 50000), (6000037, 12, 500003), (0, 7, 0)])
def test_display_rounds_half_up_to_cents(numerator, denominator, cents):
    assert rules.display_cents(numerator, denominator) == cents


@pytest.mark.parametrize(("eligible", "quarantined", "status"), [
    (True, False, ELIGIBLE), (False, False, NOT_ELIGIBLE), (True, True, REVIEW), (False, True, REVIEW)])
def test_household_status(eligible, quarantined, status):
    assert rules.household_status(eligible, quarantined) == status


def test_heat_index_is_the_mean_of_gas_and_woodchip():
    assert rules.heat_index(Decimal("60.00"), Decimal("80.00")) == Decimal("70")
    assert rules.heat_index(Decimal("60.01"), Decimal("80.00")) == Decimal("70.005")


THRESHOLDS = {"electricity": Decimal(150), "gas": Decimal(60), "heat": Decimal(70)}
SEASON = (10, 11, 12, 1, 2, 3, 4)


def _prices(electricity: str, gas: str, woodchip: str) -> dict[str, Decimal]:
    return {"ELECTRICITY": Decimal(electricity), "GAS": Decimal(gas), "WOODCHIP": Decimal(woodchip)}


@pytest.mark.parametrize(("month", "prices", "on"), [
    (1, _prices("150.01", "60.00", "80.00"), ["ELECTRICITY_BASE", "ELECTRICITY_HEATING"]),   # index 70 = threshold
    (6, _prices("150.01", "90.00", "90.00"), ["ELECTRICITY_BASE"]),                          # off season
    (1, _prices("150.00", "60.01", "80.00"),
     ["GAS_HEATING", "DISTRICT_HEAT", "DECENTRALISED_FUEL"]),                                 # index 70.005
    (4, _prices("200", "61", "0"), ["ELECTRICITY_BASE", "ELECTRICITY_HEATING", "GAS_HEATING"]),
    (5, _prices("100", "100", "100"), []),
])
def test_support_types_on(month, prices, on):
    assert rules.support_types_on(month, prices, THRESHOLDS, SEASON) == on


def test_decentralised_fuel_has_its_own_threshold_when_the_policy_gives_one():
    thresholds = {**THRESHOLDS, "decentralised_fuel": Decimal(80)}
    assert rules.support_types_on(1, _prices("0", "75", "75"), thresholds, SEASON) == ["GAS_HEATING",
                                                                                      "DISTRICT_HEAT"]


@pytest.mark.parametrize(("commodity", "on", "types"), [
    ("electricity", ["ELECTRICITY_BASE", "ELECTRICITY_HEATING", "GAS_HEATING"], "ELECTRICITY_BASE|ELECTRICITY_HEATING"),
    ("electricity", ["ELECTRICITY_HEATING"], "ELECTRICITY_HEATING"),
    ("gas", ["ELECTRICITY_BASE"], ""),
    ("heat", ["DECENTRALISED_FUEL", "DISTRICT_HEAT"], "DISTRICT_HEAT"),
])
def test_connection_support_types_for_its_commodity_in_section_9_order(commodity, on, types):
    assert rules.connection_support_types(commodity, on) == types


@pytest.mark.parametrize(("kind", "status", "at_code", "in_building", "dwellings"), [
    ("INDIVIDUAL", "ACTIVE", 1, 1, 1),
    ("INDIVIDUAL", "ACTIVE", 0, 3, 0),
    ("INDIVIDUAL", "ACTIVE", 2, 2, 1),          # an INDIVIDUAL connection is 1 or 0
    ("COMMON", "ACTIVE", 1, 3, 3),              # the building's own household and two premises
    ("COMMON", "ACTIVE", 0, 0, 0),
    ("COMMON", "DISCONNECTED", 1, 3, 0),        # never flagged
    ("INDIVIDUAL", "DISCONNECTED", 1, 1, 0),
])
def test_eligible_dwellings_of_a_connection(kind, status, at_code, in_building, dwellings):
    assert rules.eligible_dwellings(kind, status, at_code, in_building) == dwellings
    assert rules.is_connection_eligible(dwellings) is (dwellings > 0)


@pytest.mark.parametrize(("code", "building", "result"), [
    ("105000001", "101100001", "101100001"),    # premises: its building
    ("101100001", "101100001", "101100001"),    # building: itself
    ("100306223", None, "100306223"),           # no building in ARIS: itself
])
def test_building_of_a_household(code, building, result):
    assert rules.building_of(code, building) == result
