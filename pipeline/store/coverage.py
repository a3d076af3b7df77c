"""Earlier months' coverage (CONTRACTS §17) as the store knows it, for the run report's trend.

The store keeps no coverage table: a month's eligible households are its `runs` row, and the households no list
reached are the rows of its municipalities' `unreached.csv` files, which `record` lists in `recipient_files` like
every published file. A month published before those files existed has none listed: its count is unknown (None),
not zero.
"""

from __future__ import annotations

from sqlalchemy import text

from pipeline.publish.coverage import CoverageMonth
from pipeline.store.db import connect

UNREACHED_FILES = "municipalities/%/unreached.csv"


def coverage_before(url: str, period: str, limit: int) -> list[CoverageMonth]:
    """Up to `limit` decided months before P, oldest first."""
    engine = connect(url)
    with engine.connect() as conn:
        runs = conn.execute(text("SELECT period, eligible FROM runs WHERE period < :period ORDER BY period DESC "
                                 "LIMIT :limit"), {"period": period, "limit": limit}).all()
        if not runs:
            return []
        unreached = dict(conn.execute(text(
            "SELECT period, SUM(rows) FROM recipient_files WHERE path LIKE :files AND period >= :first "
            "AND period < :period GROUP BY period"),
            {"files": UNREACHED_FILES, "first": min(row.period for row in runs), "period": period}).all())
    return [CoverageMonth(row.period, int(row.eligible),
                          None if unreached.get(row.period) is None else int(unreached[row.period]))
            for row in reversed(runs)]
