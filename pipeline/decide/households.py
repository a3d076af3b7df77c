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
    if marked.empty:        # the usual month: no hash set of every counting person's key to build for nothing
        return 0
    owned = pc.is_in(pa.array(marked["person_key"], type=pa.string()),
                     value_set=pa.array(persons["person_key"].dropna(), type=pa.string()))
    return len(marked) - pc.sum(owned, min_count=0).as_py()


def decide_households(persons: pd.DataFrame, income: PersonIncome, review: pd.DataFrame, policy: Policy,
                      addresses: pd.DataFrame) -> pd.DataFrame:
    """One row per household: members, total, average, threshold, status and the reason in words, in code order."""
    codes, rows = household_codes(persons["aris_code"], review["aris_code"])
    counted = rows >= 0
    members = np.bincount(rows[counted], minlength=len(codes)).astype(np.int64)
    scaled = np.zeros(len(codes), dtype=income.scaled.dtype)
    np.add.at(scaled, rows[counted], income.scaled[counted])       # exact: int64, or Python ints near overflow
    households = pd.DataFrame({"aris_code": codes.to_pandas(), "members": members})
    households = pd.concat([households, _rows_at(review, codes)], axis=1)
    households["quarantined_members"] = households["quarantined_members"].fillna(0).astype("int64")

    window = income.window_months
    eligible = is_income_eligible(scaled, members, policy.income_threshold_cents, window, income.scale)
    in_review = households["review_reasons"].notna().to_numpy()
    status = np.where(in_review, REVIEW, np.where(eligible, ELIGIBLE, NOT_ELIGIBLE))   # rules.household_status

    safe_members = np.maximum(members, 1)
    total_cents = display_cents(scaled, np.full(len(scaled), income.scale, dtype=np.int64))
    average_cents = display_cents(scaled, income.scale * window * safe_members)
    households["total_income_eur"] = eur_texts(total_cents).to_pandas()
    average = eur_texts(average_cents)
    households["avg_income_eur"] = average.to_pandas().where(members > 0)
    households["threshold_eur"] = f"{policy.income_threshold_eur:.2f}"
    households["policy_version"] = policy.version
    households["status"] = status
    households["reason"] = _reasons(status, average, households["review_reasons"], members).to_pandas()
    return with_addresses(households, addresses)


def household_codes(person_codes: pd.Series, review_codes: pd.Series) -> tuple[pa.Array, np.ndarray]:
    """Every household's ARIS code (a counting person's or a reviewed address's), distinct and sorted, and each
    person's row among them (-1 for a person without a code, who is in no household).

    One dictionary encoding of the codes and a sort of the distinct ones: pandas' group-by and the outer merge
    with the reviewed addresses factorised and sorted the national month's 1.9 M codes twice (≈ 3 CPU-s)."""
    encoded = pc.dictionary_encode(pa.concat_arrays([_strings(person_codes), _strings(review_codes)]))
    order = pc.sort_indices(encoded.dictionary).to_numpy()
    rank = np.full(len(order) + 1, -1, dtype=np.int64)      # the last: a missing code's
    rank[order] = np.arange(len(order))
    at = pc.fill_null(encoded.indices[:len(person_codes)], -1).to_numpy().astype(np.int64)
    return encoded.dictionary.take(pa.array(order)), rank[at]


def with_addresses(households: pd.DataFrame, addresses: pd.DataFrame) -> pd.DataFrame:
    """Each household with its address columns (missing where ARIS has no such code), as a left merge on
    `aris_code` gives them, from one dictionary encoding of both code columns (the merge factorised them apart and
    matched the factors; a third less CPU). A register that lists a code twice takes the merge, which repeats the
    household once for each."""
    register = _strings(addresses["aris_code"])
    encoded = pc.dictionary_encode(pa.concat_arrays([register, _strings(households["aris_code"])]))
    codes = pc.fill_null(encoded.indices, -1).to_numpy().astype(np.int64)
    listed, wanted = codes[:len(register)], codes[len(register):]
    if register.null_count or np.bincount(listed, minlength=1).max() > 1:
        return households.merge(addresses, on="aris_code", how="left")
    row_of_code = np.full(len(encoded.dictionary) + 1, -1, dtype=np.int64)      # the last: a missing code's
    row_of_code[listed] = np.arange(len(listed))
    found = addresses.drop(columns=["aris_code"]).reset_index(drop=True).reindex(row_of_code[wanted])
    return pd.concat([households, found.reset_index(drop=True)], axis=1)


def _rows_at(frame: pd.DataFrame, codes: pa.Array) -> pd.DataFrame:
    """`frame`'s other columns at each of `codes` (its `aris_code`s are distinct), all missing where a code is not
    there: reindexing by row number leaves the columns' types as a merge would."""
    at = pc.fill_null(pc.index_in(codes, value_set=_strings(frame["aris_code"])), -1).to_numpy()
    found = frame.drop(columns=["aris_code"]).reset_index(drop=True).reindex(at)
    return found.reset_index(drop=True)


def _strings(values: pd.Series) -> pa.Array:
    """A text column as one Arrow string array."""
    array = pa.array(values, type=pa.string())
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def eur_texts(cents: np.ndarray) -> pa.Array:
    """Whole cents as EUR texts with two decimals (`1234` → `12.34`), for an int64 or a Python-int array alike.

    int64 cents are written by Arrow's kernels (the national month's 830 000 households twice); Python ints (a
    month whose totals could overflow int64) by numpy's string functions, which take them as they are."""
    if cents.dtype == object:
        euros = (cents // 100).astype(TEXT)
        return pa.array(_join(euros, ".", np.strings.zfill((cents % 100).astype(TEXT), 2)), type=pa.string())
    euros = pc.cast(pa.array(cents // 100), pa.string())
    fraction = pc.utf8_lpad(pc.cast(pa.array(cents % 100), pa.string()), width=2, padding="0")
    return pc.binary_join_element_wise(euros, fraction, ".")


def _reasons(status: np.ndarray, average: pa.Array, review_reasons: pd.Series, members: np.ndarray) -> pa.Array:
    """The reason in words, for every household at once (Arrow joins the texts in C)."""
    relation = pc.if_else(pa.array(status == ELIGIBLE), "at or under", "over")
    decided = pc.binary_join_element_wise("average monthly income per member ", average, " EUR is ", relation,
                                          " the threshold", "")
    left = pc.if_else(pa.array(members > 0), "", "; no counting member left at this address")
    quarantined = pc.binary_join_element_wise("member data quarantined (", _strings(review_reasons.fillna("")),
                                              "); not flagged until the bureau resolves it", left, "")
    return pc.if_else(pa.array(status == REVIEW), quarantined, decided)


def _join(*parts: object) -> np.ndarray:
    """Element-wise concatenation of string arrays and scalars."""
    return functools.reduce(np.strings.add, parts)
