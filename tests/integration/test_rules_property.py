"""The fast decision path against a plain reference built only from the §9 rule functions, on random months.

Hypothesis draws small months — persons at houses, buildings and their premises; VID documents spread over
several months, some corrected (the same DocumentId again, sometimes by another person or in another file), some
quarantined; VSAA months; INDIVIDUAL / COMMON / DISCONNECTED connections, some at unknown addresses; prices at and
around the thresholds, in and out of the heating season. Each month is written as real inbox files
(`tests.builders`), staged by the real readers and decided by `decide_period`; the reference walks the same
records with `pipeline.decide.rules` in exact `Fraction` arithmetic, one person and one connection at a time.
Anyone may optimise the fast path: this test says whether it still decides the same.
"""

from __future__ import annotations

import tempfile
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.catalog import SOURCE_ORDER
from pipeline.config import Settings
from pipeline.decide import rules
from pipeline.decide.run import decide_period
from pipeline.ingest import ingest_source
from pipeline.period import format_month, month_number, parse_month
from pipeline.policy import load_policy
from tests.builders import InboxBuilder, person_code
from tests.conftest import MINIMAL_POLICY

HOUSES = ("101000001", "101000002", "101000003")
BUILDINGS = {"101100001": ("105000001", "105000002", "105000003"), "101100002": ("105000004",)}
PREMISES = {flat: building for building, flats in BUILDINGS.items() for flat in flats}
HOMES = (*HOUSES, *BUILDINGS, *PREMISES)
CROWDED = (*HOMES, *BUILDINGS, *PREMISES, *PREMISES)       # people drawn towards buildings: COMMON counts > 1
UNKNOWN = "199999999"
COMPANY = {"electricity": ('AS "Latvenergo"', "40003032949"), "gas": ('AS "Gaso"', "40203108921"),
           "heat": ('AS "Rīgas siltums"', "40003286750")}
AMOUNTS = (0, 1, 37, 4999, 50000, 50001, 99999, 100000, 600000, 1234567)
PRICES = ("0", "59.99", "60.00", "60.01", "69.99", "70.00", "80.00", "150.00", "150.01", "200")
SUBMITTED = ("2024-01-10T08:00:00", "2024-06-01T12:30:00", "2024-06-01T12:30:00", "2025-02-01T00:00:00")
SETTINGS = Settings(pseudonym_secret=b"property-secret", workers=1, data_docs=False)


@dataclass
class Month:
    period: str
    persons: list[tuple[int, str, str, str]]                        # serial, home, status, vital
    documents: list[tuple[str, int, int, int, int, str]]            # id, serial, start, end, cents (<0: bad), at
    benefits: dict[int, dict[int, int]]                            # serial -> month -> cents
    connections: list[tuple[str, str, str, str, str]]              # commodity, object id, code, kind, status
    prices: tuple[str, str, str]                                   # electricity, gas, woodchip
    vid_files: int = 1


