"""The run report and the anomaly gate against a real PostgreSQL store holding an earlier month.

The sample has one month only, so the month before is made by recording the sample's own decided files a second
time under the previous period: every measure is then identical and the gate passes. Tampering with that earlier
month in the store (fewer electricity records, three households with another status) trips the gate and gives the
report status changes whose counts are known by hand.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from pipeline.cli import main
from pipeline.config import WorkLayout
from pipeline.flows import monthly
from pipeline.flows.monthly import RunConfig
from pipeline.handoff import DecisionSummary
from pipeline.store.db import record_period
from tests.conftest import DEFAULT_POLICY, SAMPLE_INBOX, SAMPLE_PERIOD
from tests.pg import fresh_postgres_database

pytestmark = [pytest.mark.postgres]
PREVIOUS = "2026-10"


def run(root: Path, name: str, url: str, *extra: str) -> int:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EIKIS_DATA_DOCS", "0")
        patch.setenv("EIKIS_WORKERS", "1")
        return main(["run", "--period", SAMPLE_PERIOD, "--inbox", str(SAMPLE_INBOX),
                     "--outbox", str(root / name / "outbox"), "--policy", str(DEFAULT_POLICY),
                     "--workdir", str(root / name / "work"), "--db", url, *extra])


def report(root: Path, name: str) -> str:
    return (root / name / "work" / SAMPLE_PERIOD / "report" / "report.md").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("gate")
    url = fresh_postgres_database("eikis_test_report")
    assert run(root, "first", url) == 0
    for folder in ("work", "outbox"):
        shutil.copytree(root / "first" / folder / SAMPLE_PERIOD, root / "first" / folder / PREVIOUS)
    record_period(url, PREVIOUS, root / "first" / "work", root / "first" / "outbox", f"{PREVIOUS}-sample-copy")
    return root, url


def test_the_first_month_has_no_gate_and_says_so(store):
    root, _ = store
    text_ = report(root, "first")
    assert "No earlier decided month in the store: the first month has no anomaly gate." in text_
    assert "| 2026-11 | 232 | 79 | 34.1 % | 3 | 10337 | 20 |" in text_  # the trend's one month, from the hand-off


def test_an_identical_previous_month_passes_the_gate_and_is_plotted(store):
    root, _ = store
    assert run(root, "second", store[1]) == 0
    text_ = report(root, "second")
    assert "Compared with 2026-10, tolerance ±5.0 %." in text_
    assert "| records electricity | 305 | 305 | +0.0 % | ok |" in text_
    assert "BEYOND TOLERANCE" not in text_
    assert "232 kept their status" in text_ and "No household changed status." in text_
    assert "| 2026-10 | 232 | 79 | 34.1 % | 3 | 10337 | 20 |" in text_  # the earlier month, read from the store


def test_a_short_delivery_stops_the_run_until_a_reason_accepts_it(store, capsys):
    root, url = store
    engine = create_engine(url)
    eligible = "SELECT aris_code FROM household_decisions WHERE period = :p AND status = 'ELIGIBLE' ORDER BY aris_code"
    with engine.begin() as conn:
        conn.execute(text("UPDATE source_summaries SET records = 400 WHERE period = :p AND source = 'electricity'"),
                     {"p": PREVIOUS})
        codes = conn.execute(text(eligible), {"p": PREVIOUS}).scalars().all()[:3]
        conn.execute(text("UPDATE household_decisions SET status = 'NOT_ELIGIBLE' WHERE period = :p "
                          "AND aris_code IN (:a, :b, :c)"),
                     {"p": PREVIOUS, "a": codes[0], "b": codes[1], "c": codes[2]})
        conn.execute(text("UPDATE household_decisions SET threshold_eur = 500.00 WHERE period = :p "
                          "AND aris_code IN (:a, :b)"), {"p": PREVIOUS, "a": codes[0], "b": codes[1]})
    capsys.readouterr()

    assert run(root, "third", url) == 2
    stderr = capsys.readouterr().err.strip().splitlines()
    assert stderr[-1] == ("eikis: error: anomaly gate: records electricity: 2026-10 400 → 305 (-23.8%), beyond the "
                          "tolerance ±5.0%; check the sources, or re-run with --accept-anomaly REASON if the change "
                          "is real")
    assert not (root / "third" / "outbox" / SAMPLE_PERIOD).exists()  # stopped before publishing

    reason = "DSO re-sent its register without the closed objects"
    assert run(root, "third", url, "--accept-anomaly", reason) == 0
    published = root / "third" / "outbox" / SAMPLE_PERIOD / "manifest.json"
    assert published.read_bytes() == (root / "first" / "outbox" / SAMPLE_PERIOD / "manifest.json").read_bytes()
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT measure, previous_period, previous_value, current_value, tolerance, reason "
                                 "FROM anomaly_acceptances WHERE period = :p"), {"p": SAMPLE_PERIOD}).all()
        events = conn.execute(text("SELECT count(*) FROM audit_events WHERE event = 'ANOMALY_ACCEPTED'")).scalar()
    assert [tuple(r) for r in rows] == [("records electricity", PREVIOUS, 400.0, 305.0, 0.05, reason)]
    assert events == 1

    assert run(root, "third", url, "--accept-anomaly", reason) == 0   # the same acceptance again (a re-run of
    with engine.connect() as conn:                                    # unchanged inputs, a cleared task): once
        events = conn.execute(text("SELECT count(*) FROM audit_events WHERE event = 'ANOMALY_ACCEPTED'")).scalar()
    assert events == 1

    text_ = report(root, "third")
    assert f'Anomalies accepted: "{reason}".' in text_
    assert "| records electricity | 400 | 305 | -23.8 % | BEYOND TOLERANCE |" in text_
    assert "229 kept their status" in text_
    assert "| NOT_ELIGIBLE | ELIGIBLE | income threshold changed 500.00 → 520.00 EUR | 2 |" in text_
    assert "| NOT_ELIGIBLE | ELIGIBLE | average income fell to or under the threshold | 1 |" in text_


def test_the_gate_runs_once_a_month_in_the_dag_and_in_eikis_run(store, tmp_path, monkeypatch):
    """The DAG's `check_anomalies` task runs the gate and hands its outcome to `publish`, which does not run it
    again (it did, issue 21); `eikis run` runs it inside publish, once. Counted at the gate itself."""
    root, url = store
    calls: list[str] = []
    gate = monthly.check_anomalies

    def counted(run: RunConfig, *args, **kwargs):
        calls.append(run.outbox)
        return gate(run, *args, **kwargs)

    monkeypatch.setattr(monthly, "check_anomalies", counted)
    reason = "counting the gate"  # earlier tests may have left a previous month the gate stops at
    shutil.copytree(root / "first" / "work" / SAMPLE_PERIOD, tmp_path / "work" / SAMPLE_PERIOD)
    config = RunConfig(SAMPLE_PERIOD, str(SAMPLE_INBOX), str(tmp_path / "work"), outbox=str(tmp_path / "dag"),
                       policy=str(DEFAULT_POLICY), db_url=url, accept_anomaly=reason)
    decision = DecisionSummary.load(WorkLayout(tmp_path / "work", SAMPLE_PERIOD))
    monthly.publish(config, decision, monthly.anomaly_gate(config, decision))  # the DAG's two tasks, in order
    assert calls == [str(tmp_path / "dag")]

    assert run(root, "once", url, "--accept-anomaly", reason) == 0
    assert calls == [str(tmp_path / "dag"), str(root / "once" / "outbox")]
