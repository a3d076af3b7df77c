"""The hand-written CSV writer (`csvio.render_columns`) against the csv module, on random tables.

The reference is the writer EIKIS used before: the csv module row by row, each cell through `neutralise`, and a
row holding a bare CR written with `\\r\\n` as line end (so the module quotes the CR) and that end turned back into
`\\n`. Both must give the same bytes, and reading them back must give the cells as written.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.csvio import ContractDialect, neutralise, render_columns, render_csv

TRICKY = ("", " ", ";", '"', "\n", "\r", "\r\n", "=", "+1", "-12.50", "-", "@x", "\t", "'", "a;b", 'say "hi"', "Rīga")


class _CarriageReturnDialect(ContractDialect):
    lineterminator = "\r\n"


def reference(header: Sequence[str], rows: Sequence[Sequence[object]], neutralise_cells: bool) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, dialect=ContractDialect)
    guarded = csv.writer(buffer, dialect=_CarriageReturnDialect)
    for row in [header, *rows]:
        cells = [neutralise(cell) for cell in row] if neutralise_cells else list(row)
        if any(isinstance(cell, str) and "\r" in cell for cell in cells):
            guarded.writerow(cells)
            buffer.seek(buffer.tell() - 2)
            buffer.truncate()
            buffer.write("\n")
        else:
            writer.writerow(cells)
    return buffer.getvalue().encode("utf-8")


texts = st.one_of(st.sampled_from(TRICKY), st.text(alphabet=st.sampled_from('ab1.;"\n\r=+-@\t\' '), max_size=6))
cells = st.one_of(texts, texts, st.none(), st.integers(-10**20, 10**20), st.floats(allow_nan=True),
                  st.booleans(), st.floats(allow_nan=True).map(np.float64), st.integers(-5, 5).map(np.int64),
                  texts.map(np.str_))


@st.composite
def tables(draw: st.DrawFn) -> tuple[list[str], list[list[object]]]:
    width = draw(st.integers(1, 4))
    header = draw(st.lists(texts, min_size=width, max_size=width))
    text_only = draw(st.booleans())                  # the fast path: columns of texts only
    kind = texts if text_only else cells
    rows = draw(st.lists(st.lists(kind, min_size=width, max_size=width), max_size=8))
    return header, rows


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(tables(), st.booleans())
def test_the_writer_gives_the_csv_modules_bytes(table, neutralise_cells):
    header, rows = table
    expected = reference(header, rows, neutralise_cells)
    columns = [[row[i] for row in rows] for i in range(len(header))]
    assert render_columns(header, columns, neutralise_cells=neutralise_cells) == expected
    assert render_csv(header, rows, neutralise_cells=neutralise_cells) == expected
    read = list(csv.reader(io.StringIO(expected.decode("utf-8"), newline=""), dialect=ContractDialect))
    assert len(read) == len(rows) + 1


def test_a_row_of_one_empty_cell_is_not_a_blank_line():
    assert render_columns(("a",), [["", None]]) == b'a\n""\n""\n'


def test_a_ragged_row_is_refused():
    with pytest.raises(ValueError, match="header's 2 cells"):
        render_csv(("a", "b"), [("x",)])
