"""The month-over-month anomaly gate: stop before publishing when a month looks unlike the one before it.

A short VID delivery or a doubled quarantine passes every record check (each record is fine) yet changes who is
eligible. So before anything is published, each source's record count, each source's quarantined share and the
eligible share are compared with the previous decided month in the store. Counts are compared relatively
(|now − before| / before), shares absolutely in share points (|now − before|): a quarantine going from 0 to 1
record is not an anomaly, one going from 1 % to 7 % is. Both use the policy's `anomaly_tolerance` (default 0.05).
A run can go on past the gate only with an explicit reason, recorded in the store.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from pipeline.errors import EikisError
from pipeline.policy import DEFAULT_ANOMALY_TOLERANCE
from pipeline.publish.figures import MonthFigures

DEFAULT_TOLERANCE = DEFAULT_ANOMALY_TOLERANCE


class AnomalyFound(EikisError):
    """A measure moved beyond the tolerance since the previous decided month and nobody accepted it."""


@dataclass(frozen=True)
class Anomaly:
    measure: str
    previous_period: str
    previous: float
    current: float
    change: float
    tolerance: float
    kind: str  # "count" (relative change) or "share" (absolute change in share points)

    def one_line(self) -> str:
        if self.kind == "count":
            return (f"{self.measure}: {self.previous_period} {self.previous:.0f} → {self.current:.0f} "
                    f"({self.change:+.1%}), beyond the tolerance ±{self.tolerance:.1%}")
        return (f"{self.measure}: {self.previous_period} {self.previous:.2%} → {self.current:.2%} "
                f"({100 * self.change:+.2f} points), beyond the tolerance ±{100 * self.tolerance:.2f} points")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def compared_measures(current: MonthFigures, previous: MonthFigures,
                      tolerance: float) -> list[tuple[Anomaly, bool]]:
    """Every measure of the gate with its change, and whether it is beyond the tolerance."""
    measures: list[Anomaly] = []
    for source, records in current.records.items():
        before = previous.records.get(source)
        if before is None:
            continue
        change = (records - before) / before if before else (0.0 if records == 0 else 1.0)
        measures.append(Anomaly(f"records {source}", previous.period, before, records, change, tolerance, "count"))
        now_share, before_share = current.quarantine_share(source), previous.quarantine_share(source)
        measures.append(Anomaly(f"quarantined share {source}", previous.period, before_share, now_share,
                                now_share - before_share, tolerance, "share"))
    measures.append(Anomaly("eligible share", previous.period, previous.eligible_share, current.eligible_share,
                            current.eligible_share - previous.eligible_share, tolerance, "share"))
    # a hair of slack so 0.05 exactly (and its binary neighbours) is within the tolerance
    return [(m, abs(m.change) > tolerance + 1e-12) for m in measures]


def find_anomalies(current: MonthFigures, previous: MonthFigures | None, tolerance: float) -> list[Anomaly]:
    """The measures beyond the tolerance; none for the first month of a store."""
    if previous is None:
        return []
    return [measure for measure, beyond in compared_measures(current, previous, tolerance) if beyond]


def gate(anomalies: list[Anomaly], accepted_reason: str | None) -> None:
    """Raise with the first anomaly in one line (and how many more) unless a reason accepts them."""
    if not anomalies or (accepted_reason and accepted_reason.strip()):
        return
    more = f" (and {len(anomalies) - 1} more)" if len(anomalies) > 1 else ""
    raise AnomalyFound(f"anomaly gate: {anomalies[0].one_line()}{more}; check the sources, or re-run with "
                       "--accept-anomaly REASON if the change is real")
