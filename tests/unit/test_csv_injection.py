"""Issue 9 point 2: no spreadsheet formula leaves EIKIS in a CSV cell (OWASP CSV injection)."""

from __future__ import annotations

import csv
import io

import pytest

from pipeline.csvio import ContractDialect, neutralise, render_csv, render_provider_csv


def cells(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline=""), dialect=ContractDialect))


@pytest.mark.parametrize("text", ['=HYPERLINK("http://x","y")', "=1+2", "-2+3", "@SUM(1+1)", "+5", "\t=1+2",
                                  "\r=1+2", "=1+2;=3", '=1+2";=1+2', "-", "+", "-1e3", "- 5"])
def test_a_cell_a_spreadsheet_would_evaluate_gets_a_leading_quote(text):
    written = cells(render_csv(("a", "b"), [(text, "x")]))
    assert written[1] == ["'" + text, "x"]


@pytest.mark.parametrize("text", ["-12.50", "-3", "0", "12.5", "Rīga, LV-1050", "a=b", "'=1+2", " =1", ""])
def test_plain_numbers_and_harmless_text_are_written_as_they_are(text):
    assert cells(render_csv(("a",), [(text,)]))[1] == [text]


def test_non_text_values_pass_and_the_header_is_checked_too():
    assert cells(render_csv(("=h", "n"), [(-5, None)])) == [["'=h", "n"], ["-5", ""]]
    assert neutralise("=x") == "'=x" and neutralise(7) == 7


def test_input_files_of_tests_and_the_generator_can_still_be_written_raw():
    assert cells(render_provider_csv(("a",), [("=1+2",)]))[1] == ["=1+2"]


def test_a_carriage_return_inside_a_cell_is_quoted_so_the_row_stays_one_row():
    data = render_csv(("a", "b"), [("x\ry", "z")])
    assert data == b'a;b\n"x\ry";z\n'
    assert cells(data)[1] == ["x\ry", "z"]
