"""`eikis aldis` on hand-made real files (CONTRACTS §12): every reason code with hand-computed returns, the edge
cases of the issue, bad input, a byte-identical re-run and a personal-data scan of every published file."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.runlock import period_lock
from tests.aldis_builders import ENEFIT, LATVENERGO, MVBK, TET, AldisInbox, protected_user
from tests.builders import person_code
from tests.workbooks import readable

P = "2025-01"


def aldis(tmp_path: Path, inbox: Path, traders: Path, *extra: str) -> int:
    return main(["aldis", "--period", P, "--inbox", str(inbox), "--outbox", str(tmp_path / "outbox"),
                 "--traders", str(traders), "--workdir", str(tmp_path / "work"), *extra])


def every_reason() -> AldisInbox:
    """One record per reason (hand-computed returns below) plus the passes of the issue's edge cases."""
    box = AldisInbox(period=P)
    box.sopa["a.xml"] = [
        protected_user(1, code="999999-99999"),                                       # 1 INVALID_PERSON_CODE
        protected_user(2, status="Procesā", decision=None),                            # 2 STATUS_NOT_FINAL
        protected_user(3, decision=None),                                              # 3 NO_DECISION
        protected_user(4, decision="SD-4", valid_to="2024-12-31"),                     # 4 DECISION_NOT_IN_PERIOD
        protected_user(5, decision="SD-5", valid_from="2025-02-01", valid_to="2025-07-31"),  # 5 … (after P)
        protected_user(6, decision="SD-6", valid_from="2024-12-01", valid_to="2025-01-01", contract="E-10"),  # pass
        protected_user(7, decision="SD-7", valid_from="2025-01-31", valid_to="2025-06-30", contract="E-11"),  # pass
        protected_user(8, decision="SD-8", contract=None),                             # 8 NO_CONTRACT
        protected_user(9, decision="SD-9a", reg_no=None),                              # 9 NO_CONTRACT
        protected_user(10, decision="SD-10a", reg_no=ENEFIT),                          # 10 TRADER_NOT_CONNECTED
        protected_user(11, decision="SD-11", reg_no="40000000001"),                    # 11 TRADER_NOT_CONNECTED
        protected_user(12, decision="SD-12", reg_no=TET),                              # 12 CONTRACT_LIST_MISSING
        protected_user(13, decision="SD-13", contract="E-404"),                        # 13 CONTRACT_NOT_FOUND
        protected_user(14, decision="SD-14", contract="E-20"),                         # 14 CONTRACT_NOT_FOUND (CLOSED)
        protected_user(15, decision="SD-9", contract="E-30"),                          # 15 DUPLICATE_CONTRACT
        protected_user(16, decision="SD-16", contract="M-1", reg_no=MVBK),             # pass: production from P
    ]
    box.sopa["b.xml"] = [protected_user(17, decision="SD-10", valid_from="2025-01-05", valid_to="2025-03-31",
                                        contract="E-30")]                           # the smaller number: passes
    box.contract(LATVENERGO, "E-30", "100000030", "Iela 30, Rīga")
    box.contract(LATVENERGO, "E-10", "100000010", "Iela 10; dz. 2, Rīga")
    box.contract(LATVENERGO, "E-20", "100000020", "Iela 20, Rīga", status="CLOSED")
    box.contract(LATVENERGO, "E-11", "100000011", 'Māja "Ozoli", Ādaži', file="more.csv")
    box.contract(MVBK, "M-1", "100000040", "Iela 40, Jelgava")
    box.contract(ENEFIT, "N-1", "100000050", "Iela 50, Tukums")  # test environment only: never gets a file
    return box


EXPECTED_RETURNS = """file;record;decision_number;trader_reg_no;reason
a.xml;1;SD-1;40003032949;INVALID_PERSON_CODE
a.xml;2;;40003032949;STATUS_NOT_FINAL
a.xml;3;;40003032949;NO_DECISION
a.xml;4;SD-4;40003032949;DECISION_NOT_IN_PERIOD
a.xml;5;SD-5;40003032949;DECISION_NOT_IN_PERIOD
a.xml;8;SD-8;40003032949;NO_CONTRACT
a.xml;9;SD-9a;;NO_CONTRACT
a.xml;10;SD-10a;40103243453;TRADER_NOT_CONNECTED
a.xml;11;SD-11;40000000001;TRADER_NOT_CONNECTED
a.xml;12;SD-12;40003052786;CONTRACT_LIST_MISSING
a.xml;13;SD-13;40003032949;CONTRACT_NOT_FOUND
a.xml;14;SD-14;40003032949;CONTRACT_NOT_FOUND
a.xml;15;SD-9;40003032949;DUPLICATE_CONTRACT
"""

