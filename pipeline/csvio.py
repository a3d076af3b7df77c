"""The one CSV dialect of CONTRACTS §6 and §10: `;`, RFC 4180 quoting, header row, UTF-8 without BOM, `\\n` ends.

Reading and writing both live here so that what EIKIS sends back is byte-for-byte the dialect it accepts.

Formula neutralisation (OWASP "CSV Injection"): recipients open these files in Excel, and a cell that begins with
`=`, `+`, `-`, `@`, TAB or CR may be evaluated as a formula (`=HYPERLINK(...)` from an address text, `@SUM(...)`
from a supplier's id). Every cell EIKIS writes, header included, that begins with one of those characters gets a
leading single quote `'`, which spreadsheets show as text; the csv module then quotes the cell if it holds `;`,
`"` or a line break, so a quote inside cannot end the cell early. One exception, so that money stays a number:
a cell that is wholly a plain decimal number (`-12.50`, ASCII digits) is left alone — a spreadsheet reads it as
that number and can evaluate nothing else. Input files written by the generator and the tests' builders opt out
(`neutralise_cells=False`) because they stand for what providers send.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from pipeline.errors import SourceError


class ContractDialect(csv.Dialect):
    delimiter = ";"
    quotechar = '"'
    doublequote = True
    skipinitialspace = False
    lineterminator = "\n"
    quoting = csv.QUOTE_MINIMAL
    strict = True


def read_rows(path: Path, expected_header: Sequence[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield `(line_number, row)` for a contract CSV, checking the header and each row's field count.

    A wrong header, undecodable bytes or a ragged row is a whole-file problem: it raises SourceError naming the
    file and the line, because a half-understood supplier list must not be decided on.
    """
    for line, row in _checked_rows(path, expected_header):
        yield line, dict(zip(expected_header, row, strict=True))


def read_columns(path: Path, expected_header: Sequence[str]) -> tuple[list[int], dict[str, list[str]]]:
    """The whole contract CSV column by column: each record's line number, and each column's values in record
    order. The same checks and errors as `read_rows`, without a dict per row (a DSO list has a million rows)."""
    lines: list[int] = []
    columns: list[list[str]] = [[] for _ in expected_header]
    appends = [column.append for column in columns]
    for line, row in _checked_rows(path, expected_header):
        lines.append(line)
        for append, value in zip(appends, row, strict=True):  # no list kept per row: the GC stays idle
            append(value)
    return lines, dict(zip(expected_header, columns, strict=True))


def _checked_rows(path: Path, expected_header: Sequence[str]) -> Iterator[tuple[int, list[str]]]:
    """`(line_number, fields)` of each non-blank record after a header equal to `expected_header`."""
    try:
        with path.open("r", encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle, dialect=ContractDialect)
            header = next(reader, None)
            if header is None:
                raise SourceError("empty file, expected a header row", file=path, line=1)
            if header and header[0].startswith("\ufeff"):
                header[0] = header[0][1:]
            if list(header) != list(expected_header):
                raise SourceError(
                    f"unexpected header {';'.join(header)!r}, expected {';'.join(expected_header)!r}",
                    file=path,
                    line=1,
                )
            width = len(header)
            for row in reader:
                if not row or row == [""]:
                    continue
                if len(row) != width:
                    raise SourceError(
                        f"row has {len(row)} fields, expected {width}", file=path, line=reader.line_num
                    )
                yield reader.line_num, row
    except UnicodeDecodeError as exc:
        raise SourceError(f"not valid UTF-8 ({exc.reason} at byte {exc.start})", file=path) from exc
    except csv.Error as exc:
        raise SourceError(f"malformed CSV: {exc}", file=path) from exc


FORMULA_START = frozenset("=+-@\t\r")
_PLAIN_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def neutralise(value: object) -> object:
    """A text cell a spreadsheet would evaluate, prefixed with `'`; anything else unchanged (see module doc)."""
    if isinstance(value, str) and value[:1] in FORMULA_START and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


class _CarriageReturnDialect(ContractDialect):
    """Same dialect; CR in the line terminator makes the csv module quote a cell holding a bare CR, which with
    `\\n` alone it writes unquoted (a reader would then split the row there)."""

    lineterminator = "\r\n"


def render_csv(header: Sequence[str], rows: Iterable[Sequence[object]], *, neutralise_cells: bool = True) -> bytes:
    """The bytes of a contract CSV: header, rows, `\\n` line ends, UTF-8 without BOM, formulas neutralised."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, dialect=ContractDialect)
    guarded = csv.writer(buffer, dialect=_CarriageReturnDialect)
    for row in _with_header(header, rows):
        cells = [neutralise(cell) for cell in row] if neutralise_cells else row
        if any(isinstance(cell, str) and "\r" in cell for cell in cells):
            guarded.writerow(cells)
            buffer.seek(buffer.tell() - 2)
            buffer.truncate()
            buffer.write("\n")
        else:
            writer.writerow(cells)
    return buffer.getvalue().encode("utf-8")


def render_provider_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """A file as a provider sends it (generator, test builders): the same dialect, cells written as they are."""
    return render_csv(header, rows, neutralise_cells=False)


def _with_header(header: Sequence[str], rows: Iterable[Sequence[object]]) -> Iterator[Sequence[object]]:
    yield header
    yield from rows
