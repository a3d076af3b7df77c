"""Households and their status, for every address at once (CONTRACTS §3, §9; the rules are `decide.rules`).

A household is every counting person (`rules.is_counting_person`) at one ARIS code. Eligibility is
`rules.is_income_eligible` on exact integer totals, status `rules.household_status` (vectorised here), and the
displayed amounts are `rules.display_cents`.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.decide.income import PersonIncome
from pipeline.decide.rules import ELIGIBLE, NOT_ELIGIBLE, REVIEW, display_cents, is_income_eligible
from pipeline.policy import Policy


def review_addresses(quarantine: pd.DataFrame, persons: pd.DataFrame) -> pd.DataFrame:
    """Addresses whose household has quarantined member data, with the reasons (§3 DUPLICATE_PERSON, §9 REVIEW).

    PMLP rows carry the address of the person who would have counted; VID and VSAA rows carry a pseudonymous key,
    which finds the person's address among the counting persons.
    """
    marked = quarantine.loc[quarantine["marks_review"].fillna(False).astype(bool)]
    direct = marked.loc[marked["aris_code"].notna(), ["aris_code", "reason", "source"]]
    by_key = marked.loc[marked["aris_code"].isna() & marked["person_key"].notna(), ["person_key", "reason", "source"]]
    linked = by_key.merge(persons[["person_key", "aris_code"]], on="person_key", how="inner")
    both = pd.concat([direct, linked[["aris_code", "reason", "source"]]], ignore_index=True)
    if both.empty:
        return pd.DataFrame({"aris_code": pd.Series(dtype="string"), "quarantined_members": pd.Series(dtype="int64"),
                             "review_reasons": pd.Series(dtype="string")})
    pmlp_members = both.loc[both["source"] == "pmlp"].groupby("aris_code").size()
    reasons = both.groupby("aris_code")["reason"].agg(lambda values: ", ".join(sorted(set(values))))
    result = reasons.rename("review_reasons").to_frame()
    result["quarantined_members"] = pmlp_members.reindex(result.index, fill_value=0).astype("int64")
    return result.reset_index()


INCOME_SOURCES = ("vid", "vsaa")
TEXT = np.dtypes.StringDType()


def unmatched_income_records(quarantine: pd.DataFrame, persons: pd.DataFrame) -> int:
    """Quarantined VID/VSAA records that no counting person can own (no key could be derived from the code, or
    the key is nobody's): their income is missing from every household without sending one to REVIEW, so the
    run reports how many there are."""
    marked = quarantine.loc[quarantine["marks_review"].fillna(False).astype(bool)
                            & quarantine["source"].isin(INCOME_SOURCES)]
    owned = pc.is_in(pa.array(marked["person_key"], type=pa.string()),
                     value_set=pa.array(persons["person_key"].dropna(), type=pa.string()))
    return len(marked) - pc.sum(owned, min_count=0).as_py()


def decide_households(persons: pd.DataFrame, income: PersonIncome, review: pd.DataFrame, policy: Policy,
                      addresses: pd.DataFrame) -> pd.DataFrame:
    """One row per household: members, total, average, threshold, status and the reason in words."""
    frame = pd.DataFrame({"aris_code": persons["aris_code"].to_numpy(), "scaled": income.scaled})
    groups = frame.groupby("aris_code", sort=True)
    households = pd.DataFrame({"members": groups.size(), "scaled": groups["scaled"].sum()})
    households.index.name = "aris_code"
    households = households.reset_index()
    households = households.merge(review, on="aris_code", how="outer")
    households["members"] = households["members"].fillna(0).astype("int64")
    households["quarantined_members"] = households["quarantined_members"].fillna(0).astype("int64")
    scaled = households["scaled"].fillna(0).to_numpy()
    scaled = scaled.astype(object) if income.scaled.dtype == object else scaled.astype(np.int64)

    members = households["members"].to_numpy(dtype=np.int64)
    window = income.window_months
    eligible = is_income_eligible(scaled, members, policy.income_threshold_cents, window, income.scale)
    in_review = households["review_reasons"].notna().to_numpy()
    status = np.where(in_review, REVIEW, np.where(eligible, ELIGIBLE, NOT_ELIGIBLE))   # rules.household_status

    safe_members = np.maximum(members, 1)
    total_cents = display_cents(scaled, np.full(len(scaled), income.scale, dtype=np.int64))
    average_cents = display_cents(scaled, income.scale * window * safe_members)
    households["total_income_eur"] = _text(eur_texts(total_cents))
    average = eur_texts(average_cents)
    households["avg_income_eur"] = _text(average).where(members > 0)
    households["threshold_eur"] = f"{policy.income_threshold_eur:.2f}"
    households["policy_version"] = policy.version
    households["status"] = status
    households["reason"] = _text(_reasons(status, average, households["review_reasons"], members))
    households = households.drop(columns=["scaled"]).merge(addresses, on="aris_code", how="left")
    return households.sort_values("aris_code", kind="stable").reset_index(drop=True)


def eur_texts(cents: np.ndarray) -> np.ndarray:
    """Whole cents as EUR texts with two decimals (`1234` → `12.34`), for an int64 or a Python-int array alike;
    numpy's string functions do it at once for a national month's 830 000 households."""
    euros = (cents // 100).astype(TEXT)
    return _join(euros, ".", np.strings.zfill((cents % 100).astype(TEXT), 2))


def _reasons(status: np.ndarray, average: np.ndarray, review_reasons: pd.Series, members: np.ndarray) -> np.ndarray:
    """The reason in words, for every household at once."""
    relation = np.where(status == ELIGIBLE, "at or under", "over")
    decided = _join("average monthly income per member ", average, " EUR is ", relation, " the threshold")
    quarantined = _join("member data quarantined (", review_reasons.fillna("").to_numpy(dtype=TEXT),
                        "); not flagged until the bureau resolves it",
                        np.where(members > 0, "", "; no counting member left at this address"))
    return np.where(status == REVIEW, quarantined, decided)


def _join(*parts: object) -> np.ndarray:
    """Element-wise concatenation of string arrays and scalars."""
    return functools.reduce(np.strings.add, parts)


def _text(values: np.ndarray) -> pd.Series:
    """A numpy string array as a pandas text column (through Arrow: a Python string per cell is what costs)."""
    return pa.array(values, type=pa.string()).to_pandas()
