"""One decided month in numbers: the measures the report's trend charts plot and the anomaly gate compares.

The current month's figures come from the run's hand-off (source summaries and the decision summary in the
workdir); earlier months' come from the store (`pipeline.store.history`), which records the same numbers, so a
month reads the same whether it is being decided now or was decided a year ago.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.config import WorkLayout
from pipeline.handoff import DecisionSummary, source_summaries


@dataclass(frozen=True)
class MonthFigures:
    period: str
    households: int
    eligible: int
    review: int
    support_types: tuple[str, ...]
    records: dict[str, int] = field(default_factory=dict)
    quarantined: dict[str, int] = field(default_factory=dict)

    @property
    def eligible_share(self) -> float:
        """Eligible households over all decided households (0 when there are none)."""
        return self.eligible / self.households if self.households else 0.0

    def quarantine_share(self, source: str) -> float:
        records = self.records.get(source, 0)
        return self.quarantined.get(source, 0) / records if records else 0.0


def current_figures(layout: WorkLayout) -> MonthFigures:
    """The month being decided, from the decision and source summaries it handed off."""
    decision = DecisionSummary.load(layout)
    summaries = list(source_summaries(layout).values())
    return MonthFigures(
        period=layout.period,
        households=decision.households,
        eligible=decision.eligible,
        review=decision.review,
        support_types=tuple(decision.support_types_on),
        records={s.source: s.records for s in summaries},
        quarantined={s.source: s.quarantined_total for s in summaries},
    )
