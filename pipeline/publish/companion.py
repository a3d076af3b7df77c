"""The typed spreadsheet companion of a recipient CSV that people open (CONTRACTS v1.2 §10): an `.xlsx` beside it.

Why: a social worker or an accountant double-clicks. A `;` CSV opened that way in a Latvian spreadsheet garbles
every ā/ē/ī/ū/ļ/ņ/š/ž (read as Windows-1257) and turns amounts into dates or text (`22.09` → 22 Sep). The `.xlsx`
carries its types inside, so every locale reads the same: amounts are numbers shown with two decimals, flags and
counts are numbers, dates are dates, ids and codes are text (an ARIS code or a registration number never becomes
a number), with a frozen header, a filter and column widths. The CSV stays the contract for machines.

One writer for every flow (monthly, ALDIS, claims): it reads the CSV the flow has just written, so the companion
holds exactly the CSV's rows and cells, and each column's type comes from the data dictionary
(`publish/dictionary.py`). Text cells are written as text (never as a formula, whatever they begin with) and
keep the CSV's neutralising `'` (`csvio.neutralise`), so both files show the same cell. An amount is written from
its decimal text, not from a float: the number in the file is the CSV's digits. The workbook's bytes depend on
nothing but the rows (fixed creation time, fixed zip entry times), so a re-run gives a byte-identical file.

XlsxWriter (BSD-2, maintained): it streams rows to disk (`constant_memory`), writes fixed zip entry times and
takes the creation time as a property; openpyxl stamps its zip entries with the clock (see README). It is pure
Python, cell by cell: a national month's companions (the municipalities' and traders' lists, about a million rows)
are the publish stage's largest cost, so `with_companions` writes them in a process pool (`concurrent.futures`)
when there is that much to write; a small month writes them in place, without starting a process.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import re
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from decimal import Decimal
from pathlib import Path

import xlsxwriter

from pipeline.csvio import read_records
from pipeline.handoff import RecipientFile
from pipeline.publish.dictionary import Kind, column, file_kind

# The workbook's creation time: fixed, so that the bytes depend on the rows only (the manifest says which run).
CREATED = dt.datetime(2022, 1, 1, tzinfo=dt.UTC)
MAX_ROWS = 1_048_575                      # a worksheet's rows, less the header
MAX_WIDTH = 60
_DIGITS = 15                              # an IEEE double keeps every decimal of up to 15 significant digits
POOL_MIN_BYTES = 32 * 1024**2             # less CSV than this to convert: a worker's start-up is not paid back


def companion_path(relative: str) -> str:
    """`municipalities/X/households.csv` → `municipalities/X/households.xlsx`."""
    return relative.removesuffix(".csv") + ".xlsx"


def with_companions(build: Path, written: Sequence[RecipientFile],
                    pool_min_bytes: int | None = None) -> list[RecipientFile]:
    """The written CSVs and, for each whose kind people open, its `.xlsx` companion written beside it (in the
    order given, each companion after its CSV). With at least `pool_min_bytes` of CSV to convert and more than one
    core, the companions are written by worker processes, largest first; a file's bytes are the same whichever
    process writes it, and the first failure stops the build with the writer's own error."""
    wanted = [item for item in written if (kind := file_kind(item.path)) is not None and kind.companion]
    sizes = {item.path: (build / item.path).stat().st_size for item in wanted}
    workers = min(len(wanted), os.cpu_count() or 1)
    if workers > 1 and sum(sizes.values()) >= (POOL_MIN_BYTES if pool_min_bytes is None else pool_min_bytes):
        largest_first = sorted(wanted, key=lambda item: sizes[item.path], reverse=True)
        # fork: a worker runs only the pure-Python writer (the csv module, XlsxWriter, zlib), never Arrow or DuckDB,
        # so it needs none of the threads the parent holds; spawn would re-run whatever `__main__` called publish
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            jobs = [pool.submit(write_companion, build / item.path, build / companion_path(item.path))
                    for item in largest_first]
            for job in jobs:
                job.result()
    else:
        for item in wanted:
            write_companion(build / item.path, build / companion_path(item.path))
    companions = {item.path: RecipientFile(companion_path(item.path), item.rows) for item in wanted}
    return [each for item in written for each in (item, companions.get(item.path)) if each is not None]


