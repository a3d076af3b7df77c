"""VSAA benefits and pensions (CONTRACTS §5): one total per person per month.

Each `<Month>` becomes one staged row. A person may have one total per month; when a month appears twice for the
same person (in one file or across files) every copy is quarantined as DUPLICATE_MONTH, because guessing which one
is right would decide on a number nobody sent.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.period import try_parse_month
from pipeline.quality import personcode
from pipeline.quality.pseudonym import person_key
from pipeline.quality.reasons import Reason
from pipeline.sources.base import FileTask, StageContext, StageResult, stage_files
from pipeline.sources.common import PartWriter, Quarantine, parse_cents, read_parts
from pipeline.sources.xmlstream import XmlLayout, iter_records

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


def _parse_file(task: FileTask) -> tuple[int, list[dict[str, Any]], str | None]:
    """Parse one file; a "record" here is one monthly total (a person with an invalid code counts as one)."""
    digest = None if task.chunk else hashlib.sha256()
    code_tag = LAYOUT.qualified("PersonCode")
    month_tag = LAYOUT.qualified("Month")
    writer = PartWriter(task.part, SCHEMA, task.batch_rows)
    quarantine = Quarantine(SOURCE)
    records = 0
    for record in iter_records(task.path, LAYOUT, task.chunk, digest):
        code = next((child.text or "" for child in record.element if child.tag == code_tag), "")
        digits = personcode.normalize(code)
        key = person_key(task.secret, digits) if digits else None
        if digits is None:
            records += 1
            candidate = personcode.candidate_digits(code)
            quarantine.add(  # benefits left out: the household that could own them goes to REVIEW
                file=task.label,
                record=record.number,
                line=record.line,
                reason=Reason.INVALID_PERSON_CODE,
                detail="PersonCode is not 11 digits (optionally DDMMYY-NNNNN)",
                person_key=person_key(task.secret, candidate) if candidate else None,
                marks_review=True,
            )
            continue
        for child in record.element:
            if child.tag != month_tag:
                continue
            records += 1
            line = child.sourceline or record.line
            month = try_parse_month(child.get("period", ""))
            cents, amount_problem = parse_cents(child.text or "")
            problem = None
            if month is None:
                problem = (Reason.BAD_PERIOD, "Month/@period is not a real YYYY-MM")
            elif amount_problem is not None:
                problem = (amount_problem, "Month total must be >= 0 with at most 2 decimals")
            if problem:
                quarantine.add(file=task.label, record=record.number, line=line, reason=problem[0],
                               detail=problem[1], person_key=key, marks_review=True)
                continue
            writer.append((int(digits), month, cents, task.label, record.number, line))
    writer.close()
    return records, quarantine.rows, digest.hexdigest() if digest else None


def stage(files: list[Path], ctx: StageContext) -> StageResult:
    result = stage_files(SOURCE, files, ctx, _parse_file, LAYOUT)
    _quarantine_duplicate_months(result.parts, result.quarantine, ctx)
    return result


def _quarantine_duplicate_months(parts: list[Path], quarantine: Quarantine, ctx: StageContext) -> None:
    keys = read_parts(parts, ["person_no", "month"])
    repeated = keys.loc[keys.duplicated(keep=False)].drop_duplicates()
    if repeated.empty:
        return
    secret = ctx.settings.pseudonym_secret
    for part in parts:
        table = pq.read_table(part)
        frame = table.to_pandas()
        hit = frame.merge(repeated.assign(hit=True), on=["person_no", "month"], how="left")["hit"].notna().to_numpy()
        if not hit.any():
            continue
        for row in frame.loc[hit].itertuples(index=False):
            quarantine.add(file=row.file, record=row.record, line=row.line, reason=Reason.DUPLICATE_MONTH,
                           detail="more than one total for the same month",
                           person_key=person_key(secret, f"{row.person_no:011d}"), marks_review=True)
        pq.write_table(table.filter(pa.array(~hit)), part, compression="zstd")
