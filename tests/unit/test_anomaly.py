"""The anomaly gate's arithmetic and the status-change causes, on small hand-made months."""

from __future__ import annotations

import pandas as pd
import pytest

from pipeline.errors import PolicyError
from pipeline.policy import load_policy
from pipeline.publish.anomaly import AnomalyFound, find_anomalies, gate
from pipeline.publish.changes import status_changes
from pipeline.publish.figures import MonthFigures
from tests.conftest import MINIMAL_POLICY


def month(period: str, *, vid: int = 1000, vid_quarantined: int = 10, households: int = 200,
          eligible: int = 80) -> MonthFigures:
    return MonthFigures(period=period, households=households, eligible=eligible, review=0, support_types=(),
                        records={"vid": vid, "pmlp": 500}, quarantined={"vid": vid_quarantined, "pmlp": 0})


def test_first_month_of_a_store_has_no_gate():
    assert find_anomalies(month("2026-11", vid=1), None, 0.05) == []


def test_counts_are_compared_relatively_at_the_tolerance_edge():
    before = month("2026-10")
    assert find_anomalies(month("2026-11", vid=1050, vid_quarantined=10), before, 0.05) == []  # +5.0 %: within
    [found] = find_anomalies(month("2026-11", vid=940, vid_quarantined=9), before, 0.05)  # −6 %
    assert found.measure == "records vid" and found.previous == 1000 and found.current == 940
    assert found.one_line() == "records vid: 2026-10 1000 → 940 (-6.0%), beyond the tolerance ±5.0%"


def test_shares_are_compared_in_points():
    before = month("2026-10")  # quarantined share 1 %, eligible share 40 %
    [found] = find_anomalies(month("2026-11", vid_quarantined=70), before, 0.05)  # 7 %: +6 points
    assert found.measure == "quarantined share vid"
    assert found.one_line() == ("quarantined share vid: 2026-10 1.00% → 7.00% (+6.00 points), beyond the "
                                "tolerance ±5.00 points")
    [found] = find_anomalies(month("2026-11", eligible=69), before, 0.05)  # 34.5 %: −5.5 points
    assert found.measure == "eligible share" and round(found.change, 4) == -0.055
    assert find_anomalies(month("2026-11", eligible=71), before, 0.05) == []  # 35.5 %: −4.5 points


def test_the_gate_stops_with_one_line_unless_a_reason_accepts():
    anomalies = find_anomalies(month("2026-11", vid=500, eligible=40), month("2026-10"), 0.05)
    with pytest.raises(AnomalyFound) as caught:
        gate(anomalies, None)
    line = caught.value.one_line()
    assert line.startswith("anomaly gate: records vid: 2026-10 1000 → 500 (-50.0%), beyond the tolerance ±5.0%")
    # the other is the eligible share (40 % → 20 %); the vid quarantine (1 % → 2 %) is within
    assert "(and 1 more)" in line and "\n" not in line
    gate(anomalies, "VID sent half the file; confirmed by phone")
    with pytest.raises(AnomalyFound):
        gate(anomalies, "   ")


def test_tolerance_comes_from_the_policy_in_force_or_defaults(tmp_path):
    base = MINIMAL_POLICY.read_text(encoding="utf-8")
    assert load_policy(MINIMAL_POLICY, "2026-11").anomaly_tolerance() == 0.05
    (tmp_path / "ten.yaml").write_text(base + "anomaly_tolerance: 0.1\n", encoding="utf-8")
    assert load_policy(tmp_path / "ten.yaml", "2026-11").anomaly_tolerance() == 0.1
    (tmp_path / "bad.yaml").write_text(base + "anomaly_tolerance: 5\n", encoding="utf-8")
    with pytest.raises(PolicyError, match="fraction from 0 to 1, not 5"):
        load_policy(tmp_path / "bad.yaml", "2026-11").anomaly_tolerance()


def test_status_changes_are_counted_by_cause():
    before = pd.DataFrame({"aris_code": ["1", "2", "3", "4", "5", "6"], "members": [1, 2, 2, 1, 3, 1],
                           "threshold_eur": ["500.00", "520.00", "520.00", "520.00", "520.00", "520.00"],
                           "status": ["NOT_ELIGIBLE", "ELIGIBLE", "ELIGIBLE", "REVIEW", "ELIGIBLE", "ELIGIBLE"]})
    now = pd.DataFrame({"aris_code": ["1", "2", "3", "4", "5", "7"], "members": [1, 2, 3, 1, 3, 2],
                        "threshold_eur": ["520.00"] * 6,
                        "status": ["ELIGIBLE", "NOT_ELIGIBLE", "NOT_ELIGIBLE", "ELIGIBLE", "REVIEW", "ELIGIBLE"],
                        "review_reasons": [None, None, None, None, "BAD_PERIOD", None]})
    rows, unchanged = status_changes(before, now)
    assert unchanged == 0
    assert {(r["from"], r["to"], r["cause"]): r["households"] for r in rows} == {
        ("NOT_ELIGIBLE", "ELIGIBLE", "income threshold changed 500.00 → 520.00 EUR"): 1,
        ("ELIGIBLE", "NOT_ELIGIBLE", "average income rose over the threshold"): 1,
        ("ELIGIBLE", "NOT_ELIGIBLE", "member count changed"): 1,
        ("REVIEW", "ELIGIBLE", "member data no longer quarantined"): 1,
        ("ELIGIBLE", "REVIEW", "member data quarantined (BAD_PERIOD)"): 1,
        ("ELIGIBLE", "—", "no household at the address any more"): 1,
        ("—", "ELIGIBLE", "new address with a household"): 1,
    }
