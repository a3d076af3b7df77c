"""Reading claim files (§13): every value checked exactly, corrections, and whole files that are refused."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import pytest

from pipeline.decide.claims_policy import load_claims_policy
from pipeline.errors import PolicyError, SourceError
from pipeline.sources.claims import CLAIM_COLUMNS, read_claims, read_supplier
from pipeline.store.ddl import for_dialect, split_statements
from tests.conftest import DEFAULT_POLICY

HEADER = ";".join(CLAIM_COLUMNS)
SUPPLIER = "traders_electricity/40000000001"


def write(folder: Path, name: str, *lines: str, header: str = HEADER) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(("row", "code"), [
    ("A;2026-02-03T10:00:00;E1;ELECTRICITY_BASE;1;10.000;-5.00", "BAD_AMOUNT"),      # negative
    ("A;2026-02-03T10:00:00;E1;ELECTRICITY_BASE;1;10.000;5.001", "BAD_AMOUNT"),      # 3 decimals
    ("A;2026-02-03T10:00:00;E1;ELECTRICITY_BASE;1;10.000;5,00", "BAD_AMOUNT"),       # decimal comma
    ("A;2026-02-03T10:00:00;E1;ELECTRICITY_BASE;1;10.000;1e2", "BAD_AMOUNT"),        # exponent
    ("A;2026-02-03T10:00:00;E1;ELECTRICITY_BASE;1;10.000;٥", "BAD_AMOUNT"),          # non-ASCII digit
    ("A;2026-02-03T10:00:00;E1;ELECTRICITY_BASE;1;10.0001;5.00", "BAD_QUANTITY"),    # 4 decimals
    ("A;2026-02-03T10:00:00;E1;ELECTRICITY_BASE;1;-1;5.00", "BAD_QUANTITY"),
    ("A;2026-02-03T10:00:00;E1;ELECTRICITY_BASE;0;10.000;5.00", "BAD_DWELLINGS"),    # dwellings >= 1
    ("A;2026-02-03T10:00:00;E1;ELECTRICITY_BASE;1.5;10.000;5.00", "BAD_DWELLINGS"),
    ("A;2026-02-03T10:00:00;E1;WOOD_PELLETS;1;10.000;5.00", "BAD_SUPPORT_TYPE"),     # unknown type
    ("A;2026-02-03T10:00:00;E1;electricity_base;1;10.000;5.00", "BAD_SUPPORT_TYPE"),
    ("A;2026-02-30T10:00:00;E1;ELECTRICITY_BASE;1;10.000;5.00", "BAD_SUBMITTED_AT"),  # no such day
    ("A;2026-02-03 10:00:00;E1;ELECTRICITY_BASE;1;10.000;5.00", "BAD_SUBMITTED_AT"),
    ("A;2026-02-03T10:00:00;;ELECTRICITY_BASE;1;10.000;5.00", "BAD_OBJECT_ID"),
])
def test_a_broken_value_makes_the_line_malformed_with_its_reason(tmp_path, row, code):
    claims = read_supplier(SUPPLIER, [write(tmp_path, "a.csv", row)])
    assert [line.defect for line in claims.lines] == [code]
    assert [(q.file, q.line, q.claim_id, q.reason) for q in claims.quarantined] == [("a.csv", 2, "A", code)]


def test_a_valid_line_is_read_exactly(tmp_path):
    path = write(tmp_path, "a.csv", "A;2026-02-03T10:00:00;E1;ELECTRICITY_BASE;3;0.300;0.05")
    claims = read_supplier(SUPPLIER, [path])
    (line,) = claims.lines
    assert (line.dwellings, line.quantity_kwh, line.amount_eur, line.defect) == (3, Decimal("0.300"),
                                                                                   Decimal("0.05"), None)
    assert claims.quarantined == ()


@pytest.mark.parametrize("object_id", ["LV 0012 A", "Ķekava-Ā/7", " 12", "Līgums Nr. 5/2026 (ē)", "x" * 200])
def test_an_object_id_is_any_non_empty_text_kept_exactly_as_sent(tmp_path, object_id):
    """§6: an object id is the sender's own free text (ALDIS contract numbers too); it must match the published
    one byte for byte, so it is neither trimmed nor held to the claim id's rule (issue 20.3)."""
    quoted = '"' + object_id + '"'
    row = f"A;2026-02-03T10:00:00;{quoted};ELECTRICITY_BASE;1;1;1"
    claims = read_supplier(SUPPLIER, [write(tmp_path, "a.csv", row)])
    (line,) = claims.lines
    assert (line.object_id, line.defect) == (object_id, None)