def cents_text(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


@st.composite
def months(draw: st.DrawFn) -> Month:
    period = draw(st.sampled_from(("2025-01", "2025-04", "2025-05", "2025-06", "2024-10")))
    p = parse_month(period)
    count = draw(st.integers(1, 9))
    persons = [(serial, draw(st.sampled_from(CROWDED)), draw(st.sampled_from(("ACTIVE", "ACTIVE", "INACTIVE"))),
                draw(st.sampled_from(("ALIVE", "ALIVE", "DECEASED")))) for serial in range(1, count + 1)]
    documents: list[tuple[str, int, int, int, int, str]] = []
    for number in range(draw(st.integers(0, 10))):
        corrects = draw(st.one_of(st.none(), st.integers(0, number - 1))) if documents else None
        document_id = documents[corrects][0] if corrects is not None else f"D{number}"
        serial = draw(st.integers(1, count + 1))                        # count + 1: a person PMLP does not know
        start = p + draw(st.integers(-15, 1))
        cents = draw(st.one_of(st.sampled_from(AMOUNTS), st.integers(0, 2_000_000), st.just(-500)))
        documents.append((document_id, serial, start, start + draw(st.integers(0, 4)), cents,
                          draw(st.sampled_from(SUBMITTED))))
    benefits = {serial: {p + offset: draw(st.sampled_from(AMOUNTS))
                         for offset in draw(st.sets(st.integers(-14, 0), max_size=4))}
                for serial in draw(st.sets(st.integers(1, count), max_size=count))}
    connections = []
    for number in range(draw(st.integers(0, 9))):
        commodity = draw(st.sampled_from(("electricity", "gas", "heat")))
        kind = draw(st.sampled_from(("INDIVIDUAL", "COMMON")))
        codes = (*HOMES, UNKNOWN) if kind == "INDIVIDUAL" else (*BUILDINGS, *BUILDINGS, *BUILDINGS, *HOMES, UNKNOWN)
        connections.append((commodity, f"O{number}", draw(st.sampled_from(codes)), kind,
                            draw(st.sampled_from(("ACTIVE", "ACTIVE", "DISCONNECTED")))))
    prices = (draw(st.sampled_from(PRICES)), draw(st.sampled_from(PRICES)), draw(st.sampled_from(PRICES)))
    return Month(period, persons, documents, benefits, connections, prices, draw(st.integers(1, 2)))


def inbox_of(month: Month) -> InboxBuilder:
    b = InboxBuilder(month.period, vid_files=month.vid_files)
    b.standard_tree()
    for code in HOUSES:
        b.house(int(code), f"Māja {code[-1]}")
    for building, flats in BUILDINGS.items():
        b.building(int(building), building[-1])
        for flat in flats:
            b.apartment(int(flat), int(building), flat[-1])
    for serial, home, status, vital in month.persons:
        b.person(serial, home, status=status, vital=vital)
    for document_id, serial, start, end, cents, submitted in month.documents:
        b.document(person_code(serial), cents_text(cents), format_month(start), format_month(end),
                   document_id=document_id, submitted=submitted)
    for serial, amounts in month.benefits.items():
        for benefit_month, cents in sorted(amounts.items()):
            b.benefit(person_code(serial), cents_text(cents), [format_month(benefit_month)])
    for commodity, object_id, code, kind, status in month.connections:
        b.connection(commodity, object_id, code, kind=kind, status=status, company=COMPANY[commodity])
    electricity, gas, woodchip = month.prices
    b.price(month.period, electricity=electricity, gas=gas, woodchip=woodchip)
    return b


def fast_path(month: Month, root: Path) -> tuple[pd.DataFrame, dict[str, pd.DataFrame], list[str]]:
    """The production path: real readers, then `decide_period` (GX suites are not what is tested here)."""
    inbox_of(month).write(root / "inbox")
    for source in SOURCE_ORDER:
        ingest_source(source, month.period, root / "inbox", root / "work", SETTINGS)
    summary = decide_period(month.period, root / "work", load_policy(MINIMAL_POLICY, month.period), SETTINGS)
    decisions = root / "work" / month.period / "decisions"
    households = pd.read_parquet(decisions / "households.parquet").set_index("aris_code")
    connections = {c: pd.read_parquet(decisions / f"{c}.parquet").set_index("object_id")
                   for c in ("electricity", "gas", "heat")}
    return households, connections, summary.support_types_on


@dataclass
class Expected:
    households: dict[str, dict[str, object]]
    connections: dict[str, tuple[int, int, str] | None]            # object id -> (eligible, dwellings, types)
    support_on: list[str]


def reference(month: Month) -> Expected:
    """The decision from the rule functions alone: plain loops, exact fractions."""
    policy = load_policy(MINIMAL_POLICY, month.period)
    p = parse_month(month.period)
    first, last = rules.income_window(p, policy.income_window_months)
    homes = {serial: home for serial, home, _, _ in month.persons}
    members = rules.household_members((serial, home, status, vital) for serial, home, status, vital in month.persons)
    counting = {serial for people in members.values() for serial in people}

    builder = inbox_of(month)
    position = {}                                          # each document's file and record number
    for name, rows in builder.vid_extracts().items():
        for record, row in enumerate(rows, start=1):
            position[id(row)] = (name, record)
    documents, quarantined = [], set()
    for (document_id, serial, start, end, cents, submitted), row in zip(month.documents, builder.income, strict=True):
        if cents < 0:                                       # NEGATIVE_AMOUNT: quarantined, the household reviewed
            quarantined.add(serial)
            continue
        file, record = position[id(row)]
        documents.append(rules.IncomeDocument(document_id, str(serial), start, end, cents, submitted, file, record))
    income: dict[int, Fraction] = defaultdict(Fraction)
    for document in rules.latest_versions(documents):
        income[int(document.person)] += rules.window_share(document.amount_cents, document.start, document.end,
                                                           first, last)
    for serial, amounts in month.benefits.items():
        income[serial] += sum(cents for benefit_month, cents in amounts.items() if first <= benefit_month <= last)

    review = {homes[serial] for serial in quarantined & counting}
    households: dict[str, dict[str, object]] = {}
    for code in set(members) | review:
        people = members.get(code, [])
        total = sum((income[serial] for serial in people), Fraction(0))
        eligible = rules.is_income_eligible(total, len(people), policy.income_threshold_cents,
                                            policy.income_window_months)
        households[code] = {
            "members": len(people),
            "status": rules.household_status(eligible, code in review),
            "total_income_eur": cents_text(rules.display_cents(total.numerator, total.denominator)),
            "avg_income_eur": None if not people else cents_text(rules.display_cents(
                *_ratio(rules.average_income(total, policy.income_window_months, len(people))))),
        }

    electricity, gas, woodchip = month.prices
    support_on = rules.support_types_on(
        month_number(p), {"ELECTRICITY": Decimal(electricity), "GAS": Decimal(gas), "WOODCHIP": Decimal(woodchip)},
        policy.price_thresholds_eur_mwh, policy.heating_season_months)
    eligible_homes = [code for code, row in households.items() if row["status"] == rules.ELIGIBLE]
    connections: dict[str, tuple[int, int, str] | None] = {}
    for commodity, object_id, code, kind, status in month.connections:
        if code == UNKNOWN:
            connections[object_id] = None                  # not decided: goes back to the sender
            continue
        at_code = sum(home == code for home in eligible_homes)
        in_building = sum(rules.building_of(home, _building_code(home)) == code for home in eligible_homes)
        dwellings = rules.eligible_dwellings(kind, status, at_code, in_building)
        eligible = rules.is_connection_eligible(dwellings)
        connections[object_id] = (int(eligible), dwellings,
                                  rules.connection_support_types(commodity, support_on) if eligible else "")
    return Expected(households, connections, support_on)


def _building_code(code: str) -> str | None:
    """ARIS's building of an address: a premises' parent, a building's (108) own code."""
    return PREMISES.get(code, code)


def _ratio(value: Fraction) -> tuple[int, int]:
    return value.numerator, value.denominator


@settings(max_examples=30, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(months())
def test_fast_path_decides_every_random_month_as_the_rules_do(month: Month):
    expected = reference(month)
    with tempfile.TemporaryDirectory(prefix="eikis-property-") as folder:
        households, connections, support_on = fast_path(month, Path(folder))

    assert support_on == expected.support_on
    assert set(households.index) == set(expected.households)
    for code, row in expected.households.items():
        got = households.loc[code]
        assert (int(got["members"]), got["status"]) == (row["members"], row["status"]), code
        assert got["total_income_eur"] == row["total_income_eur"], code
        assert (None if pd.isna(got["avg_income_eur"]) else got["avg_income_eur"]) == row["avg_income_eur"], code
    decided = pd.concat(connections.values())
    for object_id, row in expected.connections.items():
        got = decided.loc[object_id]
        if row is None:
            assert got["address_error"] == "UNKNOWN_ADDRESS", object_id
        else:
            assert (int(got["eligible"]), int(got["eligible_dwellings"]), got["support_types"]) == row, object_id
