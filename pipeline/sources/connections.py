"""Connection lists from the electricity DSO, the gas DSO and each heat supplier (CONTRACTS §6).

Every row the sender sent is accounted for: it is staged (and decided), or it is quarantined with a reason, and
both a bad row and a row whose `aris_code` is not an existing ARIS address go back to the sender in
`address_errors.csv`. The trader's or supplier's name and number are staged under one name, `company_*`.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa

from pipeline.csvio import read_rows
from pipeline.digits import is_ascii_digits
from pipeline.quality.reasons import Reason
from pipeline.sources.base import StageContext, StageResult
from pipeline.sources.common import Quarantine, write_frame

KINDS = ("INDIVIDUAL", "COMMON")
STATUSES = ("ACTIVE", "DISCONNECTED")
HEADERS = {
    "electricity": ("object_id", "aris_code", "address", "connection_kind", "trader_name", "trader_reg_no", "status"),
    "gas": ("object_id", "aris_code", "address", "connection_kind", "trader_name", "trader_reg_no", "status"),
    "heat": ("object_id", "aris_code", "address", "connection_kind", "supplier_name", "supplier_reg_no", "status"),
}

SCHEMA = pa.schema(
    [
        ("object_id", pa.string()),
        ("aris_code", pa.string()),
        ("address", pa.string()),
        ("connection_kind", pa.string()),
        ("company_name", pa.string()),
        ("company_reg_no", pa.string()),
        ("status", pa.string()),
        ("address_status", pa.string()),
        ("file", pa.string()),
        ("line", pa.int64()),
    ]
)


def _row_problem(row: dict[str, str], company_reg_column: str) -> tuple[Reason, str] | None:
    if not row["object_id"].strip():
        return Reason.MISSING_VALUE, "object_id is empty"
    if row["connection_kind"] not in KINDS:
        return Reason.UNKNOWN_ENUM, f"connection_kind is not one of {'|'.join(KINDS)}"
    if row["status"] not in STATUSES:
        return Reason.UNKNOWN_ENUM, f"status is not one of {'|'.join(STATUSES)}"
    reg_no = row[company_reg_column]
    if not is_ascii_digits(reg_no, 11):
        return Reason.INVALID_REG_NO, f"{company_reg_column} is not 11 digits"
    return None


def stage_commodity(commodity: str, files: list[Path], ctx: StageContext) -> StageResult:
    header = HEADERS[commodity]
    name_column, reg_column = header[4], header[5]
    quarantine = Quarantine(commodity)
    rows: list[dict[str, object]] = []
    per_file: dict[str, int] = {}
    for path in files:
        label = ctx.label(path)
        count = 0
        for line, row in read_rows(path, header):
            count += 1
            problem = _row_problem(row, reg_column)
            if problem:
                quarantine.add(file=label, record=count, line=line, reason=problem[0],
                               detail=f"object {row['object_id'][:40]}: {problem[1]}",
                               aris_code=row["aris_code"], record_key=row["object_id"], sender_text=row["address"])
                continue
            rows.append({
                "object_id": row["object_id"], "aris_code": row["aris_code"], "address": row["address"],
                "connection_kind": row["connection_kind"], "company_name": row[name_column],
                "company_reg_no": row[reg_column], "status": row["status"], "file": label, "line": line,
                "record": count,
            })
        per_file[label] = count
    frame = pd.DataFrame(rows, columns=[*SCHEMA.names, "record"])
    frame = _quarantine_duplicates(frame, quarantine)
    status = frame["aris_code"].map(ctx.address_status) if ctx.address_status is not None else None
    frame["address_status"] = status.fillna("UNKNOWN") if status is not None else "UNKNOWN"
    part = ctx.part_dir(commodity) / "part-0000.parquet"
    write_frame(frame, part, SCHEMA)
    return StageResult(parts=[part], quarantine=quarantine, records_per_file=per_file)


def _quarantine_duplicates(frame: pd.DataFrame, quarantine: Quarantine) -> pd.DataFrame:
    """An object_id must be unique within its sender's files; every copy of a repeated one is returned."""
    repeated = frame["object_id"].duplicated(keep=False)
    for row in frame.loc[repeated].itertuples(index=False):
        quarantine.add(file=row.file, record=row.record, line=row.line, reason=Reason.DUPLICATE_OBJECT,
                       detail=f"object {row.object_id[:40]}: object_id appears more than once",
                       aris_code=row.aris_code, record_key=row.object_id, sender_text=row.address)
    return frame.loc[~repeated]
