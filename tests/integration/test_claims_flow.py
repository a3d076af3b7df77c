"""The claims month end to end on a small hand-made month (tests/claims_month.py): the CLI, the files, the ledger on
SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from pipeline.cli import main
from pipeline.errors import EikisError
from pipeline.flows.claims import (
    ClaimsConfig,
    approve,
    approve_reviewed,
    assigned_users,
    check,
    response_timeout,
)
from pipeline.policy import load_policy
from pipeline.runlock import PeriodBusy, period_lock
from pipeline.store.db import connect
from pipeline.store.migrate import head, upgrade
from tests.claims_month import (
    CLAIM_HEADER,
    EXPECTED_HEAT_RESULT,
    EXPECTED_PAYOUT,
    EXPECTED_TRADER_RESULT,
    HEAT,
    SUPPLIER_HEADER,
    TRADER,
    P,
    add_published_row,
    build_month,
)
from tests.conftest import DEFAULT_POLICY
from tests.pg import fresh_postgres_database


@pytest.fixture
def month(tmp_path: Path) -> dict[str, Path]:
    return build_month(tmp_path)


def _config(month: dict[str, Path], db_url: str, as_of: str = "2026-03") -> ClaimsConfig:
    return ClaimsConfig(period=P, claims=str(month["claims"]), published=str(month["published"]),
                        aldis=str(month["aldis"]), outbox=str(month["outbox"]), policy=str(DEFAULT_POLICY),
                        db_url=db_url, workdir=str(month["root"] / "work"), as_of=as_of)


def _cli(month: dict[str, Path], db_url: str, *extra: str) -> int:
    return main(["claims", "--period", P, "--claims", str(month["claims"]), "--published", str(month["published"]),
                 "--aldis", str(month["aldis"]), "--outbox", str(month["outbox"]), "--policy", str(DEFAULT_POLICY),
                 "--db", db_url, "--workdir", str(month["root"] / "work"), *extra])


def _approval(capsys) -> list[str]:
    """The `--approve RUN_ID --digest SHA256` words the preview printed for the person who approves."""
    out = capsys.readouterr().out
    found = re.search(r"--approve (\S+) --digest ([0-9a-f]{64})", out)
    assert found, out
    return ["--approve", found.group(1), "--digest", found.group(2)]


def _cli_approve(month: dict[str, Path], db_url: str, capsys, *extra: str) -> int:
    """Preview, then approve exactly what the preview printed (the person's two commands)."""
    assert _cli(month, db_url, *extra) == 0
    return _cli(month, db_url, *extra, *_approval(capsys))


def _approve(config: ClaimsConfig, summary: dict, approved_by: str = "approver-1") -> dict:
    return approve(config, summary["run_id"], summary["payout_digest"], approved_by=approved_by)


def _approvals_audited(db_url: str) -> int:
    with create_engine(db_url).connect() as conn:
        return conn.execute(text("SELECT count(*) FROM audit_events WHERE event = 'PAYOUT_APPROVED'")).scalar()


def _run_folder(month: dict[str, Path]) -> Path:
    """The outbox of the latest check (`<outbox>/runs/<P>/<run_id>`, issue 22.4)."""
    return max((month["outbox"] / "runs" / P).iterdir(),
               key=lambda folder: (folder / "manifest.json").stat().st_mtime_ns)


def _read(month: dict[str, Path], relative: str) -> str:
    """A file of the latest check's outbox."""
    return (_run_folder(month) / relative).read_text(encoding="utf-8")


def _ledger(db_url: str) -> list[tuple[str, int, int, int]]:
    with create_engine(db_url).connect() as conn:
        return [tuple(r) for r in conn.execute(text(
            "SELECT supplier, seq, previously_paid_cents, payout_cents FROM payout_ledger ORDER BY supplier, seq"))]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite'}"
    return fresh_postgres_database("eikis_test_claims")


def test_a_claims_month_gives_the_hand_computed_files_and_a_byte_identical_preview(month, db_url, capsys):
    assert _cli(month, db_url, "--as-of", "2026-03") == 0
    assert _read(month, f"{TRADER}/claim_result.csv") == EXPECTED_TRADER_RESULT
    assert _read(month, f"{HEAT}/claim_result.csv") == EXPECTED_HEAT_RESULT
    assert _read(month, "payout.csv") == EXPECTED_PAYOUT
    # every paid line: 3 largest of the trader (A3 30.00, A8 10.00, A1 8.00) + ceil(1 % of 1) = 1 drawn (A2)
    assert _read(month, "audit_sample.csv") == (
        "supplier;claim_id;object_id;support_type;accepted_eur\n"
        "heat/40000000003;H-1;H1;DISTRICT_HEAT;10.01\n"
        f"{TRADER};A1;E1;ELECTRICITY_BASE;8.00\n{TRADER};A2;E1;ELECTRICITY_HEATING;0.02\n"
        f"{TRADER};A3;E2;ELECTRICITY_BASE;30.00\n{TRADER};A8;K-1;PROTECTED_USER;10.00\n")
    manifest = json.loads(_read(month, "manifest.json"))
    assert sorted(manifest) == ["files", "period", "policy_digest", "run_id"]
    for entry in manifest["files"]:
        assert hashlib.sha256((_run_folder(month) / entry["path"]).read_bytes()).hexdigest() == entry["sha256"]
    companions = {entry["path"]: entry["rows"] for entry in manifest["files"] if entry["path"].endswith(".xlsx")}
    assert companions == {f"{TRADER}/claim_result.xlsx": 10, f"{HEAT}/claim_result.xlsx": 6, "payout.xlsx": 2,
                          "audit_sample.xlsx": 5}   # v1.2: each file people open has its spreadsheet companion
    quarantine = (month["root"] / "work" / P / "claims_quarantine.csv").read_text(encoding="utf-8")
    assert f"{TRADER};claims.csv;12;A11;CONFLICTING_CORRECTION" in quarantine  # the first of the two versions
    assert f"{HEAT};claims.csv;7;H-6;BAD_SUPPORT_TYPE" in quarantine
    assert "preview only" in capsys.readouterr().out

    before = {p.relative_to(month["outbox"]): p.read_bytes() for p in month["outbox"].rglob("*") if p.is_file()}
    assert _cli(month, db_url, "--as-of", "2026-03") == 0
    after = {p.relative_to(month["outbox"]): p.read_bytes() for p in month["outbox"].rglob("*") if p.is_file()}
    assert after == before
    assert _ledger(db_url) == []  # a preview never touches the ledger


def test_approval_then_a_correction_pays_only_the_difference(month, db_url, capsys):
    assert _cli_approve(month, db_url, capsys, "--as-of", "2026-03") == 0
    assert _ledger(db_url) == [(HEAT, 1, 0, 1001), (TRADER, 1, 0, 4802)]

    # the trader corrects A3 down to 20.00 (ACCEPTED): accepted 48.02 -> 38.02, so BVKB recovers 10.00
    (month["claims"] / P / TRADER / "correction.csv").write_text(
        CLAIM_HEADER + "\nA3;2026-03-01T09:00:00;E2;ELECTRICITY_BASE;3;450.000;20.00\n", encoding="utf-8")
    assert _cli(month, db_url, "--as-of", "2026-03") == 0
    assert _read(month, "payout.csv") == (
        "supplier;claimed_eur;accepted_eur;previously_paid_eur;payout_eur\n"
        "heat/40000000003;12.82;10.01;10.01;0.00\n"
        "traders_electricity/40000000001;43.35;38.02;48.02;-10.00\n")
    assert _ledger(db_url) == [(HEAT, 1, 0, 1001), (TRADER, 1, 0, 4802)]  # the preview recorded nothing
    assert _cli(month, db_url, "--as-of", "2026-03", *_approval(capsys)) == 0
    assert _ledger(db_url) == [(HEAT, 1, 0, 1001), (HEAT, 2, 1001, 0), (TRADER, 1, 0, 4802),
                               (TRADER, 2, 4802, -1000)]
    with create_engine(db_url).connect() as conn:
        paid = {row[0]: row[1] for row in conn.execute(text(
            "SELECT supplier, SUM(payout_cents) FROM payout_ledger GROUP BY supplier"))}
    assert {k: int(v) for k, v in paid.items()} == {HEAT: 1001, TRADER: 3802}


def test_approving_the_same_run_twice_pays_once(month, db_url):
    """What guarantees it: `approve` re-reads the ledger inside its transaction and refuses a payout.csv whose
    previously_paid no longer matches (the first approval moved it); and if two approvals race past that check,
    the primary key (period, supplier, seq) and UNIQUE (period, supplier, run_id) let only one commit."""
    config = _config(month, db_url)
    summary = check(config)
    assert _approve(config, summary)["entries"] == 2
    with pytest.raises(EikisError, match="changed since"):
        _approve(config, summary)
    assert _ledger(db_url) == [(HEAT, 1, 0, 1001), (TRADER, 1, 0, 4802)]
    # the database's own guarantee, bypassing the code's check: the same run or the same seq again is refused
    run_id = summary["run_id"]
    engine = connect(db_url)
    for seq, run in ((2, run_id), (1, "another-run")):
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(text("INSERT INTO payout_ledger (period, supplier, seq, run_id, approved_at, claimed_cents, "
                              "accepted_cents, previously_paid_cents, payout_cents, payout_sha256) VALUES (:p, :s, "
                              ":seq, :r, '2026-03-01 00:00:00', 0, 4802, 0, 4802, 'x')"),
                         {"p": P, "s": TRADER, "seq": seq, "r": run})
    assert _ledger(db_url) == [(HEAT, 1, 0, 1001), (TRADER, 1, 0, 4802)]


def test_each_check_keeps_its_own_outbox_and_p_shows_only_the_approved_run(month, tmp_path):
    """Issue 22.4: every check publishes `<outbox>/runs/<P>/<run_id>`; `<outbox>/<P>` points at the approved run,
    and a later preview (superseded, rejected or never approved) never replaces what was paid."""
    db = f"sqlite:///{tmp_path / 's.sqlite'}"
    config = _config(month, db)
    first = check(config)
    assert Path(first["outbox"]) == month["outbox"] / "runs" / P / first["run_id"]
    assert not (month["outbox"] / P).exists()  # nothing approved yet
    (month["claims"] / P / HEAT / "late.csv").write_text(  # a later preview, against the same ledger
        CLAIM_HEADER + "\nH-7;2026-02-04T10:00:00;H1;DISTRICT_HEAT;1;1.000;0.04\n", encoding="utf-8")
    second = check(config)
    assert second["run_id"] != first["run_id"] and Path(first["outbox"]).is_dir()
    _approve(config, first)  # the run the approver saw, unchanged by the later preview
    assert (month["outbox"] / P).resolve() == Path(first["outbox"]).resolve()
    assert (month["outbox"] / P / "payout.csv").read_text(encoding="utf-8") == EXPECTED_PAYOUT
    with pytest.raises(EikisError, match="changed since"):
        _approve(config, second)  # checked against the ledger before the first approval
    third = check(config)  # a new preview after the approval (H-7 repeats H-1: DUPLICATE_CLAIM, nothing more due)
    assert [p["payout_eur"] for p in third["payouts"]] == ["0.00", "0.00"]
    assert (month["outbox"] / P).resolve() == Path(first["outbox"]).resolve()
    assert _ledger(db) == [(HEAT, 1, 0, 1001), (TRADER, 1, 0, 4802)]


def test_two_checks_against_the_same_ledger_cannot_both_be_approved(month, db_url):
    config = _config(month, db_url)
    first = check(config)
    other = _config(month, db_url)
    other_outbox = month["root"] / "outbox2"
    other = ClaimsConfig(**{**other.to_params(), "outbox": str(other_outbox)})
    (month["claims"] / P / HEAT / "late.csv").write_text(
        CLAIM_HEADER + "\nH-7;2026-02-04T10:00:00;H1;ELECTRICITY_BASE;1;1.000;0.01\n", encoding="utf-8")
    _approve(other, check(other))
    with pytest.raises(EikisError, match="changed since"):
        _approve(config, first)


def test_the_ledger_refuses_update_and_delete_in_the_database(month, db_url):
    config = _config(month, db_url)
    _approve(config, check(config))
    engine = connect(db_url)
    connect(db_url)  # the DDL (function, triggers) applies again without error: idempotent
    statements = ["UPDATE payout_ledger SET payout_cents = 0", "DELETE FROM payout_ledger",
                  "UPDATE claims_checks SET payout_digest = 'x'", "DELETE FROM claims_checks"]
    if engine.dialect.name == "postgresql":
        statements.append("TRUNCATE payout_ledger")
    for statement in statements:
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.exec_driver_sql(statement)
    assert _ledger(db_url) == [(HEAT, 1, 0, 1001), (TRADER, 1, 0, 4802)]


def test_a_run_after_the_window_is_refused_in_one_line(month, tmp_path, capsys):
    db = f"sqlite:///{tmp_path / 's.sqlite'}"
    assert _cli(month, db, "--as-of", "2026-07") == 0  # P + 6 months: still open
    capsys.readouterr()
    assert _cli(month, db, "--as-of", "2026-08") == 2
    err = capsys.readouterr().err.strip()
    assert err == ("eikis: error: claims for 2026-01 can no longer be recalculated: the window of 6 months closed "
                   "after 2026-07 (as of 2026-08)")


@pytest.mark.parametrize(("damage", "message"), [
    (lambda m: (m["claims"] / P / TRADER / "x.csv").write_bytes(b"\x00\x01binary"), "binary content"),
    (lambda m: (m["claims"] / P / TRADER / "x.csv").write_text("<!DOCTYPE html><html>", encoding="utf-8"),
     "looks like markup"),
    (lambda m: (m["claims"] / P / TRADER / "x.csv").write_text("a;b\n1;2\n", encoding="utf-8"), "unexpected header"),
    (lambda m: (m["published"] / P / TRADER / "eligibility.csv").write_text(SUPPLIER_HEADER + "\nE9;1;x;INDIVIDUAL;"
                                                                            "1;9;ELECTRICITY_BASE\n", encoding="utf-8"),
     "sha256 does not match"),
    (lambda m: (m["published"] / P / "manifest.json").unlink(), "no published manifest"),
])
def test_bad_input_stops_the_run_in_one_line_and_leaves_the_published_month_alone(month, tmp_path, capsys, damage,
                                                                                  message):
    db = f"sqlite:///{tmp_path / 's.sqlite'}"
    assert _cli(month, db, "--as-of", "2026-03") == 0
    before = _read(month, "payout.csv")
    damage(month)
    capsys.readouterr()
    assert _cli(month, db, "--as-of", "2026-03") == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert _read(month, "payout.csv") == before  # no partial outbox: the earlier publication stands
    assert not [p for p in month["outbox"].rglob(".build*")]


def test_protected_user_claims_need_the_aldis_outbox(month, tmp_path, capsys):
    db = f"sqlite:///{tmp_path / 's.sqlite'}"
    code = main(["claims", "--period", P, "--claims", str(month["claims"]), "--published", str(month["published"]),
                 "--outbox", str(month["outbox"]), "--policy", str(DEFAULT_POLICY), "--db", db,
                 "--workdir", str(tmp_path / "w"), "--as-of", "2026-03"])
    assert code == 2 and "--aldis" in capsys.readouterr().err


def test_the_generator_makes_a_claims_month_with_every_reason(month, tmp_path):
    from pipeline.generate.claims import generate_claims

    def generated(out: Path) -> dict[str, bytes]:
        generate_claims(P, month["published"], month["aldis"], out, DEFAULT_POLICY, seed=3)
        return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*.csv"))}

    files = generated(tmp_path / "gen")
    assert files == generated(tmp_path / "gen2")  # deterministic for a seed
    config = ClaimsConfig(**{**_config(month, f"sqlite:///{tmp_path / 's.sqlite'}").to_params(),
                             "claims": str(tmp_path / "gen")})
    summary = check(config)
    assert set(summary["reasons"]) == {"MALFORMED", "NOT_CLAIMABLE", "UNKNOWN_OBJECT", "NOT_ELIGIBLE",
                                       "SUPPORT_NOT_ON", "DWELLINGS_EXCEEDED", "DUPLICATE_CLAIM", "OVER_CAP"}
    # every claimable (object, type) of the small month is paid: E1 x2 types, E2, K-1 and H1; two of them are the
    # generator's over-cap corrections (REDUCED)
    assert summary["statuses"]["ACCEPTED"] + summary["statuses"]["REDUCED"] == 5
    results = _read(month, f"{TRADER}/claim_result.csv")
    assert ";K-1;PROTECTED_USER;" in results


def test_the_claims_manifest_names_the_policy_by_the_same_digest_as_the_monthly_manifest(month, tmp_path):
    """§10 and §13 both write `policy_digest`: the digest of the policy version in force for P, so a recipient can
    match a payout to the rules that decided the eligibility files it was checked against."""
    assert _cli(month, f"sqlite:///{tmp_path / 'store.sqlite'}", "--as-of", "2026-03") == 0
    manifest = json.loads(_read(month, "manifest.json"))
    assert manifest["policy_digest"] == load_policy(DEFAULT_POLICY, P).digest


def test_a_check_and_an_approval_are_refused_while_another_run_of_the_period_holds_its_lock(month, tmp_path, capsys):
    """A check replacing the claims outbox while another is publishing (or being approved) would mix runs."""
    db_url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    with period_lock(P, month["outbox"]):
        assert _cli(month, db_url, "--as-of", "2026-03") == 2
        assert "is already being run by another process" in capsys.readouterr().err
        assert not (month["outbox"] / "runs").exists()
    summary = check(_config(month, db_url))
    with period_lock(P, month["outbox"]), pytest.raises(PeriodBusy):
        _approve(_config(month, db_url), summary)
    assert _ledger(db_url) == []
    assert _approve(_config(month, db_url), summary)["entries"] >= 1


def test_an_object_id_with_a_space_or_a_latvian_letter_is_paid_when_it_was_published(month, tmp_path):
    """Issue 20.3: §6 lets a sender name its objects with any text; the claim matches it exactly as published."""
    add_published_row(month["published"], f"{TRADER}/eligibility.csv",
                      "LV 0012 Ā;103;Skolas iela 4;INDIVIDUAL;1;1;ELECTRICITY_BASE")
    (month["claims"] / P / TRADER / "more.csv").write_text(
        CLAIM_HEADER + "\nB1;2026-02-03T10:00:00;LV 0012 Ā;ELECTRICITY_BASE;1;10.000;1.00\n"
        "B2;2026-02-03T10:00:00;LV 0012 A;ELECTRICITY_BASE;1;10.000;1.00\n", encoding="utf-8")
    summary = check(_config(month, f"sqlite:///{tmp_path / 's.sqlite'}"))
    result = _read(month, f"{TRADER}/claim_result.csv")
    assert "B1;LV 0012 Ā;ELECTRICITY_BASE;ACCEPTED;;1.00;1.00;\n" in result
    assert "B2;LV 0012 A;ELECTRICITY_BASE;REJECTED;UNKNOWN_OBJECT;1.00;0.00;\n" in result  # no folding: A is not Ā
    assert summary["payouts"][1]["accepted_eur"] == "49.02"


@pytest.mark.parametrize("withdraw", [
    lambda folder: (folder / "claims.csv").write_text(CLAIM_HEADER + "\n", encoding="utf-8"),  # every line withdrawn
    lambda folder: [p.unlink() for p in folder.iterdir()] and folder.rmdir(),                   # the folder is gone
], ids=["every-line-withdrawn", "folder-gone"])
def test_a_supplier_paid_before_that_withdraws_everything_gets_a_recovery_row(month, tmp_path, withdraw):
    """Issue 20.3: every supplier with a ledger entry for P gets a payout row, so what was paid is recovered."""
    db = f"sqlite:///{tmp_path / 's.sqlite'}"
    config = _config(month, db)
    _approve(config, check(config))
    withdraw(month["claims"] / P / HEAT)
    summary = check(config)
    assert _read(month, "payout.csv") == (
        "supplier;claimed_eur;accepted_eur;previously_paid_eur;payout_eur\n"
        "heat/40000000003;0.00;0.00;10.01;-10.01\n"
        "traders_electricity/40000000001;63.35;48.02;48.02;0.00\n")
    _approve(config, summary)
    assert _ledger(db) == [(HEAT, 1, 0, 1001), (HEAT, 2, 1001, -1001), (TRADER, 1, 0, 4802), (TRADER, 2, 4802, 0)]


# Issue 20.2: approval pays exactly what the person approved (the check's run id and the digest it printed).

def test_the_cli_approves_only_with_the_run_id_and_the_digest_the_preview_printed(month, tmp_path, capsys):
    db = f"sqlite:///{tmp_path / 's.sqlite'}"
    assert _cli(month, db, "--as-of", "2026-03") == 0
    words = _approval(capsys)
    for partial in (words[:2], ["--digest", words[3]]):
        assert _cli(month, db, "--as-of", "2026-03", *partial) == 2
        err = capsys.readouterr().err
        assert "--approve RUN_ID --digest SHA256" in err and err.count("\n") == 1
    bad_digest = [*words[:3], "0" * 64]
    assert _cli(month, db, "--as-of", "2026-03", *bad_digest) == 2
    err = capsys.readouterr().err
    assert "not the digest the check of run" in err and err.count("\n") == 1
    assert _ledger(db) == [] and _approvals_audited(db) == 0
    assert _cli(month, db, "--as-of", "2026-03", *words) == 0
    assert _ledger(db) == [(HEAT, 1, 0, 1001), (TRADER, 1, 0, 4802)]


def test_an_approval_after_another_preview_changed_the_inputs_is_refused_and_records_nothing(month, tmp_path,
                                                                                            capsys):
    """The issue's race: a preview printed one payout, another preview with other claim files replaced the outbox,
    then `--approve` ran. The approval re-checks under the period lock and refuses: the run is no longer the one
    the person saw."""
    db = f"sqlite:///{tmp_path / 's.sqlite'}"
    assert _cli(month, db, "--as-of", "2026-03") == 0
    words = _approval(capsys)
    (month["claims"] / P / TRADER / "late.csv").write_text(
        CLAIM_HEADER + "\nB1;2026-02-04T10:00:00;E2;ELECTRICITY_HEATING;3;90000.000;9000.00\n", encoding="utf-8")
    assert _cli(month, db, "--as-of", "2026-03") == 0  # the concurrent preview
    capsys.readouterr()
    assert _cli(month, db, "--as-of", "2026-03", *words) == 2
    err = capsys.readouterr().err
    assert f"not the previewed run {words[1]}" in err and err.count("\n") == 1
    assert _ledger(db) == [] and _approvals_audited(db) == 0


def test_a_concurrent_preview_of_other_files_into_the_same_outbox_does_not_change_what_is_paid(month, tmp_path,
                                                                                              capsys):
    """A preview of another claims folder replaced the outbox between the printed preview and `--approve`: the
    approval re-checks the approver's own inputs under the lock and records exactly the printed payout."""
    db = f"sqlite:///{tmp_path / 's.sqlite'}"
    assert _cli(month, db, "--as-of", "2026-03") == 0
    words = _approval(capsys)
    other = ClaimsConfig(**{**_config(month, db).to_params(), "claims": str(tmp_path / "other")})
    folder = tmp_path / "other" / P / TRADER
    folder.mkdir(parents=True)
    (folder / "c.csv").write_text(CLAIM_HEADER + "\nZ1;2026-02-04T10:00:00;E2;ELECTRICITY_BASE;3;300.000;30.00\n",
                                  encoding="utf-8")
    check(other)
    assert _cli(month, db, "--as-of", "2026-03", *words) == 0
    assert _ledger(db) == [(HEAT, 1, 0, 1001), (TRADER, 1, 0, 4802)]
    assert _read(month, "payout.csv") == EXPECTED_PAYOUT


def _rewrite(month: dict[str, Path], relative: str, old: str, new: str) -> None:
    """Edit a file of the claims outbox and its sha256 in the manifest beside it (what the issue did)."""
    folder = _run_folder(month)
    path = folder / relative
    path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    for entry in manifest["files"]:
        if entry["path"] == relative:
            entry["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


@pytest.mark.parametrize(("relative", "old", "new", "message"), [
    ("payout.csv", ";48.02;0.00;48.02", ";1048.02;0.00;1048.02", "payout.csv of run"),
    (f"{TRADER}/claim_result.csv", "A1;E1;ELECTRICITY_BASE;ACCEPTED;;8.00;8.00",
     "A1;E1;ELECTRICITY_BASE;ACCEPTED;;8.00;1008.00", "not the digest the check of run"),
], ids=["payout.csv", "claim_result.csv"])
def test_an_outbox_edited_with_its_manifest_after_the_check_is_refused_and_records_nothing(month, db_url, relative,
                                                                                         old, new, message):
    """The issue's DAG case: `payout.csv` and its sha256 in `manifest.json` were edited after the check. The
    approval re-derives the payout rows from `claim_result.csv` and the ledger and compares the digest the check
    returned (kept in the XCom and the store, not in the outbox)."""
    config = _config(month, db_url)
    summary = check(config)
    _rewrite(month, relative, old, new)
    with pytest.raises(EikisError, match=message) as refused:
        _approve(config, summary)
    assert "\n" not in refused.value.one_line() and "nothing was recorded" in str(refused.value)
    assert _ledger(db_url) == [] and _approvals_audited(db_url) == 0


def test_an_approval_needs_a_run_that_was_checked_and_its_digest(month, tmp_path):
    db = f"sqlite:///{tmp_path / 's.sqlite'}"
    config = _config(month, db)
    summary = check(config)
    with pytest.raises(EikisError, match="not the digest the check of run"):
        approve(config, summary["run_id"], "f" * 64, approved_by="approver-1")
    assert _ledger(db) == []


# Issue 22.4: four eyes. The DAG's record step (`approve_reviewed`) refuses the user who triggered the run.

def test_the_user_who_triggered_the_run_cannot_approve_its_payout(month, db_url):
    config = ClaimsConfig(**{**_config(month, db_url).to_params(), "approvers": ("alice", "bob")})
    summary = check(config)
    approved = {"chosen_options": ["Approve"]}
    refusals = [
        ({"id": "alice", "name": "alice"}, "alice", "user alice triggered this run and cannot also approve"),
        ({"id": "7", "name": "alice"}, "alice", "user alice triggered this run"),     # by name (FAB ids are numbers)
        ({"id": "carol", "name": "carol"}, "alice", "not among the payout approvers"),
        ({"id": "bob", "name": "bob"}, None, "no triggering user"),
        (None, "alice", "no approver identity"),
    ]
    for responder, trigger, message in refusals:
        with pytest.raises(EikisError, match=message):
            approve_reviewed(config, summary, {**approved, "responded_by_user": responder}, trigger)
    with pytest.raises(EikisError, match="was not approved"):
        approve_reviewed(config, summary, {"chosen_options": ["Reject"],
                                           "responded_by_user": {"id": "bob", "name": "bob"}}, "alice")
    assert _ledger(db_url) == [] and _approvals_audited(db_url) == 0 and not (month["outbox"] / P).exists()

    approve_reviewed(config, summary, {**approved, "responded_by_user": {"id": "bob", "name": "bob"}}, "alice")
    with create_engine(db_url).connect() as conn:
        assert {row[0] for row in conn.execute(text("SELECT approved_by FROM payout_ledger"))} == {"bob"}
        detail = json.loads(conn.execute(text("SELECT detail FROM audit_events WHERE event = 'PAYOUT_APPROVED'"))
                            .scalar_one())
    assert detail == {"approved_by": "bob", "triggered_by": "alice", "payout_cents": 5803, "suppliers": 2}


def test_the_approvers_and_the_approval_timeout_come_from_the_deployment(tmp_path):
    env = {"EIKIS_CLAIMS_APPROVERS": " bob, alice ,,bob", "EIKIS_CLAIMS_APPROVAL_HOURS": "48"}
    config = ClaimsConfig.resolve({"period": P}, None, env)
    assert assigned_users(config) == [{"id": "alice", "name": "alice"}, {"id": "bob", "name": "bob"}]
    assert response_timeout(config) == dt.timedelta(hours=48)
    defaults = ClaimsConfig.resolve({"period": P}, None, {})
    assert assigned_users(defaults) is None and response_timeout(defaults) == dt.timedelta(hours=72)
    with pytest.raises(EikisError, match="EIKIS_CLAIMS_APPROVAL_HOURS"):
        ClaimsConfig.resolve({"period": P}, None, {"EIKIS_CLAIMS_APPROVAL_HOURS": "0"})


def test_a_cli_approval_records_who_ran_it(month, tmp_path, capsys):
    db = f"sqlite:///{tmp_path / 's.sqlite'}"
    assert _cli_approve(month, db, capsys, "--as-of", "2026-03") == 0
    with create_engine(db).connect() as conn:
        (by,) = {row[0] for row in conn.execute(text("SELECT approved_by FROM payout_ledger"))}
    assert by.startswith("cli:") and len(by) > 4


@pytest.mark.postgres
@pytest.mark.parametrize("dialect", ["postgresql", "sqlite"])
def test_a_ledger_from_before_approvers_gets_the_approved_by_column_at_upgrade(dialect, tmp_path):
    """A store at revision 0003 (before issue 22.4) has no `approved_by` and no `claims_checks`: 0004 adds both."""
    url = (fresh_postgres_database("eikis_test_claims_old_ledger") if dialect == "postgresql"
           else f"sqlite:///{tmp_path / 'old.sqlite'}")
    upgrade(url)
    with create_engine(url).begin() as conn:  # back to the ledger as revision 0003 left it
        conn.exec_driver_sql("DROP TABLE claims_checks")
        conn.exec_driver_sql("ALTER TABLE payout_ledger DROP COLUMN approved_by")
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0003'")
    assert upgrade(url) == ("0003", head())
    with create_engine(url).connect() as conn:
        columns = {column["name"] for column in inspect(conn).get_columns("payout_ledger")}
        assert "approved_by" in columns and inspect(conn).has_table("claims_checks")
