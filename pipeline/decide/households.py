"""Households and their status, for every address at once (CONTRACTS §3, §9; the rules are `decide.rules`).

A household is every counting person (`rules.is_counting_person`) at one ARIS code. Eligibility is
`rules.is_income_eligible` on exact integer totals, status `rules.household_status` (vectorised here), and the
displayed amounts are `rules.display_cents`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

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


def unmatched_income_records(quarantine: pd.DataFrame, persons: pd.DataFrame) -> int:
    """Quarantined VID/VSAA records that no counting person can own (no key could be derived from the code, or
    the key is nobody's): their income is missing from every household without sending one to REVIEW, so the
    run reports how many there are."""
    marked = quarantine.loc[quarantine["marks_review"].fillna(False).astype(bool)
                            & quarantine["source"].isin(INCOME_SOURCES)]
    owned = marked["person_key"].isin(set(persons["person_key"].dropna()))
    return int((~owned).sum())


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
    households["total_income_eur"] = [_eur(c) for c in total_cents]
    households["avg_income_eur"] = [None if m == 0 else _eur(c) for c, m in zip(average_cents, members, strict=True)]
    households["threshold_eur"] = f"{policy.income_threshold_eur:.2f}"
    households["policy_version"] = policy.version
    households["status"] = status
    households["reason"] = [
        _reason(s, avg, households_reasons, members_count)
        for s, avg, households_reasons, members_count in zip(
            status, households["avg_income_eur"], households["review_reasons"], members, strict=True)
    ]
    households = households.drop(columns=["scaled"]).merge(addresses, on="aris_code", how="left")
    return households.sort_values("aris_code", kind="stable").reset_index(drop=True)


def _eur(cents: int) -> str:
    value = int(cents)
    return f"{value // 100}.{value % 100:02d}"


def _reason(status: str, average: str | None, review_reasons: object, members: int) -> str:
    if status == REVIEW:
        return (f"member data quarantined ({review_reasons}); not flagged until the bureau resolves it"
                + ("" if members else "; no counting member left at this address"))
    relation = "at or under" if status == ELIGIBLE else "over"
    return f"average monthly income per member {average} EUR is {relation} the threshold"
