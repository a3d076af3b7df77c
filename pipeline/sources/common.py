"""Pieces every source reader shares: quarantine rows, batched Parquet parts and the money parser."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.digits import is_ascii_digits
from pipeline.quality.reasons import Reason

_AMOUNT = re.compile(r"(-?)([0-9]{1,12})(?:\.([0-9]{1,2}))?")  # ASCII digits only

QUARANTINE_SCHEMA = pa.schema(
    [
        ("source", pa.string()),
        ("file", pa.string()),
        ("record", pa.int64()),
        ("line", pa.int64()),
        ("reason", pa.string()),
        ("detail", pa.string()),
        ("person_key", pa.string()),
        ("aris_code", pa.string()),
        ("marks_review", pa.bool_()),
        ("record_key", pa.string()),
        ("sender_text", pa.string()),
    ]
)


@dataclass
class Quarantine:
    """Quarantined records of one source. `detail` must never hold a personal code, a name or an income."""

    source: str
    rows: list[dict[str, Any]] = field(default_factory=list)

    def add(
        self,
        *,
        file: str,
        record: int,
        line: int,
        reason: Reason,
        detail: str,
        person_key: str | None = None,
        aris_code: str | None = None,
        marks_review: bool = False,
        record_key: str | None = None,
        sender_text: str | None = None,
    ) -> None:
        """Add one quarantined record. `record_key`/`sender_text` are the sender's own id and address text,
        kept only for sources whose rejected rows go back to the sender (connection lists)."""
        self.rows.append(
            {
                "source": self.source,
                "file": file,
                "record": record,
                "line": line,
                "reason": str(reason),
                "detail": detail,
                "person_key": person_key,
                "aris_code": aris_code,
                "marks_review": marks_review,
                "record_key": record_key,
                "sender_text": sender_text,
            }
        )

    def extend(self, rows: Iterable[dict[str, Any]]) -> None:
        self.rows.extend(rows)

    def table(self) -> pa.Table:
        ordered = sorted(self.rows, key=lambda row: (row["file"], row["record"], row["line"], row["reason"]))
        return pa.Table.from_pylist(ordered, schema=QUARANTINE_SCHEMA)

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for row in self.rows:
            counts[row["reason"]] = counts.get(row["reason"], 0) + 1
        return dict(sorted(counts.items()))


class PartWriter:
    """Collects rows and writes them to one Parquet file in row groups of `batch_rows`.

    Rows are kept as tuples and turned into columns only at flush time, which is the cheapest shape for the
    per-record loops of the XML readers.
    """

    def __init__(self, path: Path, schema: pa.Schema, batch_rows: int) -> None:
        self.path = path
        self.schema = schema
        self.batch_rows = batch_rows
        self.rows: list[tuple[Any, ...]] = []
        self.rows_written = 0
        path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = pq.ParquetWriter(path, schema, compression="zstd")

    def append(self, values: tuple[Any, ...]) -> None:
        self.rows.append(values)
        if len(self.rows) >= self.batch_rows:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        columns = zip(*self.rows, strict=True)
        arrays = [pa.array(values, type=field.type) for field, values in zip(self.schema, columns, strict=True)]
        batch = pa.RecordBatch.from_arrays(arrays, schema=self.schema)
        self._writer.write_batch(batch)
        self.rows_written += len(self.rows)
        self.rows.clear()

    def close(self) -> int:
        self.flush()
        self._writer.close()
        return self.rows_written


def parse_cents(text: str) -> tuple[int | None, Reason | None]:
    """`"1234.5"` -> 123450 cents. Money is integer cents everywhere so sums are exact (CONTRACTS conventions)."""
    whole, dot, fraction = text.partition(".")
    if is_ascii_digits(whole) and len(whole) <= 12 and (not dot or (is_ascii_digits(fraction) and len(fraction) <= 2)):
        return int(whole) * 100 + int(fraction.ljust(2, "0")), None  # the common case, without a regex
    match = _AMOUNT.fullmatch(text.strip())
    if not match:
        return None, Reason.BAD_AMOUNT
    sign, whole, fraction = match.groups()
    cents = int(whole) * 100 + int((fraction or "").ljust(2, "0"))
    if sign and cents:
        return None, Reason.NEGATIVE_AMOUNT
    return cents, None


def write_frame(frame: pd.DataFrame, path: Path, schema: pa.Schema) -> None:
    """Write a small staged table as one Parquet file with an exact schema."""
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pandas(frame[schema.names], schema=schema, preserve_index=False)
    pq.write_table(table, path, compression="zstd")