def write_companion(source: Path, target: Path) -> None:
    """Write `target` (.xlsx) with the rows of the contract CSV `source`, typed by the data dictionary.

    The CSV is read twice, row by row (once for the column widths and the row count, once to write), and the
    workbook streams its rows to disk: a trader's list of several hundred thousand rows is never held whole."""
    header, widths, count = _measure(source)
    kinds = [column(name).kind for name in header]
    if count > MAX_ROWS:
        raise ValueError(f"{source}: {count} rows do not fit in a spreadsheet ({MAX_ROWS})")
    workbook = xlsxwriter.Workbook(str(target), {
        "constant_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
        "strings_to_urls": False})
    try:
        workbook.set_properties({"created": CREATED.replace(tzinfo=None)})
        formats = {Kind.TEXT: workbook.add_format({"num_format": "@"}),
                   Kind.INTEGER: workbook.add_format({"num_format": "0"}),
                   Kind.AMOUNT: workbook.add_format({"num_format": "0.00"}),
                   Kind.QUANTITY: workbook.add_format({"num_format": "0.000"}),
                   Kind.DATE: workbook.add_format({"num_format": "yyyy-mm-dd"})}
        sheet = workbook.add_worksheet(source.stem[:31])
        sheet.freeze_panes(1, 0)
        sheet.ignore_errors({"number_stored_as_text": "A1:XFD1048576"})
        for at, (width, kind) in enumerate(zip(widths, kinds, strict=True)):
            sheet.set_column(at, at, min(width + 2, MAX_WIDTH), formats[kind])
        bold = workbook.add_format({"bold": True, "num_format": "@"})
        for at, name in enumerate(header):
            sheet.write_string(0, at, name, bold)
        sheet.autofilter(0, 0, count, len(header) - 1)
        records = read_records(source)
        next(records)
        for number, row in enumerate(records, start=1):
            for at, (text, kind) in enumerate(zip(row, kinds, strict=True)):
                if text == "":
                    continue
                try:
                    _write_cell(sheet, number, at, text, kind, formats[kind])
                except ValueError as exc:
                    raise ValueError(f"{source}: record {number}, column {header[at]}: {exc}") from None
    finally:
        workbook.close()


def _measure(source: Path) -> tuple[list[str], list[int], int]:
    """The CSV's header, each column's widest cell (characters) and its number of rows."""
    records = read_records(source)
    header = next(records)
    widths = [len(name) for name in header]
    count = 0
    for row in records:
        count += 1
        widths = list(map(max, widths, map(len, row)))
    return header, widths, count


def _write_cell(sheet: xlsxwriter.worksheet.Worksheet, row: int, at: int, text: str, kind: Kind,
                style: xlsxwriter.format.Format) -> None:
    if kind is Kind.TEXT:
        sheet.write_string(row, at, text, style)
    elif kind is Kind.INTEGER:
        sheet.write_number(row, at, int(text), style)
    elif kind is Kind.AMOUNT:
        sheet.write_number(row, at, exact_amount(text), style)
    elif kind is Kind.QUANTITY:
        sheet.write_number(row, at, exact_amount(text, places=3), style)
    else:
        sheet.write_datetime(row, at, dt.date.fromisoformat(text), style)


def exact_amount(text: str, places: int = 2) -> Decimal:
    """The CSV's amount (CONTRACTS: a `.` decimal point, at most 2 decimals; kWh at most 3) as a Decimal of at
    most 15 digits: the file's number is then these very digits (XlsxWriter writes a Decimal with its own digits,
    and any reader's double keeps every decimal of 15 significant digits)."""
    if not re.fullmatch(rf"-?[0-9]+(\.[0-9]{{1,{places}}})?", text) or \
            len(text.lstrip("-").replace(".", "").lstrip("0")) > _DIGITS:
        raise ValueError(f"{text!r} is not a number of at most {places} decimals and {_DIGITS} digits")
    return Decimal(text)
