"""VSAA benefits and pensions (CONTRACTS §5): one total per person per month.

Each `<Month>` becomes one staged row. A person may have one total per month; when a month appears twice for the
same person (in one file or across files) every copy is quarantined as DUPLICATE_MONTH, because guessing which one
is right would decide on a number nobody sent.

Files go through the XML reader (`pipeline.sources.xmlcolumns.read_columns`, Month lines included) and are checked
a batch at a time in Arrow and numpy.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline.arrays import repeated_values
from pipeline.period import parse_months
from pipeline.quality import personcode
from pipeline.quality.pseudonym import person_key
from pipeline.quality.reasons import Reason
from pipeline.sources import xmlcolumns
from pipeline.sources.base import FileTask, StageContext, StageResult, stage_files
from pipeline.sources.common import Quarantine, parse_cents
from pipeline.sources.xmlcolumns import ColumnBatch, ColumnMap
from pipeline.sources.xmlstream import XmlLayout

SOURCE = "vsaa"
LAYOUT = XmlLayout("urn:eikis:vsaa:benefits:v1", "BenefitsExtract", "Person", "vsaa_benefits_v1.xsd")

SCHEMA = pa.schema(
    [
        ("person_no", pa.int64()),
        ("month", pa.int32()),
        ("amount_cents", pa.int64()),
        ("file", pa.string()),
        ("record", pa.int64()),
        ("line", pa.int64()),
    ]
)
# One row per PersonCode (the first row of its Person, as the XSD orders it) and one per Month; names stay behind.
COLUMNS = ColumnMap(LAYOUT, (("code", "PersonCode"), ("period", "Month/@period"), ("amount", "Month")),
                    row_per_child=True)
PROBLEMS = {
    Reason.INVALID_PERSON_CODE: "PersonCode is not 11 digits (optionally DDMMYY-NNNNN)",
    Reason.BAD_PERIOD: "Month/@period is not a real YYYY-MM",
    Reason.BAD_AMOUNT: "Month total must be >= 0 with at most 2 decimals",
    Reason.NEGATIVE_AMOUNT: "Month total must be >= 0 with at most 2 decimals",
    Reason.DUPLICATE_MONTH: "more than one total for the same month",
}
_PLAIN_AMOUNT = r"^[0-9]{1,12}(\.[0-9]{1,2})?$"  # the common form; anything else goes through parse_cents
_MONTH_BITS = 17  # a month index (year * 12 + month - 1, years 1900-9999) is below 2**17


def _parse_file(task: FileTask) -> tuple[int, list[dict[str, Any]], str | None]:
    """Stage one extract (or chunk): its rows, a PersonCode's and each Month's with their lines, go to the batch
    checks; a person with an invalid code is quarantined at its Person's line, looked up at the end."""
    digest = None if task.chunk else hashlib.sha256()
    months = _MonthBatches(task)
    try:
        for batch in xmlcolumns.read_columns(task.path, COLUMNS, task.chunk, digest, task.batch_rows, lines=True):
            months.add(batch)
    finally:
        months.writer.close()
    xmlcolumns.fill_lines(months.invalid_persons, task.path, LAYOUT, task.chunk)  # a Person's own line
    return months.records, months.quarantine.rows, digest.hexdigest() if digest else None


