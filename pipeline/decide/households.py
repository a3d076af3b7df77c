"""Households and their status, for every address at once (CONTRACTS §3, §9), as one DuckDB query per clause.

The queries say what `decide.rules` says: a household is every counting person at one ARIS code
(`rules.household_members`); eligibility is `rules.is_income_eligible` on the exact integer totals, multiplied
out so nothing is rounded; the status is `rules.household_status`; the displayed amounts are
`rules.display_cents`. The money is DuckDB HUGEINT (exact numerators over the income's `scale`) until it is
written as EUR text; nothing is a float.
"""

from __future__ import annotations

from decimal import Decimal

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipeline import engine
from pipeline.decide.income import PersonIncome
from pipeline.policy import Policy

REVIEW_ADDRESSES = """
-- §9: "REVIEW (a member's data is quarantined; never flagged, listed for staff)", with §3's DUPLICATE_PERSON: the
-- addresses of quarantined member data and the reasons. PMLP rows carry the address of the person who would have
-- counted; VID and VSAA rows carry a pseudonymous key, which finds the person's address among the counting persons.
WITH marked AS (SELECT aris_code::VARCHAR AS aris_code, person_key::VARCHAR AS person_key,
                       reason::VARCHAR AS reason, source::VARCHAR AS source
                FROM quarantine WHERE marks_review::BOOLEAN),
     at_address AS (SELECT aris_code, reason, source FROM marked WHERE aris_code IS NOT NULL
                    UNION ALL
                    SELECT p.aris_code, m.reason, m.source FROM marked m JOIN persons p USING (person_key)
                    WHERE m.aris_code IS NULL)
SELECT aris_code, string_agg(DISTINCT reason, ', ' ORDER BY reason) AS review_reasons,
       count(*) FILTER (WHERE source = 'pmlp') AS quarantined_members
FROM at_address WHERE aris_code IS NOT NULL GROUP BY aris_code ORDER BY aris_code
"""


def review_addresses(quarantine: pd.DataFrame, persons: pd.DataFrame) -> pd.DataFrame:
    """Addresses whose household has quarantined member data, with the reasons (`REVIEW_ADDRESSES`)."""
    with engine.connect() as db:
        db.register("quarantine", pa.Table.from_pandas(
            quarantine[["aris_code", "person_key", "reason", "source", "marks_review"]], preserve_index=False))
        db.register("persons", pa.table({"person_key": pa.array(persons["person_key"], type=pa.string()),
                                         "aris_code": pa.array(persons["aris_code"], type=pa.string())}))
        return db.sql(REVIEW_ADDRESSES).to_arrow_table().to_pandas()


INCOME_SOURCES = ("vid", "vsaa")


def unmatched_income_records(quarantine: pd.DataFrame, persons: pd.DataFrame) -> int:
    """Quarantined VID/VSAA records that no counting person can own (no key could be derived from the code, or
    the key is nobody's): their income is missing from every household without sending one to REVIEW, so the
    run reports how many there are."""
    marked = quarantine.loc[quarantine["marks_review"].fillna(False).astype(bool)
                            & quarantine["source"].isin(INCOME_SOURCES)]
    if marked.empty:        # the usual month: no hash set of every counting person's key to build for nothing
        return 0
    owned = pc.is_in(pa.array(marked["person_key"], type=pa.string()),
                     value_set=pa.array(persons["person_key"].dropna(), type=pa.string()))
    return len(marked) - pc.sum(owned, min_count=0).as_py()


HOUSEHOLDS = """
-- §9: "Household = all counting persons (§3) with the same AddressCode. Member count ≥ 1." Each household's
-- members and exact income total (rules.household_members), and the addresses in REVIEW where nobody counts; in
-- code order.
SELECT aris_code, coalesce(h.members, 0) AS members, coalesce(h.scaled, 0)::HUGEINT AS scaled
FROM (SELECT aris_code, count(*) AS members, sum(scaled) AS scaled FROM persons
      WHERE aris_code IS NOT NULL GROUP BY aris_code) h
FULL OUTER JOIN (SELECT aris_code FROM review WHERE aris_code IS NOT NULL) USING (aris_code)
ORDER BY aris_code
"""

AVERAGE_INCOME = """
-- §9: "avg_income = (Σ VID income in window + Σ VSAA in window) / 12 / members, in EUR, rounded half-up to cents
-- only for display; compare unrounded. Eligible when avg_income <= income_threshold_eur": the comparison
-- multiplied out in integers (rules.is_income_eligible), the display cents rounded half-up (rules.display_cents).
-- `households` is HOUSEHOLDS' result handed back from Arrow (its exact totals as DECIMAL(38, 0)), with its `row`.
CREATE TEMP TABLE averages AS
SELECT row, aris_code, members, scaled,
       members >= 1 AND scaled <= $threshold_cents::HUGEINT * $window * $scale * members AS income_eligible,
       (2 * scaled + $scale) // (2 * $scale) AS total_cents,
       (2 * scaled + $scale * $window * greatest(members, 1)) // (2 * $scale * $window * greatest(members, 1))
           AS average_cents
FROM (SELECT row, aris_code, members, scaled::HUGEINT AS scaled FROM households)
"""

