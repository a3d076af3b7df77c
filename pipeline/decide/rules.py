"""The rules of CONTRACTS §9 (with the §3 and §4 clauses they lean on), one pure function each.

This is where an auditor finds "the 12-month window" or "average ≤ threshold": each function is named after its
clause and quotes it. No I/O, no pandas: plain values in, plain values out, money exact (integer cents or
`Fraction`, never float). The code that runs the month states the same clauses as named DuckDB queries
(`decide/income.py`, `households.py`, `connections.py`, each quoting its clause) and calls `is_counting_person`,
`income_window`, `display_cents` and `connection_support_types` as they are; a property test
(`tests/integration/test_rules_property.py`) rebuilds every decision from these functions alone and compares.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

ELIGIBLE, NOT_ELIGIBLE, REVIEW = "ELIGIBLE", "NOT_ELIGIBLE", "REVIEW"

SUPPORT_ORDER = ("ELECTRICITY_BASE", "ELECTRICITY_HEATING", "GAS_HEATING", "DISTRICT_HEAT", "DECENTRALISED_FUEL")
COMMODITY_SUPPORT = {
    "electricity": ("ELECTRICITY_BASE", "ELECTRICITY_HEATING"),
    "gas": ("GAS_HEATING",),
    "heat": ("DISTRICT_HEAT",),
}


# ---------------------------------------------------------------- who counts, and in which household
def is_counting_person(status: Any, vital: Any) -> Any:
    """§3: "Only `ACTIVE` + `ALIVE` persons count."

    Element-wise: two strings give a bool, two arrays (or Series) give a mask."""
    return (status == "ACTIVE") & (vital == "ALIVE")


def household_members(persons: Iterable[tuple[str, str, str, str]]) -> dict[str, list[str]]:
    """§9: "Household = all counting persons (§3) with the same `AddressCode`. Member count ≥ 1."

    `persons`: (person, aris_code, status, vital). Returns aris_code -> its counting persons; an address where
    nobody counts has no household."""
    households: dict[str, list[str]] = {}
    for person, aris_code, status, vital in persons:
        if is_counting_person(status, vital):
            households.setdefault(aris_code, []).append(person)
    return households


# ---------------------------------------------------------------- income
def income_window(period: int, months: int = 12) -> tuple[int, int]:
    """§9: "Income window for P: the 12 calendar months `P-12 … P-1`."

    Month indices (`pipeline.period`), first and last inclusive; the policy may set another length."""
    return period - months, period - 1


@dataclass(frozen=True)
class IncomeDocument:
    """One VID document version as the correction and spreading rules see it (§4)."""

    document_id: str
    person: str
    start: int                 # month index of PeriodStart
    end: int                   # month index of PeriodEnd (inclusive)
    amount_cents: int
    submitted_at: str          # ISO date-time: compares in time order
    file: str = ""
    record: int = 0


def latest_versions(documents: Iterable[IncomeDocument]) -> list[IncomeDocument]:
    """§4: "The same `DocumentId` more than once = a correction: the one with the latest `SubmittedAt` wins."

    Two versions submitted at the same second: the later one in the extract (file name, then record) wins, so the
    choice never depends on the order the files were read in."""
    chosen: dict[str, IncomeDocument] = {}
    for document in documents:
        seen = chosen.get(document.document_id)
        if seen is None or (document.submitted_at, document.file, document.record) > (
                seen.submitted_at, seen.file, seen.record):
            chosen[document.document_id] = document
    return list(chosen.values())


def window_share(amount_cents: int, start: int, end: int, first: int, last: int) -> Fraction:
    """§4: "An amount is spread evenly over the months from `PeriodStart` to `PeriodEnd`; only months inside the
    window count."

    Exact: each month gets amount/n (not always a whole cent), and the window keeps its months' shares."""
    inside = max(0, min(end, last) - max(start, first) + 1)
    return Fraction(amount_cents * inside, end - start + 1)


def average_income(total_cents: Fraction | int, window_months: int, members: int) -> Fraction:
    """§9: "`avg_income = (Σ VID income in window + Σ VSAA in window) / 12 / members`", exact, in cents."""
    return Fraction(total_cents) / window_months / members


def is_income_eligible(total: Any, members: Any, threshold_cents: int, window_months: int, scale: int = 1) -> Any:
    """§9: "compare unrounded. Eligible when `avg_income <= income_threshold_eur`." (and "Member count ≥ 1")

    `total / scale / window / members <= threshold` multiplied out, so it is decided in integers (or Fractions)
    with nothing rounded: `total <= threshold × window × members × scale`. `scale` is the common denominator the
    fast path keeps totals over. Element-wise on numpy arrays."""
    return (members >= 1) & (total <= threshold_cents * window_months * scale * members)


