"""Each counting person's income in the window P-12 … P-1 (CONTRACTS §4, §5, §9), as named DuckDB queries.

The clauses read as `decide.rules` states them, one query each, run by DuckDB over the staged Parquet parts:
- §4 `LATEST_VERSIONS`: of every `DocumentId`, the version with the latest `SubmittedAt` (then file, record), if it
  reaches into the window;
- §9/§4 `VID_IN_WINDOW`: each latest document of a counting person, with the months of `P-12 … P-1` it covers;
- §9 `VSAA_IN_WINDOW`: each counting person's benefit months inside the window;
- §9 `PERSON_TOTALS`: Σ VID + Σ VSAA per person; `VID_MONTHS`, `VSAA_MONTHS`: per person and month, for the records.

Money is integer cents. A VID amount spread over n months gives each month cents/n, not always a whole cent, so
sums are kept as an exact integer numerator over a common denominator `scale` (the least common multiple of the
spread lengths in play: those of the documents reaching into the window), in DuckDB's 128-bit HUGEINT: an
overflow stops the run with DuckDB's error, it is never rounded or wrapped. Nothing here is a float.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from pipeline import engine
from pipeline.decide.rules import income_window
from pipeline.logs import get_logger
from pipeline.sources.vidversions import repeated_documents

log = get_logger("decide.income")

LATEST_VERSIONS = """
-- §4: "The same DocumentId more than once = a correction: the one with the latest SubmittedAt wins"; two versions
-- submitted at the same second: the later one in the extract (file name, then record) wins. Only a document whose
-- staged id hash (`doc_hash`) repeats can have versions: `versions`, every record of those documents, which ingest
-- set aside (`sources.vidversions`); among them the real DocumentId decides, so a hash collision costs time, never
-- correctness. Every other record is its document's only version. §4: "only months inside the window count":
-- of the latest versions, only those reaching into the window P-12 … P-1 are kept (VID_IN_WINDOW spreads nothing
-- else), chosen after the latest version is, never before.
CREATE TEMP TABLE latest_versions AS
WITH corrected AS (
         SELECT person_no, period_start, period_end, amount_cents FROM versions
         QUALIFY row_number() OVER (PARTITION BY document_id ORDER BY submitted_at DESC, file DESC, record DESC) = 1)