STATUS = """
-- §9: "Household status: ELIGIBLE, NOT_ELIGIBLE, or REVIEW (a member's data is quarantined; never flagged,
-- listed for staff)" (rules.household_status).
CREATE TEMP TABLE statuses AS
SELECT a.*, r.review_reasons, coalesce(r.quarantined_members, 0) AS quarantined_members,
       CASE WHEN r.review_reasons IS NOT NULL THEN 'REVIEW'
            WHEN a.income_eligible THEN 'ELIGIBLE' ELSE 'NOT_ELIGIBLE' END AS status
FROM averages a LEFT JOIN review r USING (aris_code)
"""

HOUSEHOLD_STATUS = """
-- §9: each household's decision record: the status (STATUS) with the reason in words and the household's address.
SELECT s.aris_code, s.members, s.review_reasons, s.quarantined_members,
       eur(s.total_cents) AS total_income_eur,
       CASE WHEN s.members > 0 THEN eur(s.average_cents) END AS avg_income_eur,
       $threshold_eur AS threshold_eur, $policy_version AS policy_version, s.status,
       CASE WHEN s.review_reasons IS NOT NULL
            THEN 'member data quarantined (' || s.review_reasons || '); not flagged until the bureau resolves it'
                 || CASE WHEN s.members > 0 THEN '' ELSE '; no counting member left at this address' END
            ELSE 'average monthly income per member ' || eur(s.average_cents) || ' EUR is '
                 || CASE WHEN s.income_eligible THEN 'at or under' ELSE 'over' END || ' the threshold'
       END AS reason,
       addresses.* EXCLUDE (aris_code)
FROM statuses s
LEFT JOIN addresses USING (aris_code)
ORDER BY s.row
"""

EUR = """
-- whole non-negative cents as EUR text with two decimals (1234 -> 12.34)
CREATE TEMP MACRO eur(cents) AS (cents // 100)::VARCHAR || '.' || lpad((cents % 100)::VARCHAR, 2, '0')
"""


def household_totals(persons: pd.DataFrame, income: PersonIncome, review: pd.DataFrame) -> pa.Table:
    """Every household of P with its members and exact income total (`HOUSEHOLDS`), in code order and numbered
    (`row`). Nothing in it depends on the policy but the income window, so a simulation aggregates the households
    once for all its variants."""
    with engine.connect() as db:
        db.register("persons", pa.table({"aris_code": pa.array(persons["aris_code"], type=pa.string()),
                                         "scaled": _exact(income.scaled)}))
        db.register("review", _review_table(review))
        totals = db.sql(HOUSEHOLDS).to_arrow_table()
    return totals.append_column("row", pa.array(np.arange(totals.num_rows, dtype=np.int64)))


def decide_households(persons: pd.DataFrame, income: PersonIncome, review: pd.DataFrame, policy: Policy,
                      addresses: pd.DataFrame, totals: pa.Table | None = None) -> pd.DataFrame:
    """One row per household: members, total, average, threshold, status and the reason in words, in code order
    (the queries above, in order); `totals`: `household_totals` already computed for this income."""
    totals = household_totals(persons, income, review) if totals is None else totals
    with engine.connect() as db:
        _decide_status(db, totals, income, review, policy)
        db.register("addresses", pa.Table.from_pandas(addresses, preserve_index=False))
        db.execute(EUR)
        decided = db.sql(HOUSEHOLD_STATUS, params={"threshold_eur": f"{policy.income_threshold_eur:.2f}",
                                                "policy_version": policy.version}).to_arrow_table()
    return decided.to_pandas()


def household_statuses(totals: pa.Table, income: PersonIncome, review: pd.DataFrame, policy: Policy) -> pa.Array:
    """Only the status of each household of `totals` (in its order) under `policy`: the statements
    `decide_households` runs, without the records' texts and addresses (what a simulated variant needs)."""
    with engine.connect() as db:
        _decide_status(db, totals, income, review, policy)
        return db.sql("SELECT status FROM statuses ORDER BY row").to_arrow_table().column("status").combine_chunks()


def _decide_status(db: duckdb.DuckDBPyConnection, totals: pa.Table, income: PersonIncome, review: pd.DataFrame,
                   policy: Policy) -> None:
    """`AVERAGE_INCOME` and `STATUS` under `policy` into `db`'s temporary table `statuses`."""
    db.register("households", totals)
    db.register("review", _review_table(review))
    db.execute(AVERAGE_INCOME, {"threshold_cents": policy.income_threshold_cents,
                                "window": income.window_months, "scale": income.scale})
    db.execute(STATUS)


def _review_table(review: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(review, preserve_index=False)


def _exact(scaled: np.ndarray) -> pa.Array:
    """The persons' exact totals for DuckDB: int64, or decimal128(38, 0) when they are Python ints."""
    if scaled.dtype == object:
        return pa.array([Decimal(int(value)) for value in scaled], type=pa.decimal128(38, 0))
    return pa.array(scaled, type=pa.int64())
