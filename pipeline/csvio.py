"""The one CSV dialect of CONTRACTS §6 and §10: `;`, RFC 4180 quoting, header row, UTF-8 without BOM, `\\n` ends.

Reading and writing both live here so that what EIKIS sends back is byte-for-byte the dialect it accepts.

Formula neutralisation (OWASP "CSV Injection"): recipients open these files in Excel, and a cell that begins with
`=`, `+`, `-`, `@`, TAB or CR may be evaluated as a formula (`=HYPERLINK(...)` from an address text, `@SUM(...)`
from a supplier's id). Every cell EIKIS writes, header included, that begins with one of those characters gets a
leading single quote `'`, which spreadsheets show as text; the writer then quotes the cell if it holds `;`,
`"` or a line break, so a quote inside cannot end the cell early. One exception, so that money stays a number:
a cell that is wholly a plain decimal number (`-12.50`, ASCII digits) is left alone — a spreadsheet reads it as
that number and can evaluate nothing else. Input files written by the generator and the tests' builders opt out
(`neutralise_cells=False`) because they stand for what providers send.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

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


def read_records(path: Path) -> Iterator[list[str]]:
    """Every record of a CSV EIKIS wrote itself, header first, as the dialect reads it, without the checks of
    `read_rows` (the spreadsheet companion of a recipient file reads it back so)."""
    with _reader(path) as reader:
        yield from reader


@contextmanager
def _reader(path: Path) -> Iterator[Any]:
    """A `csv.reader` over the file in the contract dialect: the one place a contract CSV is opened."""
    with path.open("r", encoding="utf-8", newline="") as handle:
        yield csv.reader(handle, dialect=ContractDialect)


def _checked_rows(path: Path, expected_header: Sequence[str]) -> Iterator[tuple[int, list[str]]]:
    """`(line_number, fields)` of each non-blank record after a header equal to `expected_header`."""
    try:
        with _reader(path) as reader:
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
    """`render_csv` for a table given column by column (a national supplier file has 900 000 rows).

    Written by hand in `ContractDialect`, as the csv module writes it with one difference it cannot be told: a
    cell is quoted when it holds `;`, `"`, `\\n` *or a bare `\\r`* (the csv module, with `\\n` as its line end,
    leaves a CR unquoted and a reader would split the row there), a quote inside doubled; `None` is an empty cell,
    anything else its `str`; a row of one empty cell is `""` so it is not a blank line. Each
    column is checked at once as one joined text for the rare cell that needs neutralising or quoting, and only
    such a column is then walked cell by cell: the same bytes, several times faster than a csv writer."""
    texts = [_column_texts([name, *column], neutralise_cells) for name, column in zip(header, columns, strict=True)]
    if len(texts) == 1:
        texts = [['""' if text == "" else text for text in texts[0]]]
    lines = map(";".join, zip(*texts, strict=True))
    return ("\n".join(lines) + "\n").encode("utf-8")


_NEEDS_QUOTES = re.compile('[;"\n\r]')


def _column_texts(column: list[object], neutralise_cells: bool) -> list[str]:
    """Each cell of a column as it appears between the delimiters."""
    kinds = set(map(type, column))
    if kinds == {str}:                                 # texts only: the common case
        texts = cast(list[str], column)
        if neutralise_cells and _may_start_a_formula("\n".join(texts)):
            texts = cast(list[str], [neutralise(text) for text in texts])  # (a match after a line break inside
                                                                             # a cell is harmless: neutralise decides)
    elif not any(issubclass(kind, str) for kind in kinds):   # numbers (and None): nothing to neutralise
        texts = ["" if cell is None else str(cell) for cell in column] if type(None) in kinds else \
            list(map(str, column))
    else:
        texts = ["" if cell is None else str(neutralise(cell) if neutralise_cells else cell) for cell in column]
    if _NEEDS_QUOTES.search("".join(texts)):          # joined with nothing: a match is inside one cell
        return ['"' + text.replace('"', '""') + '"' if ";" in text or '"' in text or "\n" in text or "\r" in text
                else text for text in texts]
    return texts


def _may_start_a_formula(joined: str) -> bool:
    """Whether a cell of the `\\n`-joined column may begin like a formula (a line break inside a cell can make
    this say yes for nothing; never no for something). Substring search: a regex here is much slower."""
    return joined[:1] in FORMULA_START or any("\n" + start in joined for start in FORMULA_START)


def render_provider_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """A file as a provider sends it (generator, test builders): the same dialect, cells written as they are."""
    return render_csv(header, rows, neutralise_cells=False)