EXPECTED_LATVENERGO = """contract_number;aris_code;address;decision_valid_from;decision_valid_to
E-10;100000010;"Iela 10; dz. 2, Rīga";2024-12-01;2025-01-01
E-11;100000011;"Māja ""Ozoli"", Ādaži";2025-01-31;2025-06-30
E-30;100000030;Iela 30, Rīga;2025-01-05;2025-03-31
"""


@pytest.fixture
def published(tmp_path: Path) -> Path:
    inbox, traders = every_reason().write(tmp_path)
    assert aldis(tmp_path, inbox, traders) == 0
    return tmp_path / "outbox" / P


def test_every_reason_code_is_returned_with_hand_computed_rows(published: Path):
    assert (published / "sopa_returns.csv").read_text(encoding="utf-8") == EXPECTED_RETURNS


def test_each_production_trader_gets_exactly_its_passed_contracts(published: Path):
    assert (published / f"traders/{LATVENERGO}/protected_contracts.csv").read_text(encoding="utf-8") == \
        EXPECTED_LATVENERGO
    assert (published / f"traders/{MVBK}/protected_contracts.csv").read_text(encoding="utf-8") == (
        "contract_number;aris_code;address;decision_valid_from;decision_valid_to\n"
        "M-1;100000040;Iela 40, Jelgava;2024-11-01;2025-04-30\n")
    # in production but sent no list: a header-only file; in the test environment only: no file at all
    assert (published / f"traders/{TET}/protected_contracts.csv").read_text(encoding="utf-8") == (
        "contract_number;aris_code;address;decision_valid_from;decision_valid_to\n")
    assert sorted(p.name for p in (published / "traders").iterdir()) == sorted([LATVENERGO, MVBK, TET])


