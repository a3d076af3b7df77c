"""What earlier months left in the store, read back for the run report and the anomaly gate.

Only decided months count (a row in `runs`); a re-run of P never compares P with itself, because every query
asks for periods before P.
"""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
from sqlalchemy import text

from pipeline.publish.anomaly import Anomaly
from pipeline.publish.figures import MonthFigures
from pipeline.publish.report import TREND_MONTHS, History
from pipeline.store.coverage import coverage_before
from pipeline.store.db import audit, connect


def months_before(url: str, period: str, limit: int) -> list[MonthFigures]:
    """Up to `limit` decided months before P, oldest first."""
    engine = connect(url)
    with engine.connect() as conn:
        runs = conn.execute(text(
            "SELECT period, households, eligible, review, support_types FROM runs WHERE period < :period "
            "ORDER BY period DESC LIMIT :limit"), {"period": period, "limit": limit}).all()
        if not runs:
            return []
        periods = [row.period for row in runs]
        sources = conn.execute(text(
            "SELECT period, source, records, quarantined FROM source_summaries WHERE period >= :first "
            "AND period < :period"), {"first": min(periods), "period": period}).all()
    records: dict[str, dict[str, int]] = {p: {} for p in periods}
    quarantined: dict[str, dict[str, int]] = {p: {} for p in periods}
    for row in sources:
        if row.period in records:
            records[row.period][row.source] = int(row.records)
            quarantined[row.period][row.source] = int(row.quarantined)
    return [MonthFigures(period=row.period, households=int(row.households), eligible=int(row.eligible),
                         review=int(row.review), support_types=tuple(t for t in row.support_types.split("|") if t),
                         records=records[row.period], quarantined=quarantined[row.period])
            for row in reversed(runs)]


def previous_month(url: str, period: str) -> MonthFigures | None:
    """The latest decided month before P, or None in a store's first month."""
    months = months_before(url, period, 1)
    return months[0] if months else None


def household_statuses(url: str, period: str) -> pd.DataFrame:
    """P's household decisions without personal data: address code, members, threshold and status."""
    engine = connect(url)
    with engine.connect() as conn:
        return pd.read_sql_query(text(
            "SELECT aris_code, members, threshold_eur, status FROM household_decisions WHERE period = :period"),
            conn, params={"period": period}, dtype={"aris_code": "str", "status": "str", "threshold_eur": "str"})


def record_accepted_anomalies(url: str, period: str, run_id: str, anomalies: list[Anomaly], reason: str) -> None:
    """Keep who-let-what-through: one row per accepted measure, and an audit event.

    The same acceptance for the same run (same run id, measures and reason) is recorded once: a re-run of
    unchanged inputs (a cleared task, `eikis run` again) repeats it."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    engine = connect(url)
    with engine.begin() as conn:
        recorded = conn.execute(text("SELECT run_id, measure, reason FROM anomaly_acceptances WHERE period = :period"),
                                {"period": period}).all()
        if {tuple(row) for row in recorded} == {(run_id, item.measure, reason) for item in anomalies}:
            return
        conn.execute(text("DELETE FROM anomaly_acceptances WHERE period = :period"), {"period": period})
        for item in anomalies:
            conn.execute(text(
                "INSERT INTO anomaly_acceptances (period, run_id, measure, previous_period, previous_value, "
                "current_value, tolerance, reason, accepted_at) VALUES (:period, :run_id, :measure, :previous_period, "
                ":previous, :current, :tolerance, :reason, :at)"),
                {"period": period, "run_id": run_id, "measure": item.measure, "previous_period": item.previous_period,
                 "previous": item.previous, "current": item.current, "tolerance": item.tolerance,
                 "reason": reason, "at": now})
        audit(conn, period, run_id, "ANOMALY_ACCEPTED",
              json.dumps({"reason": reason, "measures": [a.measure for a in anomalies]}, ensure_ascii=False))


def load_history(url: str, period: str, tolerance: float, accepted_reason: str | None = None) -> History:
    """The earlier months the report plots (up to 23 before P) and the previous month's household statuses."""
    months = months_before(url, period, TREND_MONTHS - 1)
    previous = household_statuses(url, months[-1].period) if months else None
    return History(months=months, previous_households=previous, tolerance=tolerance,
                   accepted_reason=accepted_reason, coverage=coverage_before(url, period, TREND_MONTHS - 1))
