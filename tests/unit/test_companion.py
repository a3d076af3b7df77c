"""The spreadsheet companion (`publish.companion`, CONTRACTS v1.2 §10): typed cells read from the workbook's own
XML, formulas never, and the same bytes on every run."""

from __future__ import annotations

import time
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from pipeline.csvio import render_csv
from pipeline.handoff import RecipientFile
from pipeline.publish.claims import PAYOUT_COLUMNS
from pipeline.publish.companion import exact_amount, with_companions, write_companion

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}


def cells(path: Path) -> dict[str, tuple[str | None, str, bool]]:
    """Cell reference → (type attribute, value or inline text, has a formula)."""
    with zipfile.ZipFile(path) as archive:
        sheet = etree.fromstring(archive.read("xl/worksheets/sheet1.xml"))
    found = {}
    for cell in sheet.iterfind(".//m:sheetData/m:row/m:c", NS):
        value = cell.find("m:v", NS)
        text = "".join(cell.itertext()) if value is None else value.text
        found[cell.get("r")] = (cell.get("t"), text, cell.find("m:f", NS) is not None)
    return found


def write(folder: Path, relative: str, header: tuple[str, ...], rows: list[tuple[object, ...]]) -> list[str]:
    (folder / relative).parent.mkdir(parents=True, exist_ok=True)
    (folder / relative).write_bytes(render_csv(header, rows))
    return [item.path for item in with_companions(folder, [RecipientFile(relative, len(rows))])]


def test_amounts_are_the_csvs_digits_as_numbers_and_ids_stay_text(tmp_path):
    paths = write(tmp_path, "payout.csv", PAYOUT_COLUMNS, [
        ("heat/40003286750", "22.09", "5.06", "0.00", "-3.10"),
        ("traders_electricity/00012345678", "123456789012.34", "0.10", "1.00", "-0.90")])
    assert paths == ["payout.csv", "payout.xlsx"]
    found = cells(tmp_path / "payout.xlsx")
    assert found["B2"] == (None, "22.09", False) and found["C2"] == (None, "5.06", False)
    assert found["E2"] == (None, "-3.10", False) and found["B3"] == (None, "123456789012.34", False)
    assert found["A3"] == ("inlineStr", "traders_electricity/00012345678", False)
    assert found["A1"] == ("inlineStr", "supplier", False)


def test_formula_like_text_is_text_never_a_formula(tmp_path):
    write(tmp_path, "municipalities/100003003/households.csv", ("aris_code", "address", "eligible", "status"),
          [("101000001", '=HYPERLINK("http://x","y")', 1, "ELIGIBLE"), ("101000002", "+cmd", 0, "REVIEW"),
           ("101000003", "@SUM(1+1)", 0, "NOT_ELIGIBLE"), ("101000004", "-2+3", 0, "NOT_ELIGIBLE")])
    found = cells(tmp_path / "municipalities/100003003/households.xlsx")
    assert not any(formula for _, _, formula in found.values())
    assert [found[f"B{row}"] for row in range(2, 6)] == [
        ("inlineStr", "'" + text, False) for text in ('=HYPERLINK("http://x","y")', "+cmd", "@SUM(1+1)", "-2+3")]
    assert found["C2"] == (None, "1", False) and found["A2"][0] == "inlineStr"


def test_dates_are_dates_and_diacritics_survive(tmp_path):
    write(tmp_path, "traders/40003032949/protected_contracts.csv", (
        "contract_number", "aris_code", "address", "decision_valid_from", "decision_valid_to"),
        [("0001", "101000001", "Šķūņu iela 1, Jēkabpils, Ļaudonas pag., Ņūtona, Žīguri", "2026-11-01", "")])
    found = cells(tmp_path / "traders/40003032949/protected_contracts.xlsx")
    assert found["D2"] == (None, "46327", False)              # 2026-11-01: days since 1899-12-30
    assert "E2" not in found
    assert found["C2"][1] == "Šķūņu iela 1, Jēkabpils, Ļaudonas pag., Ņūtona, Žīguri"
    assert found["A2"] == ("inlineStr", "0001", False)


