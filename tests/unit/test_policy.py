from __future__ import annotations

from decimal import Decimal

import pytest

from pipeline.errors import PolicyError
from pipeline.policy import load_policy
from tests.conftest import DEFAULT_POLICY, MINIMAL_POLICY


def test_the_minimal_contract_policy_is_accepted_as_is():
    policy = load_policy(MINIMAL_POLICY, "2025-01")
    assert policy.income_threshold_eur == Decimal("500.00")
    assert policy.income_window_months == 12
    assert policy.heating_season_months == frozenset({10, 11, 12, 1, 2, 3, 4})


def test_the_version_in_force_is_the_latest_not_after_the_period():
    assert load_policy(DEFAULT_POLICY, "2026-06").income_threshold_eur == Decimal("500.00")
    newer = load_policy(DEFAULT_POLICY, "2026-07")
    assert newer.income_threshold_eur == Decimal("520.00") and newer.effective_from == "2026-07"
    with pytest.raises(PolicyError, match="no policy version is in force for 2022-09"):
        load_policy(DEFAULT_POLICY, "2022-09")


def test_digest_is_stable_and_tells_versions_apart():
    assert load_policy(DEFAULT_POLICY, "2026-08").digest == load_policy(DEFAULT_POLICY, "2026-11").digest
    assert load_policy(DEFAULT_POLICY, "2026-06").digest != load_policy(DEFAULT_POLICY, "2026-07").digest


def test_a_broken_policy_names_the_problem(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text("income_threshold_eur: lots\nprice_thresholds_eur_mwh: {electricity: 1, gas: 1, heat: 1}\n"
                    "heating_season_months: [1]\n", encoding="utf-8")
    with pytest.raises(PolicyError, match="income_threshold_eur is not a number"):
        load_policy(path, "2025-01")
