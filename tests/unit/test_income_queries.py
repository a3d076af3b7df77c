"""The §9 income and household queries when the exact numerators outgrow int64.

Spreads of 1 … 40 months make the common denominator lcm(1 … 40) ≈ 5.3 × 10^15, so a person's numerator passes
2^63: DuckDB keeps it in HUGEINT, `person_income` hands it on as Python ints, and `decide_households` must still
decide and display exactly what `decide.rules` gives in `Fraction`s.
"""

from __future__ import annotations

from datetime import datetime
from fractions import Fraction

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.decide import rules
from pipeline.decide.households import decide_households
from pipeline.decide.income import person_income
from pipeline.period import parse_month
from pipeline.policy import load_policy
from tests.conftest import MINIMAL_POLICY

PERIOD = "2026-11"


def test_numerators_beyond_int64_are_decided_and_displayed_exactly(tmp_path):
    p = parse_month(PERIOD)
    first, last = rules.income_window(p)
    spreads = range(1, 41)
    documents = [(f"D{n}", 1, last - n + 1 + n // 3, last + n // 3, 1_000_000_007 + n) for n in spreads]
    pq.write_table(pa.table({
        "document_id": [d[0] for d in documents], "person_no": pa.array([d[1] for d in documents], pa.int64()),
        "period_start": pa.array([d[2] for d in documents], pa.int32()),
        "period_end": pa.array([d[3] for d in documents], pa.int32()),
        "amount_cents": pa.array([d[4] for d in documents], pa.int64()),
        "submitted_at": pa.array([datetime(2026, 1, 1)] * len(documents), pa.timestamp("ms")),
        "file": ["vid.xml"] * len(documents), "record": pa.array(range(len(documents)), pa.int64()),
        "doc_hash": pa.array(range(len(documents)), pa.int64())}), tmp_path / "vid.parquet")

    income = person_income(np.array([1, 2], dtype=np.int64), [tmp_path / "vid.parquet"], [], p, 12)
    totals_only = person_income(np.array([1, 2], dtype=np.int64), [tmp_path / "vid.parquet"], [], p, 12,
                                with_months=False)  # a simulation's: the same totals, no per-month figures
    assert totals_only.monthly == {} and income.monthly["vid"].num_rows > 0
    assert totals_only.scaled.tolist() == income.scaled.tolist() and totals_only.scale == income.scale

    expected = sum(rules.window_share(cents, start, end, first, last) for _, _, start, end, cents in documents)
    assert income.scaled.dtype == object and income.scaled[0] > 2**63
    assert Fraction(income.scaled[0], income.scale) == expected and income.scaled[1] == 0

    persons = pd.DataFrame({"aris_code": ["101000001", "101000002"], "person_key": ["k1", "k2"]})
    review = pd.DataFrame({"aris_code": pd.Series(dtype="str"), "review_reasons": pd.Series(dtype="str"),
                           "quarantined_members": pd.Series(dtype="int64")})
    addresses = pd.DataFrame({"aris_code": ["101000001", "101000002"], "address": ["a", "b"],
                              "building_code": [None, None], "municipality_code": ["1", "1"],
                              "municipality_name": ["R", "R"]})
    policy = load_policy(MINIMAL_POLICY, PERIOD)
    decided = decide_households(persons, income, review, policy, addresses).set_index("aris_code")

    total = rules.display_cents(expected.numerator, expected.denominator)
    assert income.total_cents.tolist() == [total, 0]
    average = rules.average_income(expected, 12, 1)
    assert decided.loc["101000001", "total_income_eur"] == f"{total // 100}.{total % 100:02d}"
    shown = rules.display_cents(average.numerator, average.denominator)
    assert decided.loc["101000001", "avg_income_eur"] == f"{shown // 100}.{shown % 100:02d}"
    assert decided.loc["101000001", "status"] == rules.household_status(
        bool(rules.is_income_eligible(expected, 1, policy.income_threshold_cents, 12)), False)
    assert decided.loc["101000002", "status"] == rules.ELIGIBLE
    assert decided.loc["101000002", "total_income_eur"] == "0.00"
