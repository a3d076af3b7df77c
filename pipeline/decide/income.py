"""Each counting person's income in the window P-12 … P-1 (CONTRACTS §4, §5, §9), exactly.

Money is integer cents. A VID amount spread over n months gives each month cents/n, which is not always a whole
cent, so a person's total is kept as an integer numerator over a common denominator `scale` (the least common
multiple of every spread length in play). Household totals and the threshold test are then integer arithmetic:
`avg <= threshold` is decided without rounding, as §9 requires.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline.logs import get_logger

log = get_logger("decide.income")


@dataclass
class PersonIncome:
    """Income per counting person (rows follow the persons index given to `person_income`)."""

    window_start: int
    window_months: int
    scale: int                      # common denominator: true total cents = scaled / scale
    scaled: np.ndarray              # int64 (or Python ints) per person, VID + VSAA
    monthly_vid: np.ndarray         # float64 cents, persons × window months (for decision records)
    monthly_vsaa: np.ndarray        # int64 cents, persons × window months


def latest_corrections(vid: pd.DataFrame) -> pd.DataFrame:
    """A DocumentId sent again is a correction: the latest SubmittedAt wins (§4); on a tie, the later record."""
    repeated = vid["document_id"].duplicated(keep=False)
    if not repeated.any():
        return vid
    corrected = (
        vid.loc[repeated]
        .sort_values(["document_id", "submitted_at", "file", "record"], kind="stable")
        .drop_duplicates("document_id", keep="last")
    )
    log.info("VID: %d documents corrected (%d versions superseded)", len(corrected),
             int(repeated.sum()) - len(corrected))
    return pd.concat([vid.loc[~repeated], corrected])


def window_overlap(start: np.ndarray, end: np.ndarray, first: int, last: int) -> tuple[np.ndarray, np.ndarray]:
    """Months of [start, end] inside [first, last]: the clipped bounds (only window months count, §4)."""
    return np.maximum(start, first), np.minimum(end, last)


def person_income(persons: pd.Index, vid: pd.DataFrame, vsaa: pd.DataFrame, period: int,
                  window_months: int) -> PersonIncome:
    """Sum VID (spread evenly over its months) and VSAA per person for the window months only."""
    first, last = period - window_months, period - 1
    count = len(persons)

    vid = latest_corrections(vid)
    who = persons.get_indexer(vid["person_code"])
    start = vid["period_start"].to_numpy(dtype=np.int64)
    end = vid["period_end"].to_numpy(dtype=np.int64)
    low, high = window_overlap(start, end, first, last)
    keep = (who >= 0) & (low <= high)
    who, start, end, low, high = who[keep], start[keep], end[keep], low[keep], high[keep]
    cents = vid["amount_cents"].to_numpy(dtype=np.int64)[keep]
    spread = end - start + 1
    inside = high - low + 1

    benefits_who = persons.get_indexer(vsaa["person_code"])
    month = vsaa["month"].to_numpy(dtype=np.int64)
    benefit_keep = (benefits_who >= 0) & (month >= first) & (month <= last)
    benefits_who, month = benefits_who[benefit_keep], month[benefit_keep]
    benefit_cents = vsaa["amount_cents"].to_numpy(dtype=np.int64)[benefit_keep]

    scale = math.lcm(1, *np.unique(spread).tolist())
    bound = (float(cents.sum()) + float(benefit_cents.sum())) * scale * window_months
    exact_type: type | str = np.int64 if bound < 2**62 else object
    scaled_vid = cents.astype(exact_type) * inside.astype(exact_type) * (scale // spread).astype(exact_type)
    scaled = np.zeros(count, dtype=exact_type)
    if len(who):
        scaled += pd.Series(scaled_vid).groupby(who).sum().reindex(range(count), fill_value=0).to_numpy(exact_type)
    if len(benefits_who):
        by_person = pd.Series(benefit_cents.astype(exact_type)).groupby(benefits_who).sum()
        scaled += by_person.reindex(range(count), fill_value=0).to_numpy(exact_type) * scale

    monthly_vid = _spread_monthly(who, low, inside, cents / spread, count, first, window_months)
    flat = benefits_who * window_months + (month - first)
    monthly_vsaa = np.bincount(flat, weights=benefit_cents, minlength=count * window_months)
    monthly_vsaa = np.rint(monthly_vsaa).astype(np.int64).reshape(count, window_months)
    log.info("income: %d VID documents and %d VSAA months in the window, scale %d", int(keep.sum()),
             int(benefit_keep.sum()), scale)
    return PersonIncome(first, window_months, scale, scaled, monthly_vid, monthly_vsaa)


def _spread_monthly(who: np.ndarray, low: np.ndarray, inside: np.ndarray, per_month: np.ndarray, count: int,
                    first: int, window_months: int) -> np.ndarray:
    """Each document's per-month share laid out on the persons × months grid."""
    rows = np.repeat(np.arange(len(who)), inside)
    step = np.arange(len(rows)) - np.repeat(np.cumsum(inside) - inside, inside)
    month_offset = low[rows] + step - first
    flat = who[rows] * window_months + month_offset
    grid = np.bincount(flat, weights=per_month[rows], minlength=count * window_months)
    return grid.reshape(count, window_months)