class _MonthBatches:
    """Checks and stages the rows of one file or chunk, batch by batch, in Arrow and numpy.

    A batch may start inside a Person whose PersonCode row came in the previous one, so the last person's
    number is carried over. `person_no` -1 marks a person whose code failed (its Months are left out)."""

    def __init__(self, task: FileTask) -> None:
        self.task = task
        self.quarantine = Quarantine(SOURCE)
        self.invalid_persons: list[dict[str, Any]] = []  # their quarantine rows, lines filled in at the end
        self.records = 0  # a record is one monthly total; a person with an invalid code counts as one
        self.last_person = (-1, -1)  # (record index, person_no) of the last PersonCode row seen
        task.part.parent.mkdir(parents=True, exist_ok=True)
        self.writer = pq.ParquetWriter(task.part, SCHEMA, compression="zstd")

    def add(self, batch: ColumnBatch) -> None:
        c = batch.columns
        owner = np.asarray(c["<record>"].to_numpy(), dtype=np.int64)
        is_code = np.asarray(c["<child>"].to_numpy()) == 0
        code_rows = np.flatnonzero(is_code)
        person_nos = self._person_numbers(c["code"].take(pa.array(code_rows)), owner[code_rows], batch.first)
        known = np.concatenate([[self.last_person[0]], owner[code_rows]])
        numbers = np.concatenate([[self.last_person[1]], person_nos])
        self.last_person = (int(known[-1]), int(numbers[-1]))
        month_rows = np.flatnonzero(~is_code)
        owner_no = numbers[np.searchsorted(known, owner[month_rows], side="right") - 1]
        kept = owner_no >= 0
        if not kept.any():
            return
        rows = month_rows[kept]
        self._check_and_write(owner_no[kept], c["period"].take(pa.array(rows)), c["amount"].take(pa.array(rows)),
                              batch.first + owner[rows], np.asarray(batch.lines)[rows])

    def _person_numbers(self, codes: pa.Array, owners: np.ndarray, first: int) -> np.ndarray:
        """The 11 digits of each PersonCode as a number, -1 (and one quarantined record) where the shape fails."""
        valid = np.asarray(pc.match_substring_regex(codes, personcode.SHAPE).to_numpy(zero_copy_only=False),
                           dtype=bool)
        numbers = np.full(len(codes), -1, dtype=np.int64)
        if valid.any():
            digits = pc.replace_substring(codes.filter(pa.array(valid)), "-", "")
            numbers[valid] = pc.cast(digits, pa.int64()).to_numpy()
        texts = codes.to_pylist() if not valid.all() else []
        for index in np.flatnonzero(~valid):
            candidate = personcode.candidate_digits(texts[index])
            self.quarantine.add(  # benefits left out: the household that could own them goes to REVIEW
                file=self.task.label, record=int(first + owners[index]), line=0, reason=Reason.INVALID_PERSON_CODE,
                detail=PROBLEMS[Reason.INVALID_PERSON_CODE],
                person_key=person_key(self.task.secret, candidate) if candidate else None, marks_review=True)
            self.invalid_persons.append(self.quarantine.rows[-1])
        self.records += int((~valid).sum())
        return numbers

    def _check_and_write(self, person_no: np.ndarray, periods: pa.Array, amounts: pa.Array, records: np.ndarray,
                         lines: np.ndarray) -> None:
        """The Month checks, in their order: the period first, then the amount."""
        self.records += len(person_no)
        period_ok, month = parse_months(periods)
        cents, amount_problem = _cents(amounts)
        good = period_ok & (amount_problem == "")
        for index in np.flatnonzero(~good):
            reason = Reason.BAD_PERIOD if not period_ok[index] else Reason(amount_problem[index])
            self.quarantine.add(file=self.task.label, record=int(records[index]), line=int(lines[index]),
                                reason=reason, detail=PROBLEMS[reason],
                                person_key=person_key(self.task.secret, f"{person_no[index]:011d}"),
                                marks_review=True)
        if not good.any():
            return
        count = int(good.sum())
        self.writer.write_batch(pa.RecordBatch.from_arrays([
            pa.array(person_no[good]),
            pa.array(month[good]),
            pa.array(cents[good]),
            pa.array([self.task.label] * count, type=pa.string()),
            pa.array(records[good]),
            pa.array(lines[good]),
        ], schema=SCHEMA))


def _cents(texts: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """`parse_cents` for a whole column: (cents, reason code or "" per text). The plain form is converted in Arrow
    (exact decimal arithmetic); any other text (spaces, a sign, junk) goes through `parse_cents` itself."""
    plain = pc.fill_null(pc.match_substring_regex(texts, _PLAIN_AMOUNT), False)
    safe = pc.if_else(plain, texts, pa.scalar("0"))
    cents = pc.cast(pc.multiply(pc.cast(safe, pa.decimal128(16, 2)), pa.scalar(100, pa.decimal128(3, 0))),
                    pa.int64()).to_numpy().copy()
    problems = np.full(len(texts), "", dtype=object)
    others = np.flatnonzero(~np.asarray(plain.to_numpy(zero_copy_only=False), dtype=bool))
    if len(others):
        originals = texts.take(pa.array(others)).to_pylist()
        for index, text in zip(others, originals, strict=True):
            value, problem = parse_cents(text or "")
            cents[index] = value or 0
            problems[index] = str(problem) if problem else ""
    return cents, problems


def stage(files: list[Path], ctx: StageContext) -> StageResult:
    result = stage_files(SOURCE, files, ctx, _parse_file, LAYOUT)
    _quarantine_duplicate_months(result.parts, result.quarantine, ctx)
    return result


def _quarantine_duplicate_months(parts: list[Path], quarantine: Quarantine, ctx: StageContext) -> None:
    """Quarantine every copy of a (person, month) staged more than once, across all parts. Person and month are
    packed into one integer key, so finding repeats is one sort; only a part holding a repeat is rewritten."""
    keys = [_person_month_keys(part) for part in parts]
    repeated = repeated_values(np.concatenate(keys) if keys else np.zeros(0, dtype=np.int64))
    if not len(repeated):
        return
    secret = ctx.settings.pseudonym_secret
    for part, part_keys in zip(parts, keys, strict=True):
        hit = np.isin(part_keys, repeated)
        if not hit.any():
            continue
        table = pq.read_table(part)
        for row in table.filter(pa.array(hit)).select(["person_no", "file", "record", "line"]).to_pylist():
            quarantine.add(file=row["file"], record=row["record"], line=row["line"], reason=Reason.DUPLICATE_MONTH,
                           detail=PROBLEMS[Reason.DUPLICATE_MONTH],
                           person_key=person_key(secret, f"{row['person_no']:011d}"), marks_review=True)
        pq.write_table(table.filter(pa.array(~hit)), part, compression="zstd")


def _person_month_keys(part: Path) -> np.ndarray:
    table = pq.read_table(part, columns=["person_no", "month"])
    person_no = table.column("person_no").to_numpy().astype(np.int64)
    return (person_no << _MONTH_BITS) | table.column("month").to_numpy().astype(np.int64)
