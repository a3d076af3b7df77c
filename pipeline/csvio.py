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
            for row in reader:
                line = reader.line_num
                if not row or row == [""]:
                    continue
                if len(row) != len(header):
                    raise SourceError(
                        f"row has {len(row)} fields, expected {len(header)}", file=path, line=line
                    )
                yield line, dict(zip(header, row, strict=True))
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
    """The bytes of a contract CSV: header, rows, `\\n` line ends, UTF-8 without BOM, formulas neutralised.
    Every row has the header's length."""
    table = [tuple(row) for row in rows]
    if any(len(row) != len(header) for row in table):
        raise ValueError(f"every row must have the header's {len(header)} cells")
    columns = list(zip(*table, strict=True)) if table else [() for _ in header]
    return render_columns(header, columns, neutralise_cells=neutralise_cells)


def render_columns(header: Sequence[str], columns: Sequence[Sequence[object]], *,
                   neutralise_cells: bool = True) -> bytes:
    """`render_csv` for a table given column by column (a national supplier file: 900 000 rows).

    The rules are `neutralise` and the carriage-return guard, cell by cell as in `render_csv`; what makes it fast
    is finding the few cells they touch with one tight scan per column, and handing the csv module whole runs of
    ordinary rows at once."""
    cells = [[name, *column] for name, column in zip(header, columns, strict=True)]
    if neutralise_cells:
        for column in cells:
            for at in _formula_like(column):
                column[at] = neutralise(column[at])
    rows = list(zip(*cells, strict=True))
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, dialect=ContractDialect)
    guarded = csv.writer(buffer, dialect=_CarriageReturnDialect)
    written = 0
    for at in sorted({at for column in cells for at in _carriage_returns(column)}):
        writer.writerows(rows[written:at])
        guarded.writerow(rows[at])
        buffer.seek(buffer.tell() - 2)
        buffer.truncate()
        buffer.write("\n")
        written = at + 1
    writer.writerows(rows[written:])
    return buffer.getvalue().encode("utf-8")


def _formula_like(column: Sequence[object]) -> list[int]:
    """Positions of the text cells that begin like a formula: the only ones `neutralise` may change."""
    return [at for at, cell in enumerate(column) if isinstance(cell, str) and cell[:1] in FORMULA_START]


def _carriage_returns(column: Sequence[object]) -> list[int]:
    """Positions of the text cells holding a carriage return (a joined column is searched first: almost never)."""
    texts = [cell for cell in column if isinstance(cell, str)]
    if "\r" not in "".join(texts):
        return []
    return [at for at, cell in enumerate(column) if isinstance(cell, str) and "\r" in cell]


def render_provider_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """A file as a provider sends it (generator, test builders): the same dialect, cells written as they are."""
    return render_csv(header, rows, neutralise_cells=False)
