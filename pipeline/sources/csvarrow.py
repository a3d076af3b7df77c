"""A contract CSV (CONTRACTS §6) read by Arrow when that is provably what the `csv` module reads, else by it.

`pipeline.csvio.read_columns` (Python's `csv` module, `ContractDialect`, strict) is the reference: it decides
every header, ragged-row, UTF-8 and quoting error with its file and line, but it makes a Python string per cell
(a national DSO list comes in files of 150 000 rows), which was most of the electricity stage; `pyarrow.csv` parses
the same bytes in C (figures: docs/benchmarks.md). But Arrow is more lenient than the strict reader
(`"ab"c` is `abc` to Arrow and an error to `csv`; a quote inside an unquoted field; a bare CR; a blank line; a
field above `csv.field_size_limit()`) and it does not count lines.

So `read_table` first asks `read_fast`, which answers either the exact result of the reference or None
("cannot prove it"), and never an error of its own; on None the reference reads the file and raises whatever it
raises. The fast path accepts only files in a shape where both parsers agree by construction:

- the bytes begin with the expected header written plainly (`a;b;c` then `\\n`): the reference's header check
  passes, and there is no BOM;
- no CR, no NUL and no blank line (`\\n\\n`, even inside quotes) anywhere: every line ends in `\\n`, none is
  skipped, and the reference's line numbers are `\\n` counts;
- every `"` is RFC 4180: a quote that opens a field (an even number of quotes before it) follows `;`, `\\n` or a
  closing quote (`""` inside a quoted field is a closing and an opening quote side by side); a quote that closes
  one is followed by `;`, `\\n`, `"` or the end; the quotes are even in number (no quoted field runs to the end).
  Then no quote sits inside an unquoted field, and a `;` or `\\n` is a separator exactly where an even number of
  quotes precede it, which locates every record's last line;
- Arrow reads it without error (a ragged row or invalid UTF-8 in any cell is an Arrow error: every byte that is
  not a separator or a quote belongs to a cell), with as many rows as the separators say, no cell longer than
  the `csv` module's field limit, and no type inference or null values (every cell a string, empty is "").

`tests/unit/test_csv_arrow.py` checks on random files, quoted, ragged and broken ones included, that the fast
path either declines or gives exactly the reference's lines and columns.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from pipeline.csvio import read_columns

_QUOTE, _SEMICOLON, _NEWLINE = ord('"'), ord(";"), ord("\n")


def read_table(path: Path, expected_header: Sequence[str]) -> tuple[np.ndarray, pa.Table]:
    """Each record's line number and the records as a table of strings named by the header, in file order;
    the same values and errors as `csvio.read_columns` (which reads every file the fast path declines)."""
    fast = read_fast(path, expected_header)
    if fast is not None:
        return fast
    lines, columns = read_columns(path, expected_header)
    table = pa.table({name: pa.array(columns[name], type=pa.string()) for name in expected_header})
    return np.asarray(lines, dtype=np.int64), table


def read_fast(path: Path, expected_header: Sequence[str]) -> tuple[np.ndarray, pa.Table] | None:
    """`read_table`'s answer by Arrow, or None where it cannot be shown to equal the `csv` module's."""
    header_line = (";".join(expected_header) + "\n").encode("utf-8")
    if len(expected_header) < 2 or any(_needs_quotes(name) for name in expected_header):
        return None  # a one-column row `""` is skipped by the reference and is a cell to Arrow
    try:
        data = path.read_bytes()
    except OSError:
        return None  # the reference names the problem
    if not data.startswith(header_line) or b"\r" in data or b"\x00" in data:
        return None
    raw = np.frombuffer(data, dtype=np.uint8)
    newlines = np.flatnonzero(raw == _NEWLINE)
    quotes = np.flatnonzero(raw == _QUOTE)
    if (np.diff(newlines) == 1).any() or not _quotes_are_plain(raw, quotes):
        return None  # a blank line (skipped by the reference) or a quote the strict reader may refuse
    lines = _record_lines(newlines, quotes, ends_with_newline=data.endswith(b"\n"))
    table = _arrow_table(data, expected_header)
    if table is None or table.num_rows != len(lines):
        return None
    if len(data) >= csv.field_size_limit() and _longest_cell(table) >= csv.field_size_limit():
        return None
    return lines, table


def _needs_quotes(name: str) -> bool:
    return not name or any(char in name for char in ';"\n\r\x00\ufeff')


def _quotes_are_plain(raw: np.ndarray, quotes: np.ndarray) -> bool:
    """Whether every quote opens a field, closes one, or is half of a doubled quote inside one (module doc)."""
    if quotes.size % 2:
        return False
    if not quotes.size:
        return True
    before = raw[quotes[0::2] - 1]  # the header has no quote, so an opening quote is never the first byte
    opens_a_field = (before == _SEMICOLON) | (before == _NEWLINE) | (before == _QUOTE)
    after_positions = quotes[1::2] + 1
    at_end = after_positions == raw.size
    after = raw[np.minimum(after_positions, raw.size - 1)]
    closes_a_field = at_end | (after == _SEMICOLON) | (after == _NEWLINE) | (after == _QUOTE)
    return bool(opens_a_field.all() and closes_a_field.all())


def _record_lines(newlines: np.ndarray, quotes: np.ndarray, *, ends_with_newline: bool) -> np.ndarray:
    """The line on which each record ends, as `csv.reader.line_num` counts it: a record ends at a `\\n` with an
    even number of quotes before it (the first such is the header's), or at the end of the file."""
    separating = np.searchsorted(quotes, newlines) % 2 == 0
    lines = np.flatnonzero(separating)[1:] + 1
    if not ends_with_newline:
        lines = np.append(lines, newlines.size + 1)
    return lines.astype(np.int64)


def _arrow_table(data: bytes, expected_header: Sequence[str]) -> pa.Table | None:
    """The file through `pyarrow.csv` in the contract dialect, every column a string; None if Arrow refuses it."""
    try:
        table = pacsv.read_csv(
            pa.BufferReader(data),
            read_options=pacsv.ReadOptions(use_threads=False, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(delimiter=";", quote_char='"', double_quote=True, escape_char=False,
                                             newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in expected_header}, null_values=[],
                strings_can_be_null=False, quoted_strings_can_be_null=False, check_utf8=True),
        )
    except (pa.ArrowException, UnicodeDecodeError):
        return None
    if table.column_names != list(expected_header):
        return None
    return table.combine_chunks()


def _longest_cell(table: pa.Table) -> int:
    """The most characters in one cell (the `csv` module refuses a field longer than its limit)."""
    longest = [pc.max(pc.utf8_length(column)).as_py() for column in table.columns if len(column)]
    return max((value or 0 for value in longest), default=0)
