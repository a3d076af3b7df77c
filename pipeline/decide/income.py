"""Each counting person's income in the window P-12 … P-1 (CONTRACTS §4, §5, §9), exactly and in bounded memory.

Money is integer cents. A VID amount spread over n months gives each month cents/n, which is not always a whole
cent, so a person's total is kept as an integer numerator over a common denominator `scale` (the least common
multiple of every spread length in play). Household totals and the threshold test are then integer arithmetic:
`avg <= threshold` is decided without rounding, as §9 requires.

VID is read part by part (one part per input file), never whole: at national scale it is ≈25 M rows.
1. one pass over `doc_hash`, the periods, amounts, persons and record numbers finds repeated documents, the scale
   and an overflow bound, and keeps only the documents a counting person has in the window (about half);
2. repeated documents are resolved on their real `document_id` (the latest `SubmittedAt` wins, §4), so a hash
   collision can only cost time, never correctness;
3. each part's kept documents, less the superseded versions, are added to per-person accumulators.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline.arrays import repeated_values
from pipeline.decide.rules import income_window
from pipeline.logs import get_logger

log = get_logger("decide.income")

INT64_SAFE = 2**62


@dataclass
class PersonIncome:
    """Income per counting person (rows follow the `person_nos` given to `person_income`)."""

    window_start: int
    window_months: int
    scale: int                      # common denominator: true total cents = scaled / scale
    scaled: np.ndarray              # int64 (or Python ints when int64 could overflow) per person, VID + VSAA
    monthly_vid: np.ndarray         # float64 cents, persons × window months (for decision records)
    monthly_vsaa: np.ndarray        # int64 cents, persons × window months


class PersonLookup:
    """Maps personal numbers to row positions of the counting persons (-1 when not a counting person).

    A hash index (pandas' engine, built once) answers ≈25 M look-ups per national month several times faster than
    a binary search over the sorted numbers, whose every probe misses the cache. Should a number appear twice, its
    first row answers, as a stable sort would."""

    def __init__(self, person_nos: np.ndarray) -> None:
        first = ~pd.Index(person_nos).duplicated(keep="first")
        self.rows = np.flatnonzero(first)
        self.index = pd.Index(person_nos[first])

    def positions(self, values: np.ndarray) -> np.ndarray:
        at = self.index.get_indexer(values)
        return np.where(at >= 0, self.rows[at], -1)


def window_overlap(start: np.ndarray, end: np.ndarray, first: int, last: int) -> tuple[np.ndarray, np.ndarray]:
    """Months of [start, end] inside [first, last]: the clipped bounds (only window months count, §4)."""
    return np.maximum(start, first), np.minimum(end, last)


@dataclass
class _WindowDocuments:
    """One VID part's documents that a counting person has in the window, in the part's order (compact types:
    they are held for every part until the corrections are known)."""

    who: np.ndarray         # int32 row of the counting person
    start: np.ndarray       # int32 month index of PeriodStart
    end: np.ndarray         # int32 month index of PeriodEnd
    cents: np.ndarray       # int64
    record: np.ndarray      # int64 record number in its file


@dataclass
class _Survey:
    repeated_hashes: np.ndarray
    scale: int
    total_cents: float
    part_hashes: list[np.ndarray]   # each part's `doc_hash`, kept for finding the repeated ones (read once)
    documents: list[_WindowDocuments]


def _survey(parts: list[Path], lookup: PersonLookup, first: int, last: int) -> _Survey:
    """Every part read once (the columns the survey and the sums need): reading them again for the sums cost
    ≈ 1 CPU-s a national month."""
    hashes, spreads, total, documents = [], set(), 0.0, []
    for part in parts:
        table = pq.read_table(part, columns=["doc_hash", "person_no", "period_start", "period_end", "amount_cents",
                                             "record"])
        hashes.append(table.column("doc_hash").to_numpy())
        start, end = table.column("period_start").to_numpy(), table.column("period_end").to_numpy()
        spread = end.astype(np.int64) - start + 1
        spreads.update(pc.unique(pa.array(spread)).to_pylist())     # a hash of a few lengths, not a sort of 1 M
        cents = table.column("amount_cents").to_numpy()
        total += float(cents.sum())
        low, high = window_overlap(start, end, first, last)
        inside = np.flatnonzero(low <= high)
        who = lookup.positions(table.column("person_no").to_numpy()[inside])
        rows = inside[who >= 0]
        documents.append(_WindowDocuments(who[who >= 0].astype(np.int32), start[rows], end[rows], cents[rows],
                                          table.column("record").to_numpy()[rows]))
    return _Survey(repeated_values(np.concatenate(hashes) if hashes else np.empty(0, dtype=np.int64)),
                   math.lcm(1, *spreads), total, hashes, documents)


class ValueSet:
    """Membership in one fixed set of distinct integers, asked once per VID part.

    The hash index is built once (pandas' engine) and probed part after part: `pc.is_in` rebuilt its set of the
    ≈100 000 repeated document hashes for each of the 24 national parts and took three times as long."""

    def __init__(self, values: np.ndarray) -> None:
        self.index = pd.Index(np.unique(values))

    def contains(self, values: np.ndarray | pa.ChunkedArray) -> np.ndarray:
        """A boolean mask of `values` found in the set."""
        if isinstance(values, pa.ChunkedArray):
            values = values.to_numpy()
        return self.index.get_indexer(values) >= 0


def superseded_mask(records: np.ndarray, superseded: np.ndarray) -> np.ndarray:
    """A boolean mask of the part's `records` that a later correction replaces. A part's record numbers span a
    small range, where numpy looks them up in a table of that range (`np.isin` falls back to sorting when the range
    is too wide for one)."""
    return np.isin(records, superseded)


def superseded_records(parts: list[Path], repeated_hashes: np.ndarray,
                       part_hashes: list[np.ndarray]) -> dict[int, np.ndarray]:
    """Per part, the record numbers of document versions that a later correction replaces (§4).

    `part_hashes` are the survey's: the hashes are not read twice. The file name is read as the dictionary it is
    stored as and decoded for the versions only (decoding 25 M names cost 1.4 CPU-s a national month)."""
    if not len(repeated_hashes):
        return {}
    candidates = []
    repeated = ValueSet(repeated_hashes)
    for index, (part, hashes) in enumerate(zip(parts, part_hashes, strict=True)):
        hit = repeated.contains(hashes)
        if hit.any():
            table = pq.read_table(part, columns=["document_id", "submitted_at", "file", "record"],
                                  read_dictionary=["file"]).filter(hit)
            frame = table.set_column(2, "file", pc.cast(table.column("file"), pa.string())).to_pandas()
            frame["part"] = index
            candidates.append(frame)
    versions = pd.concat(candidates, ignore_index=True)
    ordered = versions.sort_values(["document_id", "submitted_at", "file", "record"], kind="stable")
    losers = ordered.loc[ordered.duplicated("document_id", keep="last")]
    log.info("VID: %d corrected documents, %d superseded versions", losers["document_id"].nunique(), len(losers))
    return {int(part): group["record"].to_numpy() for part, group in losers.groupby("part")}


def person_income(person_nos: np.ndarray, vid_parts: list[Path], vsaa_parts: list[Path], period: int,
                  window_months: int) -> PersonIncome:
    """Sum VID (spread evenly over its months, `rules.window_share`) and VSAA per person for the window months
    only (`rules.income_window`), the latest version of each corrected document (`rules.latest_versions`)."""
    first, last = income_window(period, window_months)
    count = len(person_nos)
    lookup = PersonLookup(person_nos)
    survey = _survey(vid_parts, lookup, first, last)
    benefits = [pq.read_table(p, columns=["person_no", "month", "amount_cents"]) for p in vsaa_parts]
    benefit_total = float(sum(t.column("amount_cents").to_numpy().sum() for t in benefits))
    scale = survey.scale
    exact: type | str = np.int64 if (survey.total_cents + benefit_total) * scale * window_months < INT64_SAFE \
        else object
    superseded = superseded_records(vid_parts, survey.repeated_hashes, survey.part_hashes)
    survey.part_hashes.clear()

    scaled = np.zeros(count, dtype=exact)
    cells: list[np.ndarray] = []
    shares: list[np.ndarray] = []
    documents = 0
    for index, kept in enumerate(survey.documents):
        live = ~superseded_mask(kept.record, superseded[index]) if index in superseded else slice(None)
        who = kept.who[live].astype(np.int64)
        start, end, cents = kept.start[live].astype(np.int64), kept.end[live].astype(np.int64), kept.cents[live]
        low, high = window_overlap(start, end, first, last)
        spread, inside = end - start + 1, high - low + 1
        contribution = cents.astype(exact) * inside.astype(exact) * (scale // spread).astype(exact)
        np.add.at(scaled, who, contribution)
        cell, share = _spread_monthly(who, low, inside, cents / spread, first, window_months)
        cells.append(cell)
        shares.append(share)
        documents += len(who)
    survey.documents.clear()
    monthly_vid = np.bincount(np.concatenate(cells) if cells else np.empty(0, dtype=np.int64),
                              weights=np.concatenate(shares) if shares else None, minlength=count * window_months)
    del cells, shares

    monthly_vsaa = np.zeros(count * window_months, dtype=np.int64)
    months_counted = 0
    for table in benefits:
        month = table.column("month").to_numpy().astype(np.int64)
        who = lookup.positions(table.column("person_no").to_numpy())
        keep = (who >= 0) & (month >= first) & (month <= last)
        who, month = who[keep], month[keep]
        cents = table.column("amount_cents").to_numpy()[keep]
        np.add.at(scaled, who, cents.astype(exact) * scale)
        np.add.at(monthly_vsaa, who * window_months + (month - first), cents)
        months_counted += len(who)
    log.info("income: %d VID documents and %d VSAA months in the window, scale %d", documents, months_counted, scale)
    return PersonIncome(first, window_months, scale, scaled, monthly_vid.reshape(count, window_months),
                        monthly_vsaa.reshape(count, window_months))


def _spread_monthly(who: np.ndarray, low: np.ndarray, inside: np.ndarray, per_month: np.ndarray, first: int,
                    window_months: int) -> tuple[np.ndarray, np.ndarray]:
    """Each document's per-month share as (cell of the flattened persons × months grid, amount); the grid itself
    is summed once over all parts."""
    rows = np.repeat(np.arange(len(who)), inside)
    step = np.arange(len(rows)) - np.repeat(np.cumsum(inside) - inside, inside)
    return who[rows] * window_months + (low[rows] + step - first), per_month[rows]