def test_two_runs_give_identical_bytes(tmp_path):
    rows = [(f"C{n:04}", f"E{n}", "ELECTRICITY_BASE", "ACCEPTED", "", "10.00", "10.00") for n in range(50)]
    header = ("claim_id", "object_id", "support_type", "status", "reason", "claimed_eur", "accepted_eur")
    write(tmp_path / "a", "heat/40003286750/claim_result.csv", header, rows)
    time.sleep(1.1)                                           # a clock in the bytes would now differ
    write(tmp_path / "b", "heat/40003286750/claim_result.csv", header, rows)
    first, second = (tmp_path / side / "heat/40003286750/claim_result.xlsx" for side in ("a", "b"))
    assert first.read_bytes() == second.read_bytes()


def municipality_lists(folder: Path, count: int) -> list[RecipientFile]:
    header = ("aris_code", "address", "eligible", "status")
    written = []
    for municipality in range(count):
        relative = f"municipalities/10000{municipality:04}/households.csv"
        rows = [(f"1{municipality:04}{n:04}", f"Šķūņu iela {n}", n % 2, "ELIGIBLE" if n % 2 else "NOT_ELIGIBLE")
                for n in range(200 * (municipality + 1))]
        (folder / relative).parent.mkdir(parents=True)
        (folder / relative).write_bytes(render_csv(header, rows))
        written.append(RecipientFile(relative, len(rows)))
    written.append(RecipientFile("sopa_returns.csv", 0))  # a kind with no companion, between the others
    (folder / "sopa_returns.csv").write_bytes(b"")
    return written


def test_a_pool_of_workers_writes_the_same_companions_in_the_same_order(tmp_path):
    pooled, in_place = (with_companions(tmp_path / side, municipality_lists(tmp_path / side, 3), pool_min_bytes=size)
                        for side, size in (("pooled", 0), ("in_place", 2**62)))
    assert [item.path for item in pooled] == [item.path for item in in_place] == [
        "municipalities/100000000/households.csv", "municipalities/100000000/households.xlsx",
        "municipalities/100000001/households.csv", "municipalities/100000001/households.xlsx",
        "municipalities/100000002/households.csv", "municipalities/100000002/households.xlsx", "sopa_returns.csv"]
    for item in pooled:
        assert (tmp_path / "pooled" / item.path).read_bytes() == (tmp_path / "in_place" / item.path).read_bytes()


def test_a_failing_companion_in_the_pool_stops_the_build_with_its_own_error(tmp_path):
    written = municipality_lists(tmp_path, 2)
    (tmp_path / "payout.csv").write_bytes(render_csv(("supplier", "bonus_eur"), [("heat/1", "1.00")]))
    with pytest.raises(KeyError, match="bonus_eur"):
        with_companions(tmp_path, [*written, RecipientFile("payout.csv", 1)], pool_min_bytes=0)


def test_files_people_do_not_open_get_no_companion(tmp_path):
    assert write(tmp_path, "sopa_returns.csv", ("file", "record", "decision_number", "trader_reg_no", "reason"),
                 [("a.xml", 1, "", "", "NO_DECISION")]) == ["sopa_returns.csv"]
    assert not (tmp_path / "sopa_returns.xlsx").exists()


def test_a_column_the_dictionary_does_not_know_stops_the_writer(tmp_path):
    (tmp_path / "payout.csv").write_bytes(render_csv(("supplier", "bonus_eur"), [("heat/1", "1.00")]))
    with pytest.raises(KeyError, match="bonus_eur"):
        write_companion(tmp_path / "payout.csv", tmp_path / "payout.xlsx")


@pytest.mark.parametrize("text", ["1.005", "abc", "1e400", "1234567890123456"])
def test_an_amount_that_is_not_exact_is_refused(text):
    with pytest.raises(ValueError):
        exact_amount(text)