@pytest.mark.parametrize("claim_id", ["A 1", "Ā1", "=cmd()", ""])
def test_the_id_rule_still_applies_to_the_claim_id(tmp_path, claim_id):
    row = f"{claim_id};2026-02-03T10:00:00;E1;ELECTRICITY_BASE;1;1;1"
    claims = read_supplier(SUPPLIER, [write(tmp_path, "a.csv", row)])
    assert claims.lines == ()
    assert [q.reason for q in claims.quarantined] == ["BAD_CLAIM_ID"]


def test_a_line_without_a_readable_claim_id_is_only_quarantined(tmp_path):
    claims = read_supplier(SUPPLIER, [write(tmp_path, "a.csv", "=cmd();2026-02-03T10:00:00;E1;ELECTRICITY_BASE;1;1;1")])
    assert claims.lines == ()
    assert [(q.line, q.reason) for q in claims.quarantined] == [(2, "BAD_CLAIM_ID")]


def test_the_latest_submitted_at_wins_across_files_and_regardless_of_order(tmp_path):
    first = write(tmp_path, "a.csv", "A;2026-02-05T10:00:00;E1;ELECTRICITY_BASE;1;10.000;2.00",
                  "A;2026-02-03T10:00:00;E1;ELECTRICITY_BASE;1;10.000;9.00")
    second = write(tmp_path, "b.csv", "A;2026-02-04T23:59:59;E1;ELECTRICITY_BASE;1;10.000;7.00")
    (line,) = read_supplier(SUPPLIER, [first, second]).lines
    assert line.amount_eur == Decimal("2.00")


def test_two_versions_at_the_same_latest_time_are_a_conflicting_correction(tmp_path):
    path = write(tmp_path, "a.csv", "A;2026-02-05T10:00:00;E1;ELECTRICITY_BASE;1;10.000;2.00",
                 "A;2026-02-05T10:00:00;E1;ELECTRICITY_BASE;1;10.000;3.00",
                 "A;2026-02-01T10:00:00;E1;ELECTRICITY_BASE;1;10.000;1.00")
    claims = read_supplier(SUPPLIER, [path])
    (line,) = claims.lines
    assert (line.defect, line.amount_eur) == ("CONFLICTING_CORRECTION", None)
    assert [q.reason for q in claims.quarantined] == ["CONFLICTING_CORRECTION"]


def test_an_unreadable_submitted_at_in_any_version_spoils_the_claim(tmp_path):
    path = write(tmp_path, "a.csv", "A;2026-02-05T10:00:00;E1;ELECTRICITY_BASE;1;10.000;2.00",
                 "A;yesterday;E1;ELECTRICITY_BASE;1;10.000;3.00")
    (line,) = read_supplier(SUPPLIER, [path]).lines
    assert line.defect == "BAD_SUBMITTED_AT"


def _claims_tree(tmp_path: Path) -> Path:
    write(tmp_path / "2026-01" / SUPPLIER, "a.csv", "A;2026-02-03T10:00:00;E1;ELECTRICITY_BASE;1;10.000;1.00")
    return tmp_path


