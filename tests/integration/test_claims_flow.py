"""The claims month end to end on a small hand-made month (tests/claims_month.py): the CLI, the files, the ledger on
SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from pipeline.cli import main
from pipeline.flows.claims import ClaimsConfig, approve, check
from pipeline.policy import load_policy
from pipeline.runlock import PeriodBusy, period_lock
from pipeline.store.db import connect
from pipeline.store.ledger import LedgerError
from tests.claims_month import (
    CLAIM_HEADER,
    EXPECTED_HEAT_RESULT,
    EXPECTED_PAYOUT,
    EXPECTED_TRADER_RESULT,
    HEAT,
    SUPPLIER_HEADER,
    TRADER,
    P,
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


def _read(month: dict[str, Path], relative: str) -> str:
    return (month["outbox"] / P / relative).read_text(encoding="utf-8")


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
        assert hashlib.sha256((month["outbox"] / P / entry["path"]).read_bytes()).hexdigest() == entry["sha256"]
    quarantine = (month["root"] / "work" / P / "claims_quarantine.csv").read_text(encoding="utf-8")
    assert f"{TRADER};claims.csv;12;A11;CONFLICTING_CORRECTION" in quarantine  # the first of the two versions
    assert f"{HEAT};claims.csv;7;H-6;BAD_SUPPORT_TYPE" in quarantine
    assert "preview only" in capsys.readouterr().out

    before = {p.relative_to(month["outbox"]): p.read_bytes() for p in month["outbox"].rglob("*") if p.is_file()}
    assert _cli(month, db_url, "--as-of", "2026-03") == 0
    after = {p.relative_to(month["outbox"]): p.read_bytes() for p in month["outbox"].rglob("*") if p.is_file()}
    assert after == before
    assert _ledger(db_url) == []  # a preview never touches the ledger


def test_approval_then_a_correction_pays_only_the_difference(month, db_url):
    assert _cli(month, db_url, "--as-of", "2026-03", "--approve") == 0
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
    assert _cli(month, db_url, "--as-of", "2026-03", "--approve") == 0
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
    check(config)
    assert approve(config)["entries"] == 2
    with pytest.raises(LedgerError, match="changed since this check"):
        approve(config)
    assert _ledger(db_url) == [(HEAT, 1, 0, 1001), (TRADER, 1, 0, 4802)]
    # the database's own guarantee, bypassing the code's check: the same run or the same seq again is refused
    run_id = json.loads(_read(month, "manifest.json"))["run_id"]
    engine = connect(db_url)
    for seq, run in ((2, run_id), (1, "another-run")):
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(text("INSERT INTO payout_ledger VALUES (:p, :s, :seq, :r, '2026-03-01 00:00:00', 0, 4802, 0, "
                              "4802, 'x')"), {"p": P, "s": TRADER, "seq": seq, "r": run})
    assert _ledger(db_url) == [(HEAT, 1, 0, 1001), (TRADER, 1, 0, 4802)]


def test_only_the_approved_run_is_recorded(month, tmp_path):
    db = f"sqlite:///{tmp_path / 's.sqlite'}"
    config = _config(month, db)
    approved_run = check(config)["run_id"]
    (month["claims"] / P / HEAT / "late.csv").write_text(  # a later preview replaces the outbox before recording
        CLAIM_HEADER + "\nH-7;2026-02-04T10:00:00;H1;DISTRICT_HEAT;1;1.000;0.04\n", encoding="utf-8")
    check(config)
    with pytest.raises(LedgerError, match=f"not the approved run {approved_run}"):
        approve(config, run_id=approved_run)
    assert _ledger(db) == []


def test_two_checks_against_the_same_ledger_cannot_both_be_approved(month, db_url):
    config = _config(month, db_url)
    check(config)
    other = _config(month, db_url)
    other_outbox = month["root"] / "outbox2"
    other = ClaimsConfig(**{**other.to_dict(), "outbox": str(other_outbox)})
    (month["claims"] / P / HEAT / "late.csv").write_text(
        CLAIM_HEADER + "\nH-7;2026-02-04T10:00:00;H1;ELECTRICITY_BASE;1;1.000;0.01\n", encoding="utf-8")
    check(other)
    approve(other)
    with pytest.raises(LedgerError, match="changed since this check"):
        approve(config)


def test_the_ledger_refuses_update_and_delete_in_the_database(month, db_url):
    config = _config(month, db_url)
    check(config)
    approve(config)
    engine = connect(db_url)
    connect(db_url)  # the DDL (function, triggers) applies again without error: idempotent
    statements = ["UPDATE payout_ledger SET payout_cents = 0", "DELETE FROM payout_ledger"]
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
    assert not [p for p in month["outbox"].iterdir() if p.name.startswith(".build")]


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
    config = ClaimsConfig(**{**_config(month, f"sqlite:///{tmp_path / 's.sqlite'}").to_dict(),
                             "claims": str(tmp_path / "gen")})
    summary = check(config)
    assert set(summary["reasons"]) == {"MALFORMED", "NOT_CLAIMABLE", "UNKNOWN_OBJECT", "NOT_ELIGIBLE",
                                       "SUPPORT_NOT_ON", "DWELLINGS_EXCEEDED", "DUPLICATE_CLAIM", "OVER_CAP"}
    # every claimable (object, type) of the small month is paid: E1 x2 types, E2, K-1 and H1; two of them are the
    # generator's over-cap corrections (REDUCED)
    assert summary["statuses"]["ACCEPTED"] + summary["statuses"]["REDUCED"] == 5
    results = (month["outbox"] / P / TRADER / "claim_result.csv").read_text(encoding="utf-8")
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
        assert not (month["outbox"] / P).exists()
    summary = check(_config(month, db_url))
    with period_lock(P, month["outbox"]), pytest.raises(PeriodBusy):
        approve(_config(month, db_url), summary["run_id"])
    assert _ledger(db_url) == []
    assert approve(_config(month, db_url), summary["run_id"])["entries"] >= 1
