"""The simulation's compensation estimate (CONTRACTS §17): rate × typical_kwh (or max_kwh_per_dwelling) per
eligible dwelling and support type on, exact in micro-euros, rounded half up to cents once per cell; the policy's
`typical_kwh` key is read by the one compensation loader."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from pipeline.decide.claims_policy import Rate, load_claims_policy
from pipeline.decide.simulate import cents_half_up, micro_per_dwelling
from pipeline.errors import PolicyError

ALL_ON = ["ELECTRICITY_BASE", "ELECTRICITY_HEATING", "GAS_HEATING", "DISTRICT_HEAT", "DECENTRALISED_FUEL"]


def test_typical_kwh_wins_over_the_cap_and_a_type_with_neither_is_not_costed():
    rates = {"ELECTRICITY_BASE": Rate(Decimal("0.10"), 100), "ELECTRICITY_HEATING": Rate(Decimal("0.05")),
             "GAS_HEATING": Rate(Decimal("0.033333"), None, 300), "DISTRICT_HEAT": Rate(Decimal("0.04"), 50, 800)}
    amounts, uncosted = micro_per_dwelling(rates, ALL_ON)
    assert amounts == {"electricity": 10_000_000, "gas": 9_999_900, "heat": 32_000_000}
    assert uncosted == ["ELECTRICITY_HEATING"]


def test_only_the_types_on_for_the_period_count():
    rates = {"ELECTRICITY_BASE": Rate(Decimal("0.10"), 100), "DISTRICT_HEAT": Rate(Decimal("0.04"), None, 800)}
    amounts, _ = micro_per_dwelling(rates, ["DISTRICT_HEAT"])
    assert amounts == {"electricity": 0, "gas": 0, "heat": 32_000_000}


@pytest.mark.parametrize(("micro", "eur"), [(5_000, "0.01"), (4_999, "0.00"), (9_999_900 * 3, "30.00"),
                                            (1_234_565_000, "1234.57"), (0, "0.00")])
def test_a_cell_is_rounded_half_up_to_cents_once(micro, eur):
    assert str(cents_half_up(micro)) == eur


def _policy(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(f"""income_threshold_eur: 500.00
price_thresholds_eur_mwh: {{electricity: 150, gas: 60, heat: 70}}
heating_season_months: [10, 11, 12, 1, 2, 3, 4]
claim_window_months: 6
compensation:
  ELECTRICITY_BASE:    {{rate_eur_per_kwh: 0.10, max_kwh_per_dwelling: 100}}
  ELECTRICITY_HEATING: {{rate_eur_per_kwh: 0.05}}
  GAS_HEATING:         {{rate_eur_per_kwh: 0.03}}
  PROTECTED_USER:      {{rate_eur_per_kwh: 0.10, max_kwh_per_dwelling: 100}}
  DISTRICT_HEAT:       {{rate_eur_per_kwh: 0.04{extra}}}
""", encoding="utf-8")
    return path


def test_the_compensation_loader_reads_typical_kwh(tmp_path):
    rates = load_claims_policy(_policy(tmp_path, ", typical_kwh: 800"), "2026-11").rates
    assert rates["DISTRICT_HEAT"] == Rate(Decimal("0.04"), None, 800)


@pytest.mark.parametrize("value", ["0", "-5", "12.5", "yes", "'800'"])
def test_a_typical_kwh_that_is_not_a_whole_positive_number_is_refused(tmp_path, value):
    with pytest.raises(PolicyError, match="compensation.DISTRICT_HEAT.typical_kwh must be a whole number >= 1"):
        load_claims_policy(_policy(tmp_path, f", typical_kwh: {value}"), "2026-11")
