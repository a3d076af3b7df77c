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

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline.arrays import repeated_values
from pipeline.filework import map_files
from pipeline.quality import personcode
from pipeline.quality.pseudonym import name_keys_column, person_keys_column
from pipeline.quality.reasons import Reason
from pipeline.quality.sealing import Sealer
from pipeline.sources.base import FileTask, StageContext, StageResult
from pipeline.sources.common import Quarantine
from pipeline.sources.xmlcolumns import ColumnBatch, ColumnMap, read_columns
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
REPEATING = ["name_keys", "status", "vital", "address_kind", "aris_code", "address_text", "file"]
"""The staged columns whose values repeat across persons. Only these are dictionary-encoded in Parquet: for the
unique ones (codes, keys, sealed names, numbers) a dictionary only grows until the writer gives it up, which costs
CPU to write and more to read."""
COMPRESSION = {name: "none" if name == "name_sealed" else "zstd" for name in SCHEMA.names}
"""Sealed names are random bytes in base64: zstd saves only a fifth of them, for CPU on every write and read;
they are stored as they are (national staging is 177 MB instead of 147)."""


def _parse_file(task: FileTask) -> tuple[int, str | None]:
    """Check, key and seal one extract (or chunk) batch by batch into a raw part that still holds every record
    with its reason; `stage` then applies the checks that span the files. The raw part is an uncompressed Arrow
    file: written and mapped back for the price of a copy, where Parquet would encode and decode every value."""
    digest = None if task.chunk else hashlib.sha256()
    sealer = Sealer(task.data_key)
    records = 0
    task.part.parent.mkdir(parents=True, exist_ok=True)
    with pa.OSFile(str(task.part.with_suffix(".arrow")), "wb") as sink, pa.ipc.new_file(sink, RAW_SCHEMA) as writer:
        for batch in read_columns(task.path, COLUMNS, task.chunk, digest, task.batch_rows, lines=True):
            writer.write_batch(_raw_batch(task, sealer, batch))
            records += batch.rows
    return records, digest.hexdigest() if digest else None


def _raw_batch(task: FileTask, sealer: Sealer, batch: ColumnBatch) -> pa.RecordBatch:
    """One batch of records, typed and checked in Arrow; only the keyed hashes and the sealing run per value."""
    c = batch.columns
    valid = personcode.valid_codes(c["PersonCode"])
    digits = pc.replace_substring(c["PersonCode"], "-", "").filter(valid)
    no_value = pa.nulls(batch.rows, pa.string())
    reason, detail = _record_problems(c, valid)
    display = pc.binary_join_element_wise(c["GivenName"], c["Surname"], " ").cast(pa.binary())
    return pa.RecordBatch.from_arrays([
        pc.replace_with_mask(no_value, valid, digits),
        pc.replace_with_mask(no_value, valid, person_keys_column(task.secret, digits)),
        name_keys_column(task.secret, c["GivenName"], c["Surname"]),
        sealer.seal_column(display),
        c["Status"], c["Vital"], c["AddressKind"], c["AddressCode"], c["AddressText"],
        pa.array(np.full(batch.rows, task.label, dtype=object), pa.string()),
        pa.array(np.arange(batch.first, batch.first + batch.rows), pa.int64()),
        pa.array(batch.lines, pa.int64()),
        reason, detail,
    ], schema=RAW_SCHEMA)


def _record_problems(c: dict[str, pa.Array], valid: pa.Array) -> tuple[pa.Array, pa.Array]:
    """The first failing record rule per record (reason, detail), in the order of the rules; null when none."""
    checks = [(pc.invert(valid), Reason.INVALID_PERSON_CODE, "PersonCode fails the §3 rule")]
    for name, allowed in (("Status", STATUSES), ("Vital", VITALS), ("AddressKind", ADDRESS_KINDS)):
        checks.append((pc.invert(pc.is_in(c[name], pa.array(sorted(allowed)))), Reason.UNKNOWN_ENUM,
                       f"{name} is not one of {'|'.join(sorted(allowed))}"))
    checks.append((_blank(c["AddressCode"]), Reason.MISSING_VALUE, "AddressCode is empty"))
    reason = detail = pa.nulls(len(valid), pa.string())
    for failed, code, text in reversed(checks):
        reason = pc.if_else(failed, pa.scalar(str(code)), reason)
        detail = pc.if_else(failed, pa.scalar(text), detail)
    return reason, detail


