"""Connection lists from the electricity DSO, the gas DSO and each heat supplier (CONTRACTS §6).

Every row the sender sent is accounted for: it is staged (and decided), or it is quarantined with a reason, and
both a bad row and a row whose `aris_code` is not an existing ARIS address go back to the sender in
`address_errors.csv`. The trader's or supplier's name and number are staged under one name, `company_*`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.csvio import read_columns
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


def _row_problems(frame: pd.DataFrame, company_reg_column: str) -> list[tuple[Reason, str] | None]:
    """Each row's first problem (checked in this order), or None; whole columns at a time."""
    checks = [
        ([not value.strip() for value in frame["object_id"].to_numpy(dtype=object)], Reason.MISSING_VALUE,
         "object_id is empty"),
        (~frame["connection_kind"].isin(KINDS), Reason.UNKNOWN_ENUM,
         f"connection_kind is not one of {'|'.join(KINDS)}"),
        (~frame["status"].isin(STATUSES), Reason.UNKNOWN_ENUM, f"status is not one of {'|'.join(STATUSES)}"),
        (~frame[company_reg_column].str.fullmatch("[0-9]{11}").astype(bool), Reason.INVALID_REG_NO,
         f"{company_reg_column} is not 11 digits"),  # what `pipeline.digits.is_ascii_digits(reg_no, 11)` accepts
    ]
    problems: list[tuple[Reason, str] | None] = [None] * len(frame)
    for failing, reason, detail in reversed(checks):  # the first failing check of a row is the one it keeps
        for row in np.flatnonzero(np.asarray(failing, dtype=bool)):
            problems[row] = (reason, detail)
    return problems


def read_commodity(commodity: str, files: list[Path], ctx: StageContext) -> pd.DataFrame:
    """Every record of the commodity's files, in file and record order, with its file label, line and record."""
    header = HEADERS[commodity]
    frames = []
    for path in files:
        lines, columns = read_columns(path, header)
        frame = pa.table({name: pa.array(columns[name], pa.string()) for name in header}).to_pandas()  # all `str`
        frame["file"] = ctx.label(path)
        frame["line"] = np.asarray(lines, dtype="int64")
        frame["record"] = np.arange(1, len(lines) + 1, dtype="int64")
        frames.append(frame)
    empty = pd.DataFrame({name: pd.Series(dtype="str") for name in (*header, "file")})
    return pd.concat(frames, ignore_index=True) if frames else empty.assign(line=0, record=0).iloc[:0]


def stage_commodity(commodity: str, files: list[Path], ctx: StageContext) -> StageResult:
    header = HEADERS[commodity]
    name_column, reg_column = header[4], header[5]
    quarantine = Quarantine(commodity)
    read = read_commodity(commodity, files, ctx)
    problems = _row_problems(read, reg_column)
    bad = np.array([problem is not None for problem in problems], dtype=bool)
    for row, problem in zip(read.loc[bad].itertuples(index=False), (p for p in problems if p), strict=True):
        quarantine.add(file=row.file, record=row.record, line=row.line, reason=problem[0],
                       detail=f"object {row.object_id[:40]}: {problem[1]}",
                       aris_code=row.aris_code, record_key=row.object_id, sender_text=row.address)
    frame = read.loc[~bad].rename(columns={name_column: "company_name", reg_column: "company_reg_no"})
    frame = _quarantine_duplicates(frame.reset_index(drop=True), quarantine)
    frame["address_status"] = _address_statuses(frame["aris_code"], ctx.address_status)
    part = ctx.part_dir(commodity) / "part-0000.parquet"
    write_frame(frame, part, SCHEMA)
    per_file = read.groupby("file", sort=False).size()
    return StageResult(parts=[part], quarantine=quarantine, records_per_file={
        ctx.label(path): int(per_file.get(ctx.label(path), 0)) for path in files})


def _quarantine_duplicates(frame: pd.DataFrame, quarantine: Quarantine) -> pd.DataFrame:
    """An object_id must be unique within its sender's files; every copy of a repeated one is returned."""
    repeated = frame["object_id"].duplicated(keep=False)
    for row in frame.loc[repeated].itertuples(index=False):
        quarantine.add(file=row.file, record=row.record, line=row.line, reason=Reason.DUPLICATE_OBJECT,
                       detail=f"object {row.object_id[:40]}: object_id appears more than once",
                       aris_code=row.aris_code, record_key=row.object_id, sender_text=row.address)
    return frame.loc[~repeated]


def _address_statuses(codes: pd.Series, address_status: pd.Series | None) -> np.ndarray:
    """Each code's ARIS status (`STATUSS`), or UNKNOWN where ARIS does not have the code; a hash lookup in Arrow
    (a pandas `map` calls Python per row of a national list). ARIS codes are unique: GX's suite stops a run before this
    otherwise, and a repeated code would make pandas' `map` fail where Arrow takes the first."""
    if address_status is None:
        return np.full(len(codes), "UNKNOWN", dtype=object)
    known = pa.array(address_status.index.to_numpy(dtype=object), type=pa.string())
    found = pc.index_in(pa.array(codes.to_numpy(dtype=object), type=pa.string()), value_set=known)
    statuses = pa.array(address_status.to_numpy(dtype=object), type=pa.string()).take(found)
    return pc.fill_null(statuses, "UNKNOWN").to_numpy(zero_copy_only=False)
