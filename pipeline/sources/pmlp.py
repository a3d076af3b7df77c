"""PMLP persons (CONTRACTS §3): who lives where, with Status and Vital as sent (who counts is `decide.rules`).

Per record: the personal code rule, the allowed values. Across files: a code seen twice sends every copy to
quarantine (DUPLICATE_PERSON), and an address code that is not an existing ARIS address is UNKNOWN_ADDRESS.
A quarantined person who would have counted marks their household for REVIEW.

Names never reach staging in plain text: each record keeps the keyed hashes of its normalised name tokens
(`name_keys`, for the staff portal's name search) and its display name sealed with the portal data key
(`name_sealed`), both computed while parsing.
"""

from __future__ import annotations

import hashlib

import pandas as pd
import pyarrow as pa

from pipeline.filework import map_files
from pipeline.quality import personcode
from pipeline.quality.pseudonym import name_keys, person_key
from pipeline.quality.reasons import Reason
from pipeline.quality.sealing import Sealer
from pipeline.sources.base import FileTask, StageContext, StageResult
from pipeline.sources.common import PartWriter, Quarantine, read_parts, write_frame
from pipeline.sources.xmlcolumns import ColumnMap, iter_rows
from pipeline.sources.xmlstream import XmlLayout

SOURCE = "pmlp"
LAYOUT = XmlLayout("urn:eikis:pmlp:persons:v1", "PersonsExtract", "Person", "pmlp_persons_v1.xsd")
COLUMNS = ColumnMap(LAYOUT, tuple((name, name) for name in (
    "PersonCode", "GivenName", "Surname", "Status", "Vital", "AddressKind", "AddressCode", "AddressText")))
STATUSES = {"ACTIVE", "INACTIVE"}
VITALS = {"ALIVE", "DECEASED"}
ADDRESS_KINDS = {"DECLARED", "REGISTERED", "UA_CONTACT"}

RAW_SCHEMA = pa.schema(
    [
        ("person_code", pa.string()),
        ("person_key", pa.string()),
        ("name_keys", pa.string()),
        ("name_sealed", pa.string()),
        ("status", pa.string()),
        ("vital", pa.string()),
        ("address_kind", pa.string()),
        ("aris_code", pa.string()),
        ("address_text", pa.string()),
        ("file", pa.string()),
        ("record", pa.int64()),
        ("line", pa.int64()),
        ("reason", pa.string()),
        ("detail", pa.string()),
    ]
)
SCHEMA = pa.schema([f for f in RAW_SCHEMA if f.name not in ("reason", "detail")]
                   + [("person_no", pa.int64())])


def _parse_file(task: FileTask) -> tuple[int, str | None]:
    writer = PartWriter(task.part.with_suffix(".raw"), RAW_SCHEMA, task.batch_rows)
    digest = None if task.chunk else hashlib.sha256()
    sealer = Sealer(task.data_key)
    for record in iter_rows(task.path, COLUMNS, task.chunk, digest, task.batch_rows):
        code, given, surname, status, vital, kind, aris_code, address_text = record.texts
        digits = personcode.normalize(code) if personcode.is_valid(code) else None
        reason, detail = _record_problem(code, digits, status, vital, kind, aris_code)
        writer.append(
            (
                digits,
                person_key(task.secret, digits) if digits else None,
                name_keys(task.secret, given, surname),
                sealer.seal(f"{given} {surname}"),
                status,
                vital,
                kind,
                aris_code,
                address_text,
                task.label,
                record.number,
                record.line,
                reason,
                detail,
            )
        )
    return writer.close(), digest.hexdigest() if digest else None


def _record_problem(
    code: str, digits: str | None, status: str, vital: str, kind: str, aris_code: str
) -> tuple[str | None, str | None]:
    if digits is None:
        return Reason.INVALID_PERSON_CODE, "PersonCode fails the §3 rule"
    for name, value, allowed in (
        ("Status", status, STATUSES),
        ("Vital", vital, VITALS),
        ("AddressKind", kind, ADDRESS_KINDS),
    ):
        if value not in allowed:
            return Reason.UNKNOWN_ENUM, f"{name} is not one of {'|'.join(sorted(allowed))}"
    if not aris_code.strip():
        return Reason.MISSING_VALUE, "AddressCode is empty"
    return None, None


def stage(files: list, ctx: StageContext) -> StageResult:
    tasks = ctx.tasks(SOURCE, files, LAYOUT)
    outcomes = map_files(_parse_file, tasks, ctx.settings.workers)
    raw_parts = [task.part.with_suffix(".raw") for task in tasks]
    persons = read_parts(raw_parts)
    for part in raw_parts:
        part.unlink()

    would_count = ~(persons["status"].isin(["INACTIVE"]) | persons["vital"].isin(["DECEASED"]))
    reason = persons["reason"].astype("object")
    detail = persons["detail"].astype("object")

    existing = ctx.is_existing_address(persons["aris_code"])
    unknown = reason.isna() & ~existing
    reason[unknown] = str(Reason.UNKNOWN_ADDRESS)
    detail[unknown] = "AddressCode is not an existing (EKS) ARIS address"

    has_code = persons["person_code"].notna()
    duplicated = has_code & persons["person_code"].duplicated(keep=False)
    reason[duplicated] = str(Reason.DUPLICATE_PERSON)
    detail[duplicated] = "PersonCode appears more than once in the PMLP extract"

    bad = reason.notna()
    quarantine = Quarantine(SOURCE)
    review_address = existing & would_count
    _quarantine_rows(quarantine, persons, bad, reason, detail, review_address)

    staged = persons.loc[~bad].copy()
    staged["person_no"] = staged["person_code"].astype("int64")
    part = ctx.part_dir(SOURCE) / "part-0000.parquet"
    write_frame(staged, part, SCHEMA)
    result = StageResult(parts=[part], quarantine=quarantine)
    result.add_file_outcomes(tasks, outcomes)
    return result


def _quarantine_rows(
    quarantine: Quarantine,
    persons: pd.DataFrame,
    bad: pd.Series,
    reason: pd.Series,
    detail: pd.Series,
    review_address: pd.Series,
) -> None:
    selected = persons.loc[bad]
    for index, row in selected.iterrows():
        marks = bool(review_address[index])
        quarantine.add(
            file=row["file"],
            record=int(row["record"]),
            line=int(row["line"]),
            reason=Reason(reason[index]),
            detail=str(detail[index]),
            person_key=row["person_key"] if pd.notna(row["person_key"]) else None,
            aris_code=row["aris_code"] if marks else None,
            marks_review=marks,
        )