@pytest.mark.parametrize(("content", "message"), [
    (b"claim_id;submitted_at\x00\x01\x02binary", "binary content"),
    (b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n<x>&e;</x>\n', "looks like markup"),
    (b"<?xml version='1.0'?><claims/>\n", "looks like markup"),
    (b"claim_id;object_id;amount_eur\nA;E1;1.00\n", "unexpected header"),
    (HEADER.encode() + b"\nA;2026-02-03T10:00:00;E1\n", "row has 3 fields"),
    (HEADER.encode() + b"\n\xff\xfe broken\n", "not valid UTF-8"),
    (b"", "empty file"),
])
def test_a_file_that_is_not_a_claim_csv_is_refused_in_one_line(tmp_path, content, message):
    root = _claims_tree(tmp_path)
    (root / "2026-01" / SUPPLIER / "b.csv").write_bytes(content)
    with pytest.raises(SourceError) as caught:
        read_claims(root, "2026-01")
    assert message in caught.value.one_line() and "b.csv" in caught.value.one_line()
    assert "\n" not in caught.value.one_line() and "passwd" not in caught.value.one_line()


def test_a_huge_file_is_refused_before_it_is_read(tmp_path):
    root = _claims_tree(tmp_path)
    big = root / "2026-01" / SUPPLIER / "big.csv"
    with big.open("wb") as handle:
        handle.write(HEADER.encode() + b"\n")
        handle.truncate(5_000_000)  # sparse: 5 MB of NUL bytes, never read
    with pytest.raises(SourceError, match="more than the limit of 1000000"):
        read_claims(root, "2026-01", max_bytes=1_000_000)


@pytest.mark.parametrize("bad", ["traders_oil/40000000001", "heat/4000000000", "heat/4000000000x",
                                 "traders_gas/400000000011"])
def test_a_folder_outside_the_layout_is_refused(tmp_path, bad):
    root = _claims_tree(tmp_path)
    write(root / "2026-01" / bad, "a.csv", "A;2026-02-03T10:00:00;E1;GAS_HEATING;1;10.000;1.00")
    with pytest.raises(SourceError, match="unexpected entry"):
        read_claims(root, "2026-01")


def test_a_symlink_or_a_stray_file_is_refused(tmp_path):
    root = _claims_tree(tmp_path)
    secret = tmp_path / "elsewhere.csv"
    secret.write_text(HEADER + "\n", encoding="utf-8")
    os.symlink(secret, root / "2026-01" / SUPPLIER / "link.csv")
    with pytest.raises(SourceError, match="link.csv: is a symbolic link"):
        read_claims(root, "2026-01")
    (root / "2026-01" / SUPPLIER / "link.csv").unlink()
    (root / "2026-01" / SUPPLIER / "notes.txt").write_text("hi", encoding="utf-8")
    with pytest.raises(SourceError, match="only \\*.csv"):
        read_claims(root, "2026-01")


def test_the_policy_sections_are_read_for_the_period_and_checked_strictly(tmp_path):
    policy = load_claims_policy(DEFAULT_POLICY, "2026-11")
    assert policy.claim_window_months == 6
    assert policy.rates["ELECTRICITY_HEATING"].rate_eur_per_kwh == Decimal("0.05")
    assert policy.rates["PROTECTED_USER"].max_kwh_per_dwelling == 100

    def broken(compensation: str, window: str = "6") -> Path:
        path = tmp_path / "p.yaml"
        path.write_text("income_threshold_eur: 500\nprice_thresholds_eur_mwh: {electricity: 1, gas: 1, heat: 1}\n"
                        f"heating_season_months: [1]\ncompensation: {compensation}\nclaim_window_months: {window}\n",
                        encoding="utf-8")
        return path

    good = ("{ELECTRICITY_BASE: {rate_eur_per_kwh: 0.1}, ELECTRICITY_HEATING: {rate_eur_per_kwh: 0.05}, "
            "GAS_HEATING: {rate_eur_per_kwh: 0.03}, DISTRICT_HEAT: {rate_eur_per_kwh: 0.04}, "
            "PROTECTED_USER: {rate_eur_per_kwh: 0.1, max_kwh_per_dwelling: 100}")
    assert load_claims_policy(broken(good + "}"), "2026-01").rates["ELECTRICITY_BASE"].max_kwh_per_dwelling is None
    for compensation, window, message in [
        (good.replace("0.05", "-0.05") + "}", "6", "ELECTRICITY_HEATING.rate_eur_per_kwh must be"),
        (good.replace("0.05", "0.0500001") + "}", "6", "at most 6 decimals"),
        (good.replace("0.05", "'abc'") + "}", "6", "rate_eur_per_kwh must be"),
        (good.replace("max_kwh_per_dwelling: 100", "max_kwh_per_dwelling: 0") + "}", "6", "whole number >= 1"),
        (good.replace("rate_eur_per_kwh: 0.04", "rate_eur_per_kwh: 0.04, max_kwh: 5") + "}", "6", "unknown key"),
        (good + ", WOOD: {rate_eur_per_kwh: 1}}", "6", "unknown support type WOOD"),
        (good.replace("GAS_HEATING: {rate_eur_per_kwh: 0.03}, ", "") + "}", "6", "no rate for GAS_HEATING"),
        (good + "}", "true", "claim_window_months"),
        (good + "}", "6.5", "claim_window_months"),
    ]:
        with pytest.raises(PolicyError, match=message):
            load_claims_policy(broken(compensation, window), "2026-01")


def test_the_ddl_splitter_keeps_function_and_trigger_bodies_whole():
    script = """
-- dialect: all
CREATE TABLE t (a TEXT DEFAULT 'x;y');  -- a comment; with a semicolon
-- dialect: postgresql
CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'no; %', TG_OP; END;
$$;
CREATE TRIGGER p BEFORE DELETE ON t FOR EACH ROW EXECUTE FUNCTION f();
-- dialect: sqlite
CREATE TRIGGER IF NOT EXISTS s BEFORE DELETE ON t
BEGIN
    SELECT RAISE(ABORT, 'no; never');
END;
"""
    postgres = split_statements(for_dialect(script, "postgresql"))
    assert len(postgres) == 3
    assert postgres[0] == "CREATE TABLE t (a TEXT DEFAULT 'x;y')"
    assert postgres[1].endswith("END;\n$$") and postgres[2].startswith("CREATE TRIGGER p")
    sqlite = split_statements(for_dialect(script, "sqlite"))
    assert len(sqlite) == 2 and sqlite[1].startswith("CREATE TRIGGER IF NOT EXISTS s") and sqlite[1].endswith("END")
