"""The Arrow fast path for contract CSVs (`pipeline.sources.csvarrow`) against the `csv` module's reader.

The property: for any file — quoted, ragged, with CRs, blank lines, a BOM, bad UTF-8 or stray quotes — the fast
path either declines or gives exactly the lines and columns of `csvio.read_columns`, and `read_table` always
gives the reference's answer or raises its error. The examples after it show that the fast path does not simply
decline: it reads the files providers send (every trader name quoted, addresses with `;` and line breaks).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pipeline.csvio import read_columns, render_provider_csv
from pipeline.errors import SourceError
from pipeline.sources.connections import HEADERS
from pipeline.sources.csvarrow import read_fast, read_table

HEADER = ("object_id", "address", "status")
CLEAN = ("a", "Rīga", " ", ";", '"', "\n", "=1", "\u2003", "NA", "")
ODD = (b'"', b'""', b"\r", b"\r\n", b"\n", b"\n\n", b";", "\ufeff".encode(), b"\x00",
       b"\xff", b"\xc4", b"\xed\xa0\x80", b"\xc0\xaf")  # quotes, line ends, BOM, NUL, bad/surrogate/overlong UTF-8

texts = st.lists(st.sampled_from(CLEAN), max_size=4).map("".join)


def quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


as_providers_write = texts.map(lambda text: quoted(text) if any(char in text for char in ';"\n') else text)
cells = st.one_of(as_providers_write, as_providers_write, as_providers_write,
                  texts.map(quoted),  # quoted regardless
                  texts)              # never quoted: a stray quote, `;` or line break


@st.composite
def csv_files(draw: st.DrawFn) -> bytes:
    """A header (usually the expected one) and rows of 2–4 cells (usually 3) as a provider writes them, then up
    to two odd bytes (a quote, a CR, a blank line, a BOM, a NUL, bad UTF-8) put anywhere, and perhaps no last
    line end."""
    head = draw(st.sampled_from([";".join(HEADER)] * 4 + ["\ufeff" + ";".join(HEADER),
                                 '"object_id";address;status', "object_id;address"]))
    widths = st.sampled_from([3] * 8 + [2, 4])
    rows = draw(st.lists(widths.flatmap(lambda width: st.lists(cells, min_size=width, max_size=width)), max_size=6))
    data = "\n".join([head, *(";".join(row) for row in rows)]).encode("utf-8") + b"\n"
    for _ in range(draw(st.sampled_from([0, 0, 1, 2]))):
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.sampled_from(ODD)) + data[at:]
    return data[:-1] if draw(st.booleans()) and data.endswith(b"\n") else data


def reference(path: Path) -> tuple[list[int], dict[str, list[str]]] | SourceError:
    try:
        return read_columns(path, HEADER)
    except SourceError as exc:
        return exc


@settings(max_examples=1500, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=csv_files())
@example(data=b'object_id;address;status\nE1;"a;b\nc";X\n')
@example(data=b'object_id;address;status\nE1;"a"b;X\n')
@example(data=b'object_id;address;status\nE1;a"b;X\n')
@example(data=b'object_id;address;status\nE1;"a;X\n')
def test_the_fast_path_declines_or_reads_what_the_csv_module_reads(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "list.csv"
    path.write_bytes(data)
    expected = reference(path)
    fast = read_fast(path, HEADER)
    if fast is not None:
        assert not isinstance(expected, SourceError), f"the fast path read a file the reference refuses: {expected}"
        assert (fast[0].tolist(), fast[1].to_pydict()) == expected
    if isinstance(expected, SourceError):
        with pytest.raises(SourceError) as raised:
            read_table(path, HEADER)
        assert str(raised.value) == str(expected)
    else:
        lines, table = read_table(path, HEADER)
        assert (lines.tolist(), table.to_pydict()) == expected
        assert all(str(column.type) == "string" for column in table.columns)


def written(tmp_path: Path, rows: list[tuple[str, ...]], header: tuple[str, ...] = HEADERS["electricity"]) -> Path:
    path = tmp_path / "objects.csv"
    path.write_bytes(render_provider_csv(header, rows))
    return path


PROVIDER_ROWS = [
    ("E1", "101000021", '"Jaunsētas", Skrīveri, LV-1438', "INDIVIDUAL", 'AS "Latvenergo"', "40003032949", "ACTIVE"),
    ("E2", "101000022", "Ozolu iela 6;\nsecond line", "COMMON", "SIA Tet", "40003052786", "DISCONNECTED"),
    ("", "", "", "", "", "", ""),
    ("E4", "NA", "NULL", "=HYPERLINK()", "-", "1e3", '"'),
]


def test_provider_files_take_the_fast_path_with_the_reference_lines(tmp_path: Path) -> None:
    path = written(tmp_path, PROVIDER_ROWS)
    fast = read_fast(path, HEADERS["electricity"])
    assert fast is not None
    lines, columns = read_columns(path, HEADERS["electricity"])
    assert fast[0].tolist() == lines == [2, 4, 5, 6]  # a record with a line break ends on its second line
    assert fast[1].to_pydict() == columns
    assert columns["object_id"] == ["E1", "E2", "", "E4"] and columns["address"][3] == "NULL"  # no nulls, no NA


def test_a_list_without_the_last_line_end_or_without_records(tmp_path: Path) -> None:
    path = written(tmp_path, PROVIDER_ROWS[:2])
    path.write_bytes(path.read_bytes().rstrip(b"\n"))
    fast = read_fast(path, HEADERS["electricity"])
    assert fast is not None and fast[0].tolist() == read_columns(path, HEADERS["electricity"])[0] == [2, 4]
    empty = written(tmp_path, [])
    fast = read_fast(empty, HEADERS["electricity"])
    assert fast is not None and fast[1].num_rows == 0 and fast[1].column_names == list(HEADERS["electricity"])


@pytest.mark.parametrize("text", [
    "object_id;address;status\r\nE1;a;X\r\n",         # CR line ends
    "\ufeffobject_id;address;status\nE1;a;X\n",       # a BOM
    "object_id;address;status\nE1;a;X\n\nE2;b;Y\n",   # a blank line (the reference skips it)
    'object_id;address;status\nE1;"a"b;X\n',          # text after a closing quote (the reference refuses it)
    'object_id;address;status\nE1;a"b;X\n',           # a quote inside an unquoted cell (the reference keeps it)
    "object_id;address;status\nE1;a;X;Y\n",           # a ragged row
])
def test_the_fast_path_declines_what_it_cannot_prove(tmp_path: Path, text: str) -> None:
    path = tmp_path / "list.csv"
    path.write_text(text, encoding="utf-8", newline="")
    assert read_fast(path, HEADER) is None


@pytest.fixture()
def small_field_limit() -> Iterator[int]:
    before = csv.field_size_limit(8)
    yield 8
    csv.field_size_limit(before)


def test_a_cell_above_the_csv_modules_field_limit_is_left_to_it(tmp_path: Path, small_field_limit: int) -> None:
    path = tmp_path / "list.csv"
    path.write_text(f"object_id;address;status\nE1;{'x' * small_field_limit};X\n", encoding="utf-8")
    assert read_fast(path, HEADER) is None
    with pytest.raises(SourceError, match="field larger than field limit"):
        read_table(path, HEADER)


def test_a_one_column_list_is_left_to_the_csv_module(tmp_path: Path) -> None:
    """`""` alone on a line is a blank row to the reference and a cell to Arrow."""
    path = tmp_path / "list.csv"
    path.write_text('only\n""\nx\n', encoding="utf-8")
    assert read_fast(path, ("only",)) is None
    lines, table = read_table(path, ("only",))
    assert lines.tolist() == [3] and table.to_pydict() == {"only": ["x"]}