SELECT person_no, period_start, period_end, amount_cents FROM read_parquet($vid_parts)
ANTI JOIN versions USING (doc_hash)
WHERE period_end >= $first AND period_start <= $last
UNION ALL
SELECT * FROM corrected WHERE period_end >= $first AND period_start <= $last
"""

COUNTING_PERSONS = """
-- §3: the counting persons (the caller's rows); a number listed twice answers with its first row.
CREATE TEMP TABLE counting_persons AS
SELECT row, person_no FROM persons QUALIFY row_number() OVER (PARTITION BY person_no ORDER BY row) = 1
"""

VID_IN_WINDOW = """
-- §9: "Income window for P: the 12 calendar months P-12 … P-1"; §4: "An amount is spread evenly over the months
-- from PeriodStart to PeriodEnd; only months inside the window count" (rules.window_share): each month in the
-- window gets amount_cents / spread, kept exactly as amount_cents × (scale / spread) over `scale`.
CREATE TEMP TABLE vid_in_window AS
SELECT p.row, month, d.amount_cents::HUGEINT * ($scale // (d.period_end - d.period_start + 1)) AS scaled
FROM latest_versions d
JOIN counting_persons p USING (person_no),
     generate_series(greatest(d.period_start, $first), least(d.period_end, $last)) AS months(month)
"""

VSAA_IN_WINDOW = """
-- §9: "Σ VSAA in window": a counting person's benefit months from P-12 to P-1.
CREATE TEMP TABLE vsaa_in_window AS
SELECT p.row, b.month, b.amount_cents::HUGEINT AS cents
FROM read_parquet($vsaa_parts) b JOIN counting_persons p USING (person_no)
WHERE b.month BETWEEN $first AND $last
"""

VID_MONTHS = """
-- §9 for the decision records: each counting person's VID per window month, rounded half-up to cents for display
-- (rules.display_cents).
SELECT row, month, ((2 * sum(scaled) + $scale) // (2 * $scale))::BIGINT AS cents FROM vid_in_window GROUP BY ALL
"""

VSAA_MONTHS = """
-- §9 for the decision records: each counting person's VSAA cents per window month.
SELECT row, month, sum(cents)::BIGINT AS cents FROM vsaa_in_window GROUP BY ALL
"""

PERSON_TOTALS = """
-- §9: "Σ VID income in window + Σ VSAA in window" per counting person, exact over `scale`, and in whole cents
-- rounded half-up for display (rules.display_cents).
SELECT row, sum(scaled)::HUGEINT AS scaled, ((2 * sum(scaled) + $scale) // (2 * $scale))::BIGINT AS total_cents
FROM (SELECT row, scaled FROM vid_in_window UNION ALL SELECT row, cents * $scale FROM vsaa_in_window)
GROUP BY row ORDER BY row
"""


@dataclass
class PersonIncome:
    """Income per counting person (rows follow the `person_nos` given to `person_income`)."""

    window_start: int
    window_months: int
    scale: int                      # common denominator: true total cents = scaled / scale
    scaled: np.ndarray              # int64 (Python ints when int64 could overflow) per person, VID + VSAA
    total_cents: np.ndarray         # int64 per person, the total rounded half-up to cents (for the records)
    monthly: dict[str, pa.Table]    # "vid" and "vsaa": row, month, cents (int64) where a person has income;
                                    # empty when not asked for (`with_months=False`)


def person_income(person_nos: np.ndarray, vid_parts: list[Path], vsaa_parts: list[Path], period: int,
                  window_months: int, *, with_months: bool = True) -> PersonIncome:
    """Sum VID and VSAA per counting person over the policy's window, running the queries above in order; the
    per-month figures (`VID_MONTHS`, `VSAA_MONTHS`) only `with_months`."""
    first, last = income_window(period, window_months)
    with engine.connect() as db:
        db.register("persons", pa.table({"row": np.arange(len(person_nos), dtype=np.int64),
                                         "person_no": pa.array(person_nos, type=pa.int64())}))
        db.execute(COUNTING_PERSONS)
        window = {"first": first, "last": last}
        if vid_parts:
            db.register("versions", repeated_documents(vid_parts))
            db.execute(LATEST_VERSIONS, {**window, "vid_parts": [str(p) for p in vid_parts]})
        else:
            db.execute("CREATE TEMP TABLE latest_versions (person_no BIGINT, period_start INTEGER, "
                       "period_end INTEGER, amount_cents BIGINT)")
        spreads = db.execute("SELECT DISTINCT period_end - period_start + 1 FROM latest_versions").fetchall()
        scale = math.lcm(1, *(int(spread) for (spread,) in spreads))
        db.execute(VID_IN_WINDOW, {**window, "scale": scale})
        if vsaa_parts:
            db.execute(VSAA_IN_WINDOW, {**window, "vsaa_parts": [str(p) for p in vsaa_parts]})
        else:
            db.execute("CREATE TEMP TABLE vsaa_in_window (row BIGINT, month INTEGER, cents HUGEINT)")
        totals = db.sql(PERSON_TOTALS, params={"scale": scale}).to_arrow_table()
        monthly = {"vid": db.sql(VID_MONTHS, params={"scale": scale}).to_arrow_table(),
                   "vsaa": db.sql(VSAA_MONTHS).to_arrow_table()} if with_months else {}
    scaled = scaled_per_row(totals, len(person_nos))
    total_cents = np.zeros(len(person_nos), dtype=np.int64)
    total_cents[totals.column("row").to_numpy()] = totals.column("total_cents").to_numpy()
    log.info("income: %d persons with income in the window, scale %d", totals.num_rows, scale)
    return PersonIncome(first, window_months, scale, scaled, total_cents, monthly)


def scaled_per_row(totals: pa.Table, count: int) -> np.ndarray:
    """The exact totals (`row`, `scaled` as DuckDB's HUGEINT gives them, decimal128(38, 0)) as one array over the
    `count` rows (persons, or households): int64, or Python ints should one not fit (Arrow's checked cast says
    which)."""
    try:
        values = totals.column("scaled").cast(pa.int64()).to_numpy()
    except pa.ArrowInvalid:
        values = np.array([int(value) for value in totals.column("scaled").to_pylist()], dtype=object)
    scaled = np.zeros(count, dtype=values.dtype)
    scaled[totals.column("row").to_numpy()] = values
    return scaled
