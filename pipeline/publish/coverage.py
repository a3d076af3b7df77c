"""The run report's coverage section (CONTRACTS §17): how many eligible households the suppliers' lists reach.

This month's counts are decide's `summaries/coverage.csv` (`decide.coverage`); earlier months come from the store
as `CoverageMonth`s (eligible households, and the rows of the municipalities' `unreached.csv` files the store
recorded), so the section shows the month-over-month trend of the households no list reaches, or says that this
is the first month counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipeline.config import WorkLayout
from pipeline.decide.coverage import read_coverage
from pipeline.publish import charts
from pipeline.publish.collation import latvian_sort_key

COMMODITY_COLUMNS = ("with_electricity", "with_gas", "with_heat")


@dataclass(frozen=True)
class CoverageMonth:
    """One decided month's eligible households and those no list reached (None: not counted that month)."""

    period: str
    eligible: int
    unreached: int | None

    @property
    def unreached_share(self) -> float | None:
        if self.unreached is None:
            return None
        return self.unreached / self.eligible if self.eligible else 0.0


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f} %" if whole else "–"


def coverage_context(layout: WorkLayout, earlier: list[CoverageMonth], names: dict[str, str]) -> dict[str, Any]:
    """The section's figures: totals, per municipality (Latvian order, by name), and the trend with the change
    against the latest earlier month that counted coverage. Empty for a month decided without coverage."""
    coverage = read_coverage(layout)
    if coverage is None:
        return {"counted": False}
    totals = {name: int(coverage[name].sum()) for name in coverage.columns if name != "municipality"}
    eligible = totals["eligible_households"]
    rows = [{"name": names.get(str(row.municipality), "(none)"), "code": str(row.municipality),
             "eligible": int(row.eligible_households), "electricity": int(row.with_electricity),
             "gas": int(row.with_gas), "heat": int(row.with_heat), "none": int(row.with_none),
             "none_share": _share(int(row.with_none), int(row.eligible_households))}
            for row in coverage.itertuples(index=False)]
    current = CoverageMonth(layout.period, eligible, totals["with_none"])
    counted = [month for month in earlier if month.unreached is not None]
    previous = counted[-1] if counted else None
    months = [*earlier, current]
    trend = [{"period": m.period, "eligible": m.eligible, "unreached": "–" if m.unreached is None else m.unreached,
              "share": "–" if m.unreached is None else _share(m.unreached, m.eligible)} for m in months]
    return {
        "counted": True,
        "eligible": eligible,
        "commodities": [{"name": column.removeprefix("with_"), "households": totals[column],
                         "share": _share(totals[column], eligible)} for column in COMMODITY_COLUMNS],
        "unreached": totals["with_none"],
        "unreached_share": _share(totals["with_none"], eligible),
        "previous": previous,
        "change": None if previous is None else totals["with_none"] - (previous.unreached or 0),
        "trend": trend if previous is not None else [],
        "chart": charts.line_chart("Eligible households no supplier list reaches", [m.period for m in months], {
            "unreached": [m.unreached for m in months]}) if previous is not None else None,
        "rows": sorted(rows, key=lambda row: latvian_sort_key(row["name"])),
    }
