"""`eikis corrections` (CONTRACTS §16, issue 25) on the sample month: a confirmed UPHELD decision reaches exactly
the recipients whose rows it changes, as the next numbered set built aside; nothing new publishes nothing; each set
goes over real SFTP with the monthly flow's delivery."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from pipeline.cli import main
from pipeline.config import Settings
from pipeline.csvio import read_rows
from pipeline.flows import corrections as flow
from pipeline.flows.claims import ClaimsConfig, check
from pipeline.flows.monthly import run_month
from pipeline.publish.claims import RESULT_COLUMNS
from pipeline.store import appeals
from pipeline.store.db import connect
from tests.appeals_month import recorded_sample_month
from tests.conftest import DEFAULT_POLICY, SAMPLE_INBOX, SAMPLE_PERIOD
from tests.sftp_server import PASSWORD, USER, LoopbackSFTPServer


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample month run and recorded once; each test gets its own copy (sets are added to the outbox)."""
    return recorded_sample_month(tmp_path_factory.mktemp("month"))


@pytest.fixture
def root(month: Path, tmp_path: Path) -> Path:
    shutil.copytree(month, tmp_path / "m", symlinks=True)
    return tmp_path / "m"


def url(root: Path) -> str:
    return f"sqlite:///{root / 'work' / 'eikis.sqlite'}"


def decided(root: Path, name: str) -> pd.DataFrame:
    return pd.read_parquet(root / "work" / SAMPLE_PERIOD / "decisions" / f"{name}.parquet")


def uphold(root: Path, aris_code: str, case_ref: str, *, confirm: bool = True) -> str:
    engine = connect(url(root))
    decision = appeals.register(engine, "sandra", period=SAMPLE_PERIOD, aris_code=aris_code, household_id="h",
                                case_ref=case_ref, outcome="UPHELD", months=[], reason_code="INCOME_EVIDENCE")
    if confirm:
        appeals.confirm(engine, decision, "dace")
    return decision


def corrections(root: Path, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["corrections", "--period", SAMPLE_PERIOD, "--db", url(root), "--published", str(root / "outbox"),
                 "--outbox", str(root / "outbox"), "--workdir", str(root / "work")]) == 0
    out = capsys.readouterr().out.strip()
    assert out.count("\n") == 0
    return out


def expected_supplier_rows(root: Path, household: pd.Series) -> dict[tuple[str, str], tuple[str, int]]:
    """(recipient folder, object id) -> (change, eligible_dwellings), derived from the decision records alone: the
    household's own INDIVIDUAL connections that were not eligible, and its building's COMMON ones (one more)."""
    building = household["building_code"] if pd.notna(household["building_code"]) else household["aris_code"]
    expected = {}
    for commodity in ("electricity", "gas", "heat"):
        rows = decided(root, commodity)
        rows = rows.loc[rows["address_error"].isna() & (rows["status"] == "ACTIVE")]
        own = rows.loc[(rows["connection_kind"] == "INDIVIDUAL") & (rows["aris_code"] == household["aris_code"])
                       & (rows["eligible"] == 0)]
        common = rows.loc[(rows["connection_kind"] == "COMMON") & (rows["aris_code"] == building)]
        for frame, added in ((own, True), (common, False)):
            for row in frame.itertuples():
                change = ("ADDED" if added or row.eligible == 0 else "CHANGED", int(row.eligible_dwellings) + 1)
                folders = ([f"heat/{row.company_reg_no}"] if commodity == "heat"
                           else [f"dso_{commodity}", f"traders_{commodity}/{row.company_reg_no}"])
                expected.update({(folder, row.object_id): (change[0], change[1] if not added else 1)
                                 for folder in folders})
    return expected


