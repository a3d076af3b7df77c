"""SOPA protected users for the ALDIS flow (CONTRACTS §8): persons with a valid low-income/needy decision.

Only `Pabeigts` applications with a decision number count; a person without a contract number and trader cannot
get the reduction, and is counted so it can be reported back (DOMAIN, ALDIS calendar).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from pipeline.digits import is_ascii_digits
from pipeline.quality import personcode
from pipeline.quality.pseudonym import person_key
from pipeline.quality.reasons import Reason
from pipeline.sources.base import FileTask, StageContext, StageResult, stage_files
from pipeline.sources.common import PartWriter, Quarantine
from pipeline.sources.xmlcolumns import ColumnMap, read_columns
from pipeline.sources.xmlstream import Chunk, XmlLayout

SOURCE = "sopa"
LAYOUT = XmlLayout("urn:eikis:sopa:protected:v1", "ProtectedUsersExtract", "ProtectedUser", "sopa_protected_v1.xsd")
FIELDS = (
    "PersonCode", "ApplicationStatus", "DecisionNumber", "DecisionValidFrom", "DecisionValidTo",
    "ContractNumber", "TraderName", "TraderRegNo", "SupplyAddress",
)
COLUMNS = ColumnMap(LAYOUT, tuple((name, name) for name in FIELDS))

SCHEMA = pa.schema(
    [
        ("person_key", pa.string()),
        ("application_status", pa.string()),
        ("decision_number", pa.string()),
        ("valid_from", pa.date32()),
        ("valid_to", pa.date32()),
        ("contract_number", pa.string()),
        ("trader_name", pa.string()),
        ("trader_reg_no", pa.string()),
        ("supply_address", pa.string()),
        ("file", pa.string()),
        ("record", pa.int64()),
    ]
)


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        return None


@dataclass
class _Row:
    number: int  # the record's whole-file number
    line: int
    texts: tuple[str, ...]  # in FIELDS order, "" where absent


def _rows(path: Path, chunk: Chunk | None = None, digest: Any | None = None,
          batch_rows: int = 100_000) -> Iterator[_Row]:
    """The records one by one, for checks that run per record: the reading is the reader's, in batches."""
    for batch in read_columns(path, COLUMNS, chunk, digest, batch_rows, lines=True):
        values = [batch.columns[name].to_pylist() for name in FIELDS]
        for offset, texts in enumerate(zip(*values, strict=True)):
            yield _Row(batch.first + offset, int(batch.lines[offset]), texts)


def _parse_file(task: FileTask) -> tuple[int, list[dict[str, Any]], str | None]:
    digest = None if task.chunk else hashlib.sha256()
    writer = PartWriter(task.part, SCHEMA, task.batch_rows)
    quarantine = Quarantine(SOURCE)
    records = 0
    for record in _rows(task.path, task.chunk, digest, task.batch_rows):
        records += 1
        code, status, decision, valid_from, valid_to, contract, trader, reg_no, address = record.texts
        start, end = _date(valid_from), _date(valid_to)
        problem = None
        if not personcode.is_valid(code):
            problem = (Reason.INVALID_PERSON_CODE, "PersonCode fails the §3 rule")
        elif start is None or end is None or end < start:
            problem = (Reason.BAD_DATE, "DecisionValidFrom/To is not a date range with from <= to")
        elif reg_no and not is_ascii_digits(reg_no, 11):
            problem = (Reason.INVALID_REG_NO, "TraderRegNo is not 11 digits")
        if problem:
            quarantine.add(file=task.label, record=record.number, line=record.line,
                           reason=problem[0], detail=problem[1])
            continue
        key = person_key(task.secret, personcode.normalize(code) or "")
        # A missing DecisionNumber is allowed (§8): the record is valid and ALDIS returns it as NO_DECISION (§12).
        writer.append((key, status, decision.strip() or None, start, end, contract or None, trader or None,
                       reg_no or None, address, task.label, record.number))
    writer.close()
    return records, quarantine.rows, digest.hexdigest() if digest else None


def stage(files: list[Path], ctx: StageContext) -> StageResult:
    return stage_files(SOURCE, files, ctx, _parse_file, LAYOUT)


@dataclass(frozen=True)
class ProtectedUser:
    """One SOPA record as the ALDIS flow needs it (CONTRACTS §12): where it sits, and the texts the rules read.

    Every record is kept, whatever is wrong with it, because each one is either passed to its trader or returned
    to SOPA with a reason. The personal code is held only to check it (rule 1) and never leaves this object;
    names and the supply address are not read at all. Texts are stripped; a missing element is "".
    """

    file: str          # the file's name, as SOPA knows it
    record: int        # 1-based position of the ProtectedUser element in the file
    person_code: str = field(repr=False)
    application_status: str = ""
    decision_number: str = ""
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    contract_number: str = ""
    trader_reg_no: str = ""


def read_protected_users(path: Path) -> Iterator[ProtectedUser]:
    """Every ProtectedUser of one extract, streamed through the hardened reader (a DOCTYPE, malformed XML or an
    XSD violation raises SourceError naming the file and line)."""
    for record in _rows(path):
        code, status, decision, valid_from, valid_to, contract, _, reg_no, _ = (
            value.strip() for value in record.texts)
        yield ProtectedUser(file=path.name, record=record.number, person_code=code, application_status=status,
                            decision_number=decision, valid_from=_date(valid_from), valid_to=_date(valid_to),
                            contract_number=contract, trader_reg_no=reg_no)
