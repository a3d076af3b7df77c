"""Recording an ALDIS run in the store (`sql/005_aldis.sql`): one row per period, counts only."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import text

from pipeline.store.db import audit, connect


def record_aldis_run(url: str, result: Any) -> None:
    """Replace P's row with this run's counts (`result` is a `pipeline.flows.aldis.AldisResult`)."""
    engine = connect(url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM aldis_runs WHERE period = :period"), {"period": result.period})
        conn.execute(text(
            "INSERT INTO aldis_runs (period, run_id, sopa_records, passed, returned, passed_per_trader, "
            "returned_per_reason, files, recorded_at) VALUES (:period, :run_id, :sopa_records, :passed, :returned, "
            ":passed_per_trader, :returned_per_reason, :files, :recorded_at)"), {
            "period": result.period, "run_id": result.run_id, "sopa_records": result.sopa_records,
            "passed": sum(result.passed.values()), "returned": sum(result.returned.values()),
            "passed_per_trader": json.dumps(result.passed, sort_keys=True),
            "returned_per_reason": json.dumps(result.returned, sort_keys=True),
            "files": json.dumps(result.files, sort_keys=True),
            "recorded_at": dt.datetime.now(dt.UTC).replace(tzinfo=None)})
        audit(conn, result.period, result.run_id, "ALDIS_PUBLISHED",
              json.dumps({"passed": sum(result.passed.values()), "returned": sum(result.returned.values())}))
