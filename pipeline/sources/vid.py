"""VID income (CONTRACTS §4): gross income documents per person, the biggest source (≈25 M records a month).

Records are checked a batch at a time as the reader hands them over and written straight to a Parquet part per
input file. Names are read past and never stored. Corrections (one DocumentId submitted again)
are kept as they arrive; the decision keeps the latest `SubmittedAt` (pipeline.decide.income), looking only at the
documents that `vidversions` marked, once staging is done, as having more than one version.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline import textcolumns
from pipeline.period import parse_months
from pipeline.quality import personcode
from pipeline.quality.pseudonym import person_key
from pipeline.quality.reasons import Reason
from pipeline.sources import xmlcolumns
from pipeline.sources.base import FileTask, StageContext, StageResult, stage_files
from pipeline.sources.common import Quarantine
from pipeline.sources.vidversions import mark_repeated_documents
from pipeline.sources.xmlcolumns import ColumnMap
from pipeline.sources.xmlstream import XmlLayout

SOURCE = "vid"
LAYOUT = XmlLayout("urn:eikis:vid:income:v1", "IncomeExtract", "Income", "vid_income_v1.xsd")
DOCUMENT_TYPES = frozenset({"EMPLOYER_NOTICE", "ANNUAL_DECLARATION", "MICROENTERPRISE_DECLARATION", "OTHER"})

SCHEMA = pa.schema(
    [
        ("document_id", pa.string()),
        ("person_no", pa.int64()),          # the 11-digit personal code as a number: compact, fast to join
        ("document_type", pa.string()),
        ("period_start", pa.int32()),
        ("period_end", pa.int32()),
        ("amount_cents", pa.int64()),
        ("submitted_at", pa.timestamp("s")),
        ("file", pa.string()),
        ("record", pa.int64()),
        ("doc_hash", pa.int64()),           # 64-bit hash of document_id, to find corrections without strings
    ]
)
_AMOUNT = r"^[0-9]{1,12}(\.[0-9]{1,2})?$"
_NEGATIVE = r"^-[0-9]{1,12}(\.[0-9]{1,2})?$"
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S"
# Parts are internal and read once by the decision: lz4 with dictionaries only where values repeat writes and reads
# in half the CPU of zstd with every column dictionary-encoded, at a similar size (docs/benchmarks.md).
PART_FORMAT: dict[str, Any] = {
    "compression": "lz4",
    "use_dictionary": ["person_no", "document_type", "period_start", "period_end", "amount_cents", "submitted_at",
                       "file"],
    "column_encoding": {"record": "DELTA_BINARY_PACKED"},  # a running number: deltas of 1
}


_MIX = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93],
                dtype=np.uint64)


def hash64(texts: pa.Array) -> np.ndarray:
    """A stable 64-bit hash of each text, vectorised: the text as UTF-32 padded to an even width of its own (its
    length + 1), read as 64-bit words and folded with multiply-xorshift. It depends on the text alone, never on
    the other texts of its batch, so two versions of a document always meet. Only used to find candidate
    corrections, which are then compared on the real text, so a collision costs a comparison, never a wrong
    decision. ASCII ids (VID's own) are widened to UTF-32 straight from Arrow's bytes; anything else goes
    through Python strings, to the same values."""
    lengths = pc.utf8_length(texts).to_numpy(zero_copy_only=False)
    own_width = (np.maximum(2, lengths + 1) // 2 * 2).astype(np.uint64)
    width = int(own_width.max()) if len(texts) else 2
    units = textcolumns.ascii_utf32(texts, width)
    if units is None:
        units = np.array(texts.to_numpy(zero_copy_only=False), dtype=f"<U{width}").view("<u4")
    words = units.view(np.uint64).reshape(len(texts), -1)
    state = own_width.copy()
    with np.errstate(over="ignore"):
        for column in range(words.shape[1]):
            folded = (state ^ words[:, column]) * _MIX[column % 4]
            folded ^= folded >> np.uint64(29)
            state = np.where(2 * column < own_width, folded, state)  # only the text's own words
    return state.view(np.int64)


_ISO_DIGITS = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]  # YYYY-MM-DDTHH:MM:SS
_ISO_SEPARATORS = {4: "-", 7: "-", 10: "T", 13: ":", 16: ":"}
_DAYS_IN_MONTH = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


def _timestamps(texts: pa.Array) -> pa.Array:
    """ISO texts -> timestamps (null when not a real date-time). The plain form with an ordinary calendar date
    and time (nearly every record) is read off the bytes in numpy; the rest keep the exact older route."""
    fits, matrix = textcolumns.fixed_width(texts, 19)
    digits_ok, number = textcolumns.digits_at(matrix, _ISO_DIGITS)
    year, month, day = number // 10**10, number // 10**8 % 100, number // 10**6 % 100
    hour, minute, second = number // 10**4 % 100, number // 100 % 100, number % 100
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    days_in_month = _DAYS_IN_MONTH[np.clip(month, 1, 12) - 1] + ((month == 2) & leap)
    ordinary = (fits & digits_ok & textcolumns.chars_at(matrix, _ISO_SEPARATORS) & (year >= 1)
                & (month >= 1) & (month <= 12) & (day >= 1) & (day <= days_in_month)
                & (hour < 24) & (minute < 60) & (second < 60))
    months = np.where(ordinary, (year - 1970) * 12 + month - 1, 0).astype("datetime64[M]")
    days = months.astype("datetime64[D]").astype(np.int64) + day - 1
    seconds = np.where(ordinary, days * 86400 + hour * 3600 + minute * 60 + second, 0)
    missing = np.flatnonzero(~ordinary)
    if not len(missing):
        return pa.array(seconds, type=pa.timestamp("s"))
    rest = _exact_timestamps(texts.take(pa.array(missing)))
    seconds[missing] = pc.fill_null(rest.cast(pa.int64()), 0).to_numpy()
    null = np.zeros(len(seconds), dtype=bool)
    null[missing] = np.asarray(rest.is_null().to_numpy(zero_copy_only=False))
    return pa.array(seconds, type=pa.timestamp("s"), mask=null)


def _exact_timestamps(texts: pa.Array) -> pa.Array:
    """The general route: the plain form is cast by Arrow and checked by formatting it back (Arrow alone would
    roll 30 February over); other ISO forms go through Python."""
    parsed = pc.strptime(texts, format=_TIME_FORMAT, unit="s", error_is_null=True)
    plain = pc.match_substring_regex(texts, r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}$")
    written_day = pc.cast(pc.utf8_slice_codeunits(pc.if_else(plain, texts, pa.scalar("2000-01-01")), 8, 10),
                          pa.int64())
    exact = pc.and_(plain, pc.equal(pc.day(parsed), written_day))  # Arrow rolls 30 February over to 1 March
    exact = pc.and_(exact, pc.greater_equal(pc.year(parsed), 1))  # Arrow takes year 0000, Python cannot hold it
    parsed = pc.if_else(pc.fill_null(exact, False), parsed, pa.scalar(None, pa.timestamp("s")))
    missing = np.flatnonzero(pc.is_null(parsed).to_numpy(zero_copy_only=False))
    if not len(missing):
        return parsed
    values = parsed.to_pylist()
    originals = texts.to_pylist()
    for index in missing:
        values[index] = _timestamp(originals[index])
    return pa.array(values, type=pa.timestamp("s"))


def _timestamp(text: str) -> dt.datetime | None:
    try:
        value = dt.datetime.fromisoformat(text.strip())
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
    except (ValueError, OverflowError):  # not a date-time, or one pushed outside years 1..9999 by its offset
        return None
    return value.replace(microsecond=0)


class _Batch:
    """Checks and types the records of one file or chunk a batch at a time, writing the good ones to its part.
    Quarantine rows get their lines afterwards (`xmlcolumns.fill_lines`)."""

    def __init__(self, task: FileTask, quarantine: Quarantine) -> None:
        self.task = task
        self.quarantine = quarantine
        self.numbers = np.zeros(0, dtype=np.int64)  # the whole-file number of each record of the batch
        self.signed = True  # some amount starts with "-" (set per batch)
        task.part.parent.mkdir(parents=True, exist_ok=True)
        self.writer = pq.ParquetWriter(task.part, SCHEMA, **PART_FORMAT)

    def check_and_write(self, columns: dict[str, pa.Array], first: int) -> None:
        """Check and type one batch of raw texts, its records numbered from `first`."""
        self.numbers = np.arange(first, first + len(columns["document_id"]), dtype=np.int64)
        self.signed = bool(pc.any(pc.starts_with(columns["amount"], "-")).as_py())  # rare: skip the sign regexes
        if self.signed:
            negative_zero = pc.match_substring_regex(columns["amount"], r"^-0+(\.0{1,2})?$")
            columns["amount"] = pc.if_else(negative_zero, pa.scalar("0"), columns["amount"])  # "-0.00" is zero
        first_failed = self._reasons(columns)
        good = first_failed == len(RULES)
        if not good.all():
            self._quarantine(columns, first_failed)
        self._write(columns, good)

    def _reasons(self, c: dict[str, pa.Array]) -> np.ndarray:
        """Per record, the position in RULES of its first failing check (len(RULES) for a good record)."""
        start_ok, self.start = parse_months(c["period_start"])
        end_ok, self.end = parse_months(c["period_end"])
        self.submitted = _timestamps(c["submitted_at"])
        identifier = pc.utf8_length(pc.utf8_trim_whitespace(c["document_id"]))
        failing = {
            Reason.INVALID_PERSON_CODE: pc.invert(pc.match_substring_regex(c["person_code"], personcode.SHAPE)),
            Reason.MISSING_VALUE: pc.or_(pc.equal(identifier, 0), pc.greater(pc.utf8_length(c["document_id"]), 64)),
            Reason.UNKNOWN_ENUM: pc.invert(pc.is_in(c["document_type"], pa.array(sorted(DOCUMENT_TYPES)))),
            Reason.BAD_PERIOD: ~(start_ok & end_ok & (self.start <= self.end)),
            Reason.NEGATIVE_AMOUNT: pc.match_substring_regex(c["amount"], _NEGATIVE) if self.signed else None,
            Reason.BAD_AMOUNT: pc.invert(pc.match_substring_regex(c["amount"], _AMOUNT)),
            Reason.BAD_DATE: pc.is_null(self.submitted),
        }
        first = np.full(len(c["document_id"]), len(RULES), dtype=np.int8)
        for position in reversed(range(len(RULES))):  # an earlier rule overwrites a later one
            failed = failing[RULES[position]]
            if failed is not None:
                first[np.asarray(failed, dtype=bool)] = position
        return first

    def _quarantine(self, c: dict[str, pa.Array], first_failed: np.ndarray) -> None:
        bad = np.flatnonzero(first_failed < len(RULES))
        ids, texts = c["document_id"].take(bad).to_pylist(), c["person_code"].take(bad).to_pylist()
        for index, document, text in zip(bad, ids, texts, strict=True):
            reason = RULES[first_failed[index]]
            digits = personcode.normalize(text) or personcode.candidate_digits(text)
            self.quarantine.add(
                file=self.task.label, record=int(self.numbers[index]), line=0, reason=reason,
                detail=f"document {_safe_id(document)}: {PROBLEMS[reason]}",
                person_key=person_key(self.task.secret, digits) if digits else None,
                marks_review=True)  # income left out: its household goes to REVIEW, or the run counts it unmatched

    def _write(self, c: dict[str, pa.Array], good: np.ndarray) -> None:
        """Type the good records and append them to the part (every record good is the usual case: no filter)."""
        if not good.any():
            return
        every = bool(good.all())
        mask = pa.array(good)

        def kept(values: pa.Array | np.ndarray) -> pa.Array:
            return values if every else values.filter(mask)

        amounts = pc.cast(kept(c["amount"]), pa.decimal128(16, 2))
        cents = pc.cast(pc.multiply(amounts, pa.scalar(100, pa.decimal128(3, 0))), pa.int64())
        ids = kept(c["document_id"])
        batch = pa.RecordBatch.from_arrays([
            ids,
            pc.cast(pc.replace_substring(kept(c["person_code"]), "-", ""), pa.int64()),
            kept(c["document_type"]),
            pa.array(self.start[good]),
            pa.array(self.end[good]),
            cents,
            kept(self.submitted),
            pa.repeat(pa.scalar(self.task.label, pa.string()), len(ids)),
            pa.array(self.numbers[good]),
            pa.array(hash64(c["document_id"])[good]),
        ], schema=SCHEMA)
        self.writer.write_batch(batch)


RULES = (Reason.INVALID_PERSON_CODE, Reason.MISSING_VALUE, Reason.UNKNOWN_ENUM, Reason.BAD_PERIOD,
         Reason.NEGATIVE_AMOUNT, Reason.BAD_AMOUNT, Reason.BAD_DATE)  # the record rules, in the order they apply
PROBLEMS = {
    Reason.INVALID_PERSON_CODE: "PersonCode is not 11 digits (optionally DDMMYY-NNNNN)",
    Reason.MISSING_VALUE: "DocumentId is empty or longer than 64 characters",
    Reason.UNKNOWN_ENUM: f"DocumentType is not one of {'|'.join(sorted(DOCUMENT_TYPES))}",
    Reason.BAD_PERIOD: "PeriodStart/PeriodEnd is not a YYYY-MM range with start <= end",
    Reason.NEGATIVE_AMOUNT: "AmountEUR must be >= 0",
    Reason.BAD_AMOUNT: "AmountEUR must be a number with at most 2 decimals",
    Reason.BAD_DATE: "SubmittedAt is not an ISO date-time",
}


COLUMNS = ColumnMap(LAYOUT, (("document_id", "DocumentId"), ("person_code", "PersonCode"),
                             ("document_type", "DocumentType"), ("period_start", "PeriodStart"),
                             ("period_end", "PeriodEnd"), ("amount", "AmountEUR"), ("submitted_at", "SubmittedAt")))


def _parse_file(task: FileTask) -> tuple[int, list[dict[str, Any]], str | None]:
    """Stage one extract (or chunk): the reader's string columns go straight to the batch checks. Lines are
    looked up after reading, for quarantined records only."""
    digest = None if task.chunk else hashlib.sha256()
    quarantine = Quarantine(SOURCE)
    batch = _Batch(task, quarantine)
    records = 0
    for part in xmlcolumns.read_columns(task.path, COLUMNS, task.chunk, digest, task.batch_rows):
        records += part.rows
        batch.check_and_write(part.columns, part.first)
    batch.writer.close()
    xmlcolumns.fill_lines(quarantine.rows, task.path, LAYOUT, task.chunk)
    return records, quarantine.rows, digest.hexdigest() if digest else None


def _safe_id(document_id: str) -> str:
    """Document ids are VID's own references, not personal data; still, keep them short and printable."""
    return "".join(ch for ch in document_id[:40] if ch.isprintable()) or "(no id)"


def stage(files: list[Path], ctx: StageContext) -> StageResult:
    """Stage every extract, then mark the documents that have more than one version across all of them
    (`vidversions`: the decision looks only at those for §4's corrections)."""
    result = stage_files(SOURCE, files, ctx, _parse_file, LAYOUT)
    if result.parts:
        mark_repeated_documents(result.parts)
    return result
