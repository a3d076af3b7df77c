"""CONTRACTS §6 connection lists, staged column-wise: every row is staged or quarantined with the reason of its
FIRST problem (object id, kind, status, registration number, in that order), with its file, record and line, and
a repeated object id quarantines every copy."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from pipeline.config import Settings, WorkLayout
from pipeline.csvio import read_columns, read_rows
from pipeline.errors import SourceError
from pipeline.sources.base import StageContext
from pipeline.sources.connections import HEADERS, stage_commodity

HEADER = ";".join(HEADERS["electricity"])
REG = "40003032949"
ROWS = [
    f"E1;101000021;Ozolu iela 1;INDIVIDUAL;AS Trader;{REG};ACTIVE",
    f"\u2003;101000021;Ozolu iela 2;INDIVIDUAL;AS Trader;{REG};ACTIVE",            # blank id (a Unicode space)
    "E3;101000021;Ozolu iela 3;SHARED;AS Trader;4000303294;BROKEN",                 # kind first, not status or reg
    f"E4;101000021;Ozolu iela 4;COMMON;AS Trader;{REG};BROKEN",                     # status
    "E5;101000021;Ozolu iela 5;COMMON;AS Trader;4000303294٣;ACTIVE",                # an Arabic-Indic digit
    f'E6;999999999;"Ozolu iela 6;\nsecond line";INDIVIDUAL;"AS ""T""";{REG};DISCONNECTED',  # two lines, quotes
    "",                                                                                    # a blank line: skipped
    f"E1;101000022;Ozolu iela 7;INDIVIDUAL;AS Trader;{REG};ACTIVE",                 # E1 again
    f"E8;101000022;Ozolu iela 8;INDIVIDUAL;AS Trader;{REG};ACTIVE",
]


@pytest.fixture()
def staged(tmp_path: Path) -> tuple[StageContext, Path]:
    inbox = tmp_path / "inbox"
    folder = inbox / "connections" / "electricity"
    folder.mkdir(parents=True)
    (folder / "objects_01.csv").write_text("\n".join([HEADER, *ROWS[:4]]) + "\n", encoding="utf-8")
    (folder / "objects_02.csv").write_text("\n".join([HEADER, *ROWS[4:]]) + "\n", encoding="utf-8")
    settings = Settings(pseudonym_secret=b"k", workers=1, data_docs=False)
    ctx = StageContext("2025-01", WorkLayout(tmp_path / "work", "2025-01"), settings, inbox)
    ctx.address_status = pd.Series(["EKS", "DEL"], index=["101000021", "101000022"])
    return ctx, folder


def test_each_row_is_staged_or_quarantined_with_its_first_problem(staged):
    ctx, folder = staged
    result = stage_commodity("electricity", sorted(folder.glob("*.csv")), ctx)
    quarantined = [(row["file"].rsplit("/", 1)[1], row["record"], row["line"], row["reason"], row["record_key"])
                   for row in result.quarantine.table().to_pylist()]
    assert quarantined == [
        ("objects_01.csv", 1, 2, "DUPLICATE_OBJECT", "E1"),
        ("objects_01.csv", 2, 3, "MISSING_VALUE", "\u2003"),
        ("objects_01.csv", 3, 4, "UNKNOWN_ENUM", "E3"),
        ("objects_01.csv", 4, 5, "UNKNOWN_ENUM", "E4"),
        ("objects_02.csv", 1, 2, "INVALID_REG_NO", "E5"),
        ("objects_02.csv", 3, 6, "DUPLICATE_OBJECT", "E1"),
    ]
    details = {row["record_key"]: row["detail"] for row in result.quarantine.table().to_pylist()}
    assert details["E3"] == "object E3: connection_kind is not one of INDIVIDUAL|COMMON"
    assert details["E4"] == "object E4: status is not one of ACTIVE|DISCONNECTED"
    assert result.records_per_file == {"connections/electricity/objects_01.csv": 4,
                                       "connections/electricity/objects_02.csv": 4}
    table = pq.read_table(result.parts[0]).to_pylist()
    assert [(r["object_id"], r["line"], r["address_status"], r["company_name"]) for r in table] == [
        ("E6", 4, "UNKNOWN", 'AS "T"'), ("E8", 7, "DEL", "AS Trader")]
    assert table[0]["address"] == "Ozolu iela 6;\nsecond line" and table[1]["company_reg_no"] == REG


def test_read_columns_is_read_rows_column_by_column(staged):
    _, folder = staged
    path = folder / "objects_02.csv"
    lines, columns = read_columns(path, HEADERS["electricity"])
    rows = list(read_rows(path, HEADERS["electricity"]))
    assert lines == [line for line, _ in rows] == [2, 4, 6, 7]  # a record ends on its line
    assert [dict(zip(columns, values, strict=True)) for values in zip(*columns.values(), strict=True)] == [
        row for _, row in rows]


def test_read_columns_of_a_header_only_file_and_a_ragged_row(tmp_path):
    path = tmp_path / "objects.csv"
    path.write_text(HEADER + "\n", encoding="utf-8")
    assert read_columns(path, HEADERS["electricity"]) == ([], {name: [] for name in HEADERS["electricity"]})
    path.write_text(HEADER + "\nE1;101000021\n", encoding="utf-8")
    with pytest.raises(SourceError, match="objects.csv:2: row has 2 fields, expected 7"):
        read_columns(path, HEADERS["electricity"])


def test_a_list_with_only_its_header_stages_no_rows(staged):
    """A DSO may send an empty list (header only): its text columns stay text, nothing is quarantined."""
    ctx, folder = staged
    empty = folder / "objects_01.csv"
    empty.write_text(HEADER + "\n", encoding="utf-8")
    result = stage_commodity("electricity", [empty], ctx)
    assert result.quarantine.table().num_rows == 0
    assert pq.read_table(result.parts[0]).num_rows == 0
    assert result.records_per_file == {ctx.label(empty): 0}
