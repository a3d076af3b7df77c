"""VID income (CONTRACTS §4): gross income documents per person, the biggest source (≈25 M records a month).

Records are checked one by one while streaming and written straight to a Parquet part per input file, so memory
does not grow with the file. Names are read past and never stored. Corrections (one DocumentId submitted again)
are kept as they arrive; the decision keeps the latest `SubmittedAt` (pipeline.decide.income).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from pipeline.period import try_parse_month
from pipeline.quality import personcode
from pipeline.quality.pseudonym import person_key
from pipeline.quality.reasons import Reason
from pipeline.sources.base import FileTask, StageContext, StageResult, stage_files
from pipeline.sources.common import PartWriter, Quarantine, parse_cents
from pipeline.sources.xmlstream import XmlLayout, iter_records

SOURCE = "vid"
LAYOUT = XmlLayout("urn:eikis:vid:income:v1", "IncomeExtract", "Income", "vid_income_v1.xsd")
FIELDS = ("DocumentId", "PersonCode", "DocumentType", "PeriodStart", "PeriodEnd", "AmountEUR", "SubmittedAt")
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


def batch_columns(columns: dict[str, Sequence[Any]]) -> dict[str, pa.Array]:
    """Columns computed for a whole batch at once: the document hash (fixed-key SipHash, stable across processes
    and runs) and the timestamps, cast from their validated ISO text by Arrow."""
    ids = np.asarray(columns["document_id"], dtype=object)
    return {
        "doc_hash": pa.array(pd.util.hash_array(ids).view(np.int64)),
        "submitted_at": pa.array(columns["submitted_at"], type=pa.string()).cast(pa.timestamp("s")),
    }


def _parse_file(task: FileTask) -> tuple[int, list[dict[str, Any]]]:
    writer = PartWriter(task.part, SCHEMA, task.batch_rows, derive=batch_columns)
    quarantine = Quarantine(SOURCE)
    records = 0
    for record in iter_records(task.path, LAYOUT):
        records += 1
        # The XSD fixes the order: DocumentId, PersonCode, [GivenName], [Surname], then the last five below.
        # A record that breaks it fails the whole file, so reading by position is safe and avoids tag lookups.
        texts = [child.text or "" for child in record.element]
        document_id, code = texts[0], texts[1]
        document_type, start_text, end_text, amount_text, submitted_text = texts[-5:]
        digits = personcode.normalize(code)
        problem: tuple[Reason, str] | None = None
        start = try_parse_month(start_text)
        end = try_parse_month(end_text)
        whole, dot, fraction = amount_text.partition(".")
        if whole.isdigit() and len(whole) <= 12 and (not dot or (fraction.isdigit() and len(fraction) <= 2)):
            cents, amount_problem = int(whole) * 100 + int(fraction.ljust(2, "0")), None  # the common case
        else:
            cents, amount_problem = parse_cents(amount_text)
        submitted = _timestamp(submitted_text)
        if digits is None:
            problem = (Reason.INVALID_PERSON_CODE, "PersonCode is not 11 digits (optionally DDMMYY-NNNNN)")
        elif not document_id.strip() or len(document_id) > 64:
            problem = (Reason.MISSING_VALUE, "DocumentId is empty or longer than 64 characters")
        elif document_type not in DOCUMENT_TYPES:
            problem = (Reason.UNKNOWN_ENUM, f"DocumentType is not one of {'|'.join(sorted(DOCUMENT_TYPES))}")
        elif start is None or end is None or end < start:
            problem = (Reason.BAD_PERIOD, "PeriodStart/PeriodEnd is not a YYYY-MM range with start <= end")
        elif amount_problem is not None:
            problem = (amount_problem, "AmountEUR must be >= 0 with at most 2 decimals")
        elif submitted is None:
            problem = (Reason.BAD_DATE, "SubmittedAt is not an ISO date-time")
        if problem is not None:
            quarantine.add(
                file=task.label,
                record=record.number,
                line=record.line,
                reason=problem[0],
                detail=f"document {_safe_id(document_id)}: {problem[1]}",
                person_key=person_key(task.secret, digits) if digits else None,
                marks_review=digits is not None,
            )
            continue
        writer.append((document_id, int(digits), document_type, start, end, cents, submitted, task.label,
                       record.number))
    writer.close()
    return records, quarantine.rows


def _timestamp(text: str) -> str | None:
    """The ISO text of a valid timestamp, as naive UTC `YYYY-MM-DDTHH:MM:SS` for Arrow to cast; None if invalid."""
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    elif len(text) == 19 and text[10] == "T":
        return text
    return value.replace(microsecond=0).isoformat(timespec="seconds")


def _safe_id(document_id: str) -> str:
    """Document ids are VID's own references, not personal data; still, keep them short and printable."""
    return "".join(ch for ch in document_id[:40] if ch.isprintable()) or "(no id)"


def stage(files: list[Path], ctx: StageContext) -> StageResult:
    return stage_files(SOURCE, files, ctx, _parse_file)