def test_manifest_lists_every_file_with_rows_and_sha256(published: Path):
    import hashlib

    manifest = json.loads((published / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest) == {"period", "run_id", "files"} and manifest["period"] == P
    assert {path: entry["rows"] for path, entry in manifest["files"].items()} == {
        "sopa_returns.csv": 13, f"traders/{LATVENERGO}/protected_contracts.csv": 3,
        f"traders/{MVBK}/protected_contracts.csv": 1, f"traders/{TET}/protected_contracts.csv": 0,
        # v1.2: each trader's file has its spreadsheet companion with the same rows
        f"traders/{LATVENERGO}/protected_contracts.xlsx": 3, f"traders/{MVBK}/protected_contracts.xlsx": 1,
        f"traders/{TET}/protected_contracts.xlsx": 0}
    for path, entry in manifest["files"].items():
        assert hashlib.sha256((published / path).read_bytes()).hexdigest() == entry["sha256"]


def test_report_counts_passed_per_trader_and_returns_per_reason(published: Path, tmp_path: Path):
    report = (tmp_path / "work" / P / "aldis" / "report.md").read_text(encoding="utf-8")
    assert '| AS "Latvenergo" (Elektrum) | 40003032949 | yes | 3 |' in report
    assert '| SIA "Enefit" | 40103243453 | no (from not set) | 0 |' in report
    assert "| DECISION_NOT_IN_PERIOD | 2 |" in report and "| DUPLICATE_CONTRACT | 1 |" in report
    assert "Bērziņš" not in report and person_code(2) not in report


def test_invalid_person_code_is_also_quarantined(published: Path, tmp_path: Path):
    import pyarrow.parquet as pq

    rows = pq.read_table(tmp_path / "work" / P / "aldis" / "quarantine" / "sopa.parquet").to_pylist()
    assert [(r["file"], r["record"], r["reason"]) for r in rows] == [("sopa/a.xml", 1, "INVALID_PERSON_CODE")]


def test_no_personal_code_or_name_in_any_published_file(published: Path):
    from pipeline.quality.personcode import is_valid

    codes = [person_code(serial) for serial in range(1, 18)] + ["999999-99999"]
    for path in published.rglob("*"):
        if path.is_file():
            text = readable(path.name, path.read_bytes())
            for code in codes:
                assert code not in text and code.replace("-", "") not in text, path
            for token in re.findall(r"[\d-]{11,12}", text):
                assert not is_valid(token), (path, "a valid personal code")
            for word in ("Jānis", "Bērziņš", "Brīvības"):
                assert word not in text, (path, word)


def test_rerun_is_byte_identical(published: Path, tmp_path: Path):
    before = {p.relative_to(published): p.read_bytes() for p in published.rglob("*") if p.is_file()}
    inbox, traders = tmp_path / "inbox", tmp_path / "traders.yaml"
    assert aldis(tmp_path, inbox, traders) == 0
    after = {p.relative_to(published): p.read_bytes() for p in published.rglob("*") if p.is_file()}
    assert after == before
    left = [p.name for p in (tmp_path / "outbox").iterdir() if not p.name.endswith(".lock")]  # + P's run lock
    assert left == [P]  # no build or replaced folder left


def test_record_positions_count_every_protected_user_element(tmp_path: Path):
    box = AldisInbox(period=P)
    box.sopa["z.xml"] = [protected_user(i, decision=f"SD-{i}", contract=f"E-{i}") for i in range(1, 4)]
    box.sopa["a.xml"] = [protected_user(9, decision="SD-9", contract="E-1")]
    box.contract(LATVENERGO, "E-1")
    box.contract(LATVENERGO, "E-3")
    inbox, traders = box.write(tmp_path)
    assert aldis(tmp_path, inbox, traders) == 0
    returns = (tmp_path / "outbox" / P / "sopa_returns.csv").read_text(encoding="utf-8").splitlines()[1:]
    # a.xml's SD-9 loses E-1 to z.xml's SD-1; z.xml record 2 has no ACTIVE E-2
    assert returns == ["a.xml;1;SD-9;40003032949;DUPLICATE_CONTRACT", "z.xml;2;SD-2;40003032949;CONTRACT_NOT_FOUND"]


# ---------------------------------------------------------------- bad input: one line, exit 2, no outbox
def assert_refused(tmp_path: Path, inbox: Path, traders: Path, capsys: pytest.CaptureFixture[str],
                   *expected: str) -> None:
    assert aldis(tmp_path, inbox, traders) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("eikis: error: "), err
    for part in expected:
        assert part in err, err
    outbox = tmp_path / "outbox"
    assert not outbox.exists() or not [p for p in outbox.iterdir() if not p.name.endswith(".lock")]  # lock only


def test_a_doctype_in_a_sopa_file_is_refused(tmp_path, capsys):
    box = every_reason()
    inbox, traders = box.write(tmp_path)
    path = inbox / P / "sopa" / "b.xml"
    text = path.read_text(encoding="utf-8").replace(
        "<ProtectedUsersExtract", '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n<ProtectedUsersExtract', 1)
    path.write_text(text, encoding="utf-8")
    assert_refused(tmp_path, inbox, traders, capsys, "b.xml", "DOCTYPE")


def test_a_malformed_contract_file_is_refused(tmp_path, capsys):
    inbox, traders = every_reason().write(tmp_path)
    (inbox / P / "contracts" / LATVENERGO / "broken.csv").write_text(
        "contract_number;aris_code;address;status\nE-1;100000010;Iela 1\n", encoding="utf-8")
    assert_refused(tmp_path, inbox, traders, capsys, "broken.csv:2", "row has 3 fields")


def test_a_contract_file_with_a_wrong_header_is_refused(tmp_path, capsys):
    inbox, traders = every_reason().write(tmp_path)
    (inbox / P / "contracts" / MVBK / "contracts.csv").write_text("contract;status\nM-1;ACTIVE\n", encoding="utf-8")
    assert_refused(tmp_path, inbox, traders, capsys, "contracts.csv:1", "unexpected header")


def test_a_contract_folder_that_is_not_a_reg_no_is_refused(tmp_path, capsys):
    inbox, traders = every_reason().write(tmp_path)
    (inbox / P / "contracts" / "Latvenergo").mkdir()
    assert_refused(tmp_path, inbox, traders, capsys, "Latvenergo", "11-digit")


def test_a_missing_sopa_extract_is_refused(tmp_path, capsys):
    box = every_reason()
    box.sopa.clear()
    inbox, traders = box.write(tmp_path)
    assert_refused(tmp_path, inbox, traders, capsys, "sopa is missing")


def test_an_unknown_status_row_is_quarantined_and_its_contract_not_found(tmp_path):
    box = AldisInbox(period=P)
    box.sopa["a.xml"] = [protected_user(1, decision="SD-1", contract="E-1"),
                         protected_user(2, decision="SD-2", contract="E-2")]
    for number in range(2, 80):
        box.contract(LATVENERGO, f"E-{number}")
    box.contract(LATVENERGO, "E-1", status="PAUSED")
    inbox, traders = box.write(tmp_path)
    assert aldis(tmp_path, inbox, traders) == 0
    returns = (tmp_path / "outbox" / P / "sopa_returns.csv").read_text(encoding="utf-8").splitlines()[1:]
    assert returns == ["a.xml;1;SD-1;40003032949;CONTRACT_NOT_FOUND"]
    import pyarrow.parquet as pq

    rows = pq.read_table(tmp_path / "work" / P / "aldis" / "quarantine" / "contracts.parquet").to_pylist()
    assert [(r["file"], r["record"], r["reason"]) for r in rows] == [
        (f"contracts/{LATVENERGO}/contracts.csv", 79, "UNKNOWN_ENUM")]


def test_too_many_bad_contract_rows_fail_the_suite_and_publish_nothing(tmp_path, capsys):
    box = every_reason()
    for number in range(60):  # over both limits of the default tolerance: 2 % and 50 rows
        box.contract(MVBK, f"M-{number + 2}", status="PAUSED")
    inbox, traders = box.write(tmp_path)
    assert_refused(tmp_path, inbox, traders, capsys, "contracts: data-quality suite failed",
                   "expect_table_row_count")


@pytest.mark.parametrize(("register", "expected"), [
    ('traders:\n  - {reg_no: "4000303294", name: "X", production_from: "2022-03"}\n', "11 digits"),
    ('traders:\n  - {reg_no: 40003032949, name: "X", production_from: "2022-03"}\n', "11 digits"),
    ('traders:\n  - {reg_no: "４0003032949", name: "X", production_from: "2022-03"}\n', "11 digits"),
    ('traders:\n  - {reg_no: "40003032949", name: "X", production_from: "2022-3"}\n', "YYYY-MM"),
    ('traders:\n  - {reg_no: "40003032949", name: "X", production_from: 2022-03-01}\n', "production_from"),
    ('traders:\n  - {reg_no: "40003032949", name: "X", production_from: null}\n'
     '  - {reg_no: "40003032949", name: "Y", production_from: null}\n', "listed twice"),
    ('traders:\n  - {reg_no: "40003032949", name: "X", name: "Y", production_from: null}\n', "appears more than once"),
    ('traders: []\ntraders: []\n', "appears more than once"),
    ('traders:\n  - {reg_no: "40003032949", name: "X"}\n', "exactly reg_no, name and production_from"),
])
def test_a_bad_trader_register_is_refused(tmp_path, capsys, register, expected):
    box = every_reason()
    box.register = register
    inbox, traders = box.write(tmp_path)
    assert_refused(tmp_path, inbox, traders, capsys, "traders.yaml", expected)


def test_the_run_is_recorded_in_the_store(tmp_path):
    from sqlalchemy import create_engine, text

    inbox, traders = every_reason().write(tmp_path)
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    assert aldis(tmp_path, inbox, traders, "--db", url) == 0
    assert aldis(tmp_path, inbox, traders, "--db", url) == 0
    with create_engine(url).connect() as conn:
        rows = conn.execute(text("SELECT period, sopa_records, passed, returned FROM aldis_runs")).all()
    assert rows == [(P, 17, 4, 13)]


def test_the_sample_month_exercises_every_reason_and_publishes_the_outbox(tmp_path):
    from pipeline.decide.aldis import AldisReason
    from tests.conftest import ROOT, SAMPLE_INBOX, SAMPLE_PERIOD

    args = ["aldis", "--period", SAMPLE_PERIOD, "--inbox", str(SAMPLE_INBOX), "--outbox", str(tmp_path / "outbox"),
            "--traders", str(ROOT / "policy" / "traders.yaml"), "--workdir", str(tmp_path / "work")]
    assert main(args) == 0
    published = tmp_path / "outbox" / SAMPLE_PERIOD
    reasons = [line.rsplit(";", 1)[1] for line in
               (published / "sopa_returns.csv").read_text(encoding="utf-8").splitlines()[1:]]
    assert set(reasons) == {str(reason) for reason in AldisReason}
    manifest = json.loads((published / "manifest.json").read_text(encoding="utf-8"))
    assert sorted(manifest["files"]) == ["sopa_returns.csv", *(f"traders/{trader}/protected_contracts.{kind}"
                                                               for trader in (LATVENERGO, TET, MVBK)
                                                               for kind in ("csv", "xlsx"))]
    assert manifest["files"][f"traders/{MVBK}/protected_contracts.csv"]["rows"] == 0  # production from P, no list
    before = {p: p.read_bytes() for p in published.rglob("*") if p.is_file()}
    assert main(args) == 0
    assert {p: p.read_bytes() for p in published.rglob("*") if p.is_file()} == before
    sopa = "".join(p.read_text(encoding="utf-8") for p in sorted((SAMPLE_INBOX / SAMPLE_PERIOD / "sopa").glob("*.xml")))
    codes = set(re.findall(r"<PersonCode>([^<]*)</PersonCode>", sopa))
    surnames = set(re.findall(r"<Surname>([^<]*)</Surname>", sopa))
    assert len(codes) > 100
    for path, data in before.items():
        text = readable(path.name, data)
        assert not any(code in text or code.replace("-", "") in text for code in codes)
        assert not any(f";{surname}" in text or f"{surname};" in text or f">{surname}<" in text
                       for surname in surnames)


def test_a_second_run_of_the_period_is_refused_while_the_first_holds_its_lock(tmp_path, capsys):
    """Two ALDIS runs of P on one outbox would remove each other's build folder: the second is refused at once."""
    inbox, traders = every_reason().write(tmp_path)
    with period_lock(P, tmp_path / "outbox"):
        assert aldis(tmp_path, inbox, traders) == 2
    assert "is already being run by another process" in capsys.readouterr().err
    assert not (tmp_path / "outbox" / P).exists()
    assert aldis(tmp_path, inbox, traders) == 0  # the lock is gone with its holder


# ---------------------------------------------------------------- no one lost: every SOPA record passed or returned
def published_rows(path: Path) -> int:
    with path.open(encoding="utf-8", newline="") as handle:
        return sum(1 for _ in csv.reader(handle, delimiter=";")) - 1


def assert_every_record_passed_or_returned(inbox: Path, published: Path) -> int:
    """Issue 20 point 4: the `<ProtectedUser>` elements of P's SOPA extracts = rows passed to traders + rows
    returned to SOPA, counted on the published files themselves."""
    count_in = sum(len(re.findall(r"<ProtectedUser>", path.read_text(encoding="utf-8")))
                   for path in (inbox / "sopa").glob("*.xml"))
    passed = sum(published_rows(path) for path in published.glob("traders/*/protected_contracts.csv"))
    assert count_in == passed + published_rows(published / "sopa_returns.csv") and count_in > 0
    return count_in


def test_every_sopa_record_of_the_sample_month_is_passed_or_returned(tmp_path):
    from tests.conftest import ROOT, SAMPLE_INBOX, SAMPLE_PERIOD

    assert main(["aldis", "--period", SAMPLE_PERIOD, "--inbox", str(SAMPLE_INBOX), "--outbox",
                 str(tmp_path / "outbox"), "--traders", str(ROOT / "policy" / "traders.yaml"), "--workdir",
                 str(tmp_path / "work")]) == 0
    assert assert_every_record_passed_or_returned(SAMPLE_INBOX / SAMPLE_PERIOD, tmp_path / "outbox" / SAMPLE_PERIOD) \
        == 119


def test_every_sopa_record_of_a_hostile_month_is_passed_or_returned(tmp_path):
    """Odd but schema-valid records, an empty trader folder and a list from a trader not in production: every
    record still ends in a trader's file or in the returns."""
    box = every_reason()
    box.sopa["c.xml"] = [
        protected_user(30, code=""),                                                   # no code at all
        protected_user(31, decision="SD-31", valid_from="2025-02-30", valid_to="2025-01-31"),  # not a date
        protected_user(32, decision="SD-32", valid_from="2025-01-20", valid_to="2025-01-10"),  # ends before start
        protected_user(33, decision="SD-33", contract="  E-10  "),                     # padded: its own contract
        protected_user(34, decision="SD-34", reg_no="４０００３０３２９４９"),              # fullwidth digits
        protected_user(35, decision="   ", contract="E-11"),                           # blank decision
        protected_user(36, status=" Pabeigts ", decision="SD-36", contract="E-11"),    # padded status
        protected_user(37, decision="SD-37", contract="N-1", reg_no=ENEFIT),           # list of a non-production trader
    ]
    inbox, traders = box.write(tmp_path)
    (inbox / P / "contracts" / TET).mkdir()                                            # a folder, no list
    assert aldis(tmp_path, inbox, traders) == 0
    assert assert_every_record_passed_or_returned(inbox / P, tmp_path / "outbox" / P) == 25