def _blank(texts: pa.Array) -> pa.Array:
    """True where Python's `str.strip()` leaves nothing. A text with a visible ASCII character is not blank; the
    rare rest is asked of `str.strip()` itself, so the Unicode whitespace set is Python's, not Arrow's."""
    unsure = np.flatnonzero(~pc.match_substring_regex(texts, "[!-~]").to_numpy(zero_copy_only=False))
    blank = np.zeros(len(texts), dtype=bool)
    blank[unsure] = [not text.strip() for text in texts.take(pa.array(unsure, pa.int64())).to_pylist()]
    return pa.array(blank)


def stage(files: list, ctx: StageContext) -> StageResult:
    tasks = ctx.tasks(SOURCE, files, LAYOUT)
    outcomes = map_files(_parse_file, tasks, ctx.settings.workers)
    raw_parts = [task.part.with_suffix(".arrow") for task in tasks]
    persons = pa.concat_tables([pa.ipc.open_file(pa.memory_map(str(part))).read_all() for part in raw_parts]
                               + [RAW_SCHEMA.empty_table()])
    for part in raw_parts:
        part.unlink()

    reason, detail = persons["reason"], persons["detail"]
    existing = ctx.is_existing_address(persons["aris_code"])
    unknown = pa.array(~existing & pc.is_null(reason).to_numpy(zero_copy_only=False))
    reason = pc.if_else(unknown, pa.scalar(str(Reason.UNKNOWN_ADDRESS)), reason)
    detail = pc.if_else(unknown, pa.scalar("AddressCode is not an existing (EKS) ARIS address"), detail)

    person_no = pc.cast(persons["person_code"], pa.int64())
    duplicated = pa.array(_duplicated(pc.fill_null(person_no, -1).to_numpy()) & pc.is_valid(person_no).to_numpy(
        zero_copy_only=False))
    reason = pc.if_else(duplicated, pa.scalar(str(Reason.DUPLICATE_PERSON)), reason)
    detail = pc.if_else(duplicated, pa.scalar("PersonCode appears more than once in the PMLP extract"), detail)

    bad = pc.is_valid(reason)
    would_count = pc.invert(pc.or_(pc.equal(persons["status"], "INACTIVE"), pc.equal(persons["vital"], "DECEASED")))
    review_address = pc.and_(pa.array(existing), would_count)
    checked = persons.set_column(persons.schema.get_field_index("reason"), "reason", reason)
    checked = checked.set_column(checked.schema.get_field_index("detail"), "detail", detail)
    quarantine = Quarantine(SOURCE)
    _quarantine_rows(quarantine, checked.append_column("marks_review", review_address).filter(bad))

    staged = persons.append_column("person_no", person_no)
    if pc.any(bad).as_py():  # a month usually quarantines nobody: no copy of every column then
        staged = staged.filter(pc.invert(bad))
    part = ctx.part_dir(SOURCE) / "part-0000.parquet"
    part.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(staged.select(SCHEMA.names).cast(SCHEMA), part, compression=COMPRESSION,
                   use_dictionary=REPEATING)
    result = StageResult(parts=[part], quarantine=quarantine)
    result.add_file_outcomes(tasks, outcomes)
    return result


def _duplicated(numbers: np.ndarray) -> np.ndarray:
    """True for every copy of a value that occurs more than once (pandas' `duplicated(keep=False)`), by sorting."""
    return np.isin(numbers, repeated_values(numbers))


def _quarantine_rows(quarantine: Quarantine, bad: pa.Table) -> None:
    """Quarantine the rejected persons; one who would have counted and lives at an existing address marks that
    household for REVIEW."""
    for row in bad.select(["file", "record", "line", "reason", "detail", "person_key", "aris_code",
                           "marks_review"]).to_pylist():
        marks = bool(row["marks_review"])
        quarantine.add(file=row["file"], record=row["record"], line=row["line"], reason=Reason(row["reason"]),
                       detail=row["detail"], person_key=row["person_key"],
                       aris_code=row["aris_code"] if marks else None, marks_review=marks)