def display_cents(numerator: Any, denominator: Any = 1) -> Any:
    """§9: "in EUR, rounded half-up to cents only for display".

    Non-negative numerator/denominator (cents) rounded half-up to whole cents, in integers; element-wise."""
    return (2 * numerator + denominator) // (2 * denominator)


def household_status(income_eligible: bool, member_data_quarantined: bool) -> str:
    """§9: "Household status: `ELIGIBLE`, `NOT_ELIGIBLE`, or `REVIEW` (a member's data is quarantined; never
    flagged, listed for staff)." """
    if member_data_quarantined:
        return REVIEW
    return ELIGIBLE if income_eligible else NOT_ELIGIBLE


# ---------------------------------------------------------------- support types
def heat_index(gas: Decimal, woodchip: Decimal) -> Decimal:
    """§9: "Heat index = (GAS + WOODCHIP) / 2. Decentralised fuel uses the heat index." """
    return (gas + woodchip) / 2


def in_heating_season(month_of_year: int, season_months: Iterable[int]) -> bool:
    """§9: "P in the heating season Oct–Apr" (the months come from the policy)."""
    return month_of_year in set(season_months)


def support_types_on(month_of_year: int, prices: Mapping[str, Decimal], thresholds: Mapping[str, Decimal],
                     season_months: Iterable[int]) -> list[str]:
    """§9: "Support types on for P, from the policy and §7 prices: `ELECTRICITY_BASE` (price > threshold, any
    month), `ELECTRICITY_HEATING`, `GAS_HEATING`, `DISTRICT_HEAT`, `DECENTRALISED_FUEL` (each: price index >
    threshold and P in the heating season Oct–Apr)."

    `prices`: P's ELECTRICITY, GAS and WOODCHIP (EUR/MWh); `thresholds`: electricity, gas, heat (and optionally
    decentralised_fuel, else the heat threshold). Strictly greater: a price equal to its threshold leaves the type
    off. Returned in §9 order."""
    season = in_heating_season(month_of_year, season_months)
    heat = heat_index(prices["GAS"], prices["WOODCHIP"])
    electricity_high = prices["ELECTRICITY"] > thresholds["electricity"]
    on = {
        "ELECTRICITY_BASE": electricity_high,
        "ELECTRICITY_HEATING": electricity_high and season,
        "GAS_HEATING": prices["GAS"] > thresholds["gas"] and season,
        "DISTRICT_HEAT": heat > thresholds["heat"] and season,
        "DECENTRALISED_FUEL": heat > thresholds.get("decentralised_fuel", thresholds["heat"]) and season,
    }
    return [name for name in SUPPORT_ORDER if on[name]]


def connection_support_types(commodity: str, support_on: Iterable[str]) -> str:
    """§10: "`support_types`: for an eligible object the types on for P for that commodity, `|`-joined in the order
    §9 lists them" (the caller leaves it empty for a non-eligible object)."""
    on = set(support_on)
    return "|".join(name for name in COMMODITY_SUPPORT[commodity] if name in on)


# ---------------------------------------------------------------- connections
def building_of(aris_code: str, building_code: str | None) -> str:
    """The building a household lives in (§2): the parent building of a premises (109), the code itself for a
    building (108); an address with no building in ARIS stands for itself."""
    return building_code or aris_code


def eligible_dwellings(connection_kind: str, status: str, eligible_at_code: int, eligible_in_building: int) -> int:
    """§9: "An `INDIVIDUAL` connection is eligible when its `aris_code` holds an `ELIGIBLE` household. A `COMMON`
    connection at a building code is eligible when any `ELIGIBLE` household lives at the building code or at a
    premises (type 109) under it; `eligible_dwellings` counts them." §10: "1 or 0 for an INDIVIDUAL one";
    §6/README: a `DISCONNECTED` object is never flagged.

    `eligible_at_code`: ELIGIBLE households at the connection's exact code; `eligible_in_building`: ELIGIBLE
    households whose `building_of` is the connection's code."""
    if status != "ACTIVE":
        return 0
    if connection_kind == "COMMON":
        return eligible_in_building
    return min(eligible_at_code, 1)


def is_connection_eligible(dwellings: int) -> bool:
    """§10: "`eligible` 1/0": an object is eligible when it serves at least one ELIGIBLE dwelling."""
    return dwellings > 0