def published_set(root: Path, name: str) -> tuple[dict, dict[tuple[str, str], dict[str, str]]]:
    folder = root / "outbox" / SAMPLE_PERIOD / "corrections" / name
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    rows = {}
    for entry in manifest["files"]:
        path = folder / entry["path"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"]
        header = path.read_text(encoding="utf-8").splitlines()[0].split(";")
        for _, row in read_rows(path, header):
            rows[(entry["path"].rsplit("/", 1)[0], row.get("object_id") or row["aris_code"])] = row
    return manifest, rows


def a_household(root: Path, *, in_common_building: bool) -> pd.Series:
    households = decided(root, "households")
    common = set()
    for commodity in ("electricity", "heat"):
        rows = decided(root, commodity)
        common |= set(rows.loc[(rows["connection_kind"] == "COMMON") & (rows["eligible"] == 1), "aris_code"])
    candidates = households.loc[(households["status"] == "NOT_ELIGIBLE")
                                & (households["building_code"].isin(common) == in_common_building)
                                & (households["aris_code"] != households["building_code"]).eq(in_common_building)]
    electricity = set(decided(root, "electricity")["aris_code"])
    return candidates.loc[candidates["aris_code"].isin(electricity) | in_common_building].iloc[0]


def test_set_01_holds_exactly_the_affected_rows_and_a_rerun_publishes_nothing(root, capsys):
    alone = a_household(root, in_common_building=False)
    flat = a_household(root, in_common_building=True)
    uphold(root, alone["aris_code"], "BVKB/2026-17")
    uphold(root, flat["aris_code"], "BVKB/2026-18")
    assert corrections(root, capsys).startswith("corrections 2026-11: published set 01 (")
    manifest, rows = published_set(root, "01")
    assert (manifest["period"], manifest["set"]) == (SAMPLE_PERIOD, "01") and manifest["run_id"]
    expected = {**expected_supplier_rows(root, alone), **expected_supplier_rows(root, flat)}
    assert expected and any(change == "CHANGED" for change, _ in expected.values())
    suppliers = {key: row for key, row in rows.items() if not key[0].startswith("municipalities/")}
    assert {key: (row["change"], int(row["eligible_dwellings"])) for key, row in suppliers.items()} == expected
    assert {row["case_ref"] for row in suppliers.values()} <= {"BVKB/2026-17", "BVKB/2026-18"}
    municipal = {key: row for key, row in rows.items() if key[0].startswith("municipalities/")}
    got = {key: (row["eligible"], row["status"], row["change"], row["case_ref"]) for key, row in municipal.items()}
    assert got == {
        (f"municipalities/{h['municipality_code']}", h["aris_code"]): ("1", "ELIGIBLE", "ADDED", ref)
        for h, ref in ((alone, "BVKB/2026-17"), (flat, "BVKB/2026-18"))}
    written = {path.relative_to(root / "outbox" / SAMPLE_PERIOD / "corrections" / "01").as_posix()
               for path in (root / "outbox" / SAMPLE_PERIOD / "corrections" / "01").rglob("*.csv")}
    assert written == {f"{folder}/changes.csv" for folder, _ in rows}   # only recipients with a change
    before = {p: p.read_bytes() for p in (root / "outbox" / SAMPLE_PERIOD).rglob("*") if p.is_file()}
    assert corrections(root, capsys) == "corrections 2026-11: nothing new to publish"
    after = {p: p.read_bytes() for p in (root / "outbox" / SAMPLE_PERIOD).rglob("*") if p.is_file()}
    assert after == before
    assert not list((root / "outbox" / SAMPLE_PERIOD / "corrections").glob(".build-*"))


def test_an_unconfirmed_decision_publishes_nothing_and_a_later_one_is_set_02(root, capsys):
    alone = a_household(root, in_common_building=False)
    waiting = uphold(root, alone["aris_code"], "BVKB/2026-17", confirm=False)
    assert corrections(root, capsys) == "corrections 2026-11: nothing new to publish"
    assert not (root / "outbox" / SAMPLE_PERIOD / "corrections").exists() or not list(
        (root / "outbox" / SAMPLE_PERIOD / "corrections").iterdir())
    appeals.confirm(connect(url(root)), waiting, "dace")
    assert "published set 01" in corrections(root, capsys)
    appeals.withdraw(connect(url(root)), waiting, "dace")
    assert "published set 02" in corrections(root, capsys)
    _, rows = published_set(root, "02")
    municipal = [row for key, row in rows.items() if key[0].startswith("municipalities/")]
    assert [(row["eligible"], row["status"], row["change"]) for row in municipal] == [("0", "NOT_ELIGIBLE",
                                                                                        "CHANGED")]
    assert {row["eligible"] for row in rows.values()} == {"0"}
    original = (root / "outbox" / SAMPLE_PERIOD / "manifest.json").read_bytes()
    assert json.loads(original)["period"] == SAMPLE_PERIOD   # the month's own files are not rewritten


def test_each_set_is_delivered_over_sftp_with_the_monthly_delivery(root, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("EIKIS_SFTP_PASSWORD_LOOPBACK", PASSWORD)
    uphold(root, a_household(root, in_common_building=False)["aris_code"], "BVKB/2026-17")
    corrections(root, capsys)
    server = LoopbackSFTPServer(tmp_path / "sftp").start()
    try:
        recipients = tmp_path / "recipients.yaml"
        recipients.write_text(yaml.safe_dump({
            "endpoints": {"loopback": {"host": "127.0.0.1", "port": server.port, "username": USER,
                                       "password_env": "EIKIS_SFTP_PASSWORD_LOOPBACK",
                                       "host_key": server.host_key_line, "timeout": 10}},
            "recipients": [{"match": "*", "endpoint": "loopback", "remote_dir": "/out/{recipient}/{period}"}]}))
        config = flow.CorrectionsConfig(period=SAMPLE_PERIOD, db_url=url(root), published=str(root / "outbox"),
                                        outbox=str(root / "outbox"), workdir=str(root / "work"),
                                        recipients=str(recipients))
        plans = flow.plan_delivery(config)
        _, rows = published_set(root, "01")
        assert sorted(plan["recipient"] for plan in plans) == sorted({folder for folder, _ in rows})
        for plan in plans:
            assert {row["status"] for row in flow.deliver_one(config, plan)} == {"DELIVERED"}
        municipality = next(plan["recipient"] for plan in plans if plan["recipient"].startswith("municipalities/"))
        remote = server.root / "out" / municipality / SAMPLE_PERIOD / "corrections" / "01"
        assert sorted(p.name for p in remote.iterdir()) == ["changes.csv", "manifest.json"]
        assert json.loads((remote / "manifest.json").read_text())["set"] == "01"
    finally:
        server.stop()


def claim_check(root: Path, lines: list[str]) -> dict[str, dict[str, str]]:
    """Run the claims check of P (§13) on the given trader claim lines; claim_result rows by claim id."""
    reg_no, rows = lines[0], lines[1:]
    folder = root / "claims" / SAMPLE_PERIOD / "traders_electricity" / reg_no
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "claims.csv").write_text("claim_id;submitted_at;object_id;support_type;dwellings;quantity_kwh;"
                                       "amount_eur\n" + "\n".join(rows) + "\n", encoding="utf-8")
    summary = check(ClaimsConfig(period=SAMPLE_PERIOD, claims=str(root / "claims"), published=str(root / "outbox"),
                                 outbox=str(root / "claims_outbox"), policy=str(DEFAULT_POLICY), db_url=url(root),
                                 workdir=str(root / "work"), as_of=SAMPLE_PERIOD))
    path = Path(summary["outbox"]) / "traders_electricity" / reg_no / "claim_result.csv"
    return {row["claim_id"]: row for _, row in read_rows(path, RESULT_COLUMNS)}


def test_a_claim_for_a_corrected_object_is_accepted_against_the_set_that_made_it_claimable(root, capsys):
    household = a_household(root, in_common_building=False)
    electricity = decided(root, "electricity")
    own = electricity.loc[(electricity["aris_code"] == household["aris_code"]) & (electricity["status"] == "ACTIVE")
                          & electricity["address_error"].isna()].iloc[0]
    line = [own["company_reg_no"], f"C-1;2026-12-01T10:00:00;{own['object_id']};ELECTRICITY_BASE;1;10.000;1.00"]
    before = claim_check(root, line)["C-1"]
    assert (before["status"], before["reason"], before["correction_set"]) == ("REJECTED", "UNKNOWN_OBJECT", "")
    uphold(root, household["aris_code"], "BVKB/2026-17")
    assert (claim_check(root, line)["C-1"]["status"]) == "REJECTED"   # confirmed, but no set published yet
    corrections(root, capsys)
    after = claim_check(root, line)["C-1"]
    assert (after["status"], after["reason"], after["accepted_eur"], after["correction_set"]) == (
        "ACCEPTED", "", "1.00", "01")


def test_sample_appeals_reach_set_01_once_and_only_the_confirmed_upheld_ones(root, capsys):
    args = ["generate-appeals", "--period", SAMPLE_PERIOD, "--db", url(root)]
    assert main(args) == 0 and main(args) == 0            # a second run adds nothing
    lines = capsys.readouterr().out.splitlines()
    assert lines[:4] == lines[4:] == [f"SAMPLE/{SAMPLE_PERIOD}-1\tUPHELD\tCONFIRMED",
                                      f"SAMPLE/{SAMPLE_PERIOD}-2\tUPHELD\tCONFIRMED",
                                      f"SAMPLE/{SAMPLE_PERIOD}-3\tREJECTED\tCONFIRMED",
                                      f"SAMPLE/{SAMPLE_PERIOD}-4\tUPHELD\tREGISTERED"]
    assert "published set 01" in corrections(root, capsys)
    _, rows = published_set(root, "01")
    assert {row["case_ref"] for row in rows.values()} == {f"SAMPLE/{SAMPLE_PERIOD}-1", f"SAMPLE/{SAMPLE_PERIOD}-2"}
    assert corrections(root, capsys) == "corrections 2026-11: nothing new to publish"


def test_a_month_published_again_keeps_its_correction_sets(root, capsys):
    uphold(root, a_household(root, in_common_building=False)["aris_code"], "BVKB/2026-17")
    corrections(root, capsys)
    sets = root / "outbox" / SAMPLE_PERIOD / "corrections"
    before = {p.relative_to(sets): p.read_bytes() for p in sets.rglob("*") if p.is_file()}
    settings = Settings(pseudonym_secret=b"test-secret", workers=1, data_docs=False)
    run_month(SAMPLE_PERIOD, SAMPLE_INBOX, root / "outbox", DEFAULT_POLICY, root / "work", settings, url(root))
    assert {p.relative_to(sets): p.read_bytes() for p in sets.rglob("*") if p.is_file()} == before
    assert corrections(root, capsys) == "corrections 2026-11: nothing new to publish"


def test_a_set_that_fails_while_being_built_publishes_nothing(root, capsys, monkeypatch):
    """The disk fills after the first files were written: no set, no build folder, the next run is set 01."""
    uphold(root, a_household(root, in_common_building=False)["aris_code"], "BVKB/2026-17")
    real_write = flow.write_set

    def write_then_fail(build, *args):
        real_write(build, *args)
        raise OSError(28, "No space left on device", str(build / "manifest.json"))

    monkeypatch.setattr(flow, "write_set", write_then_fail)
    assert main(["corrections", "--period", SAMPLE_PERIOD, "--db", url(root), "--published", str(root / "outbox"),
                 "--outbox", str(root / "outbox"), "--workdir", str(root / "work")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "No space left on device" in err
    assert [p.name for p in (root / "outbox" / SAMPLE_PERIOD / "corrections").iterdir()] == []
    monkeypatch.setattr(flow, "write_set", real_write)
    assert "published set 01" in corrections(root, capsys)
