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
    with pytest.raises(PolicyError, match="income_threshold_eur must be an amount in EUR"):
        load_policy(path, "2025-01")


BASE = ("income_threshold_eur: 500.00\nprice_thresholds_eur_mwh: {electricity: 150, gas: 60, heat: 70}\n"
        "heating_season_months: [10, 11, 12, 1, 2, 3, 4]\n")


def _policy(tmp_path, text: str):
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _versioned(extra: str) -> str:
    lines = "".join(f"    {line}\n" for line in (BASE + extra).splitlines())
    return f"versions:\n  - version: v1\n    effective_from: '2025-01'\n{lines}"


def test_a_repeated_key_is_refused_naming_the_key(tmp_path):
    path = _policy(tmp_path, BASE + "income_threshold_eur: 900.00\n")
    with pytest.raises(PolicyError, match="income_threshold_eur.*more than once"):
        load_policy(path, "2025-01")
    nested = _policy(tmp_path, _versioned("").replace("electricity: 150", "electricity: 1, electricity: 2"))
    with pytest.raises(PolicyError, match="electricity.*more than once"):
        load_policy(nested, "2025-01")


@pytest.mark.parametrize(("extra", "message"), [
    ("income_window_months: yes", "version v1: income_window_months must be a whole number from 1 to 24"),
    ("income_window_months: 0", "income_window_months must be a whole number from 1 to 24"),
    ("income_window_months: 12.5", "income_window_months must be a whole number from 1 to 24"),
    ("income_treshold_eur: 400", "unknown key income_treshold_eur"),
    ("claim_window_months: 6\nanomaly_tolerance: {share: 0.1}\ncompensation: {}", None),
])
def test_types_and_ranges_are_checked_per_key_and_version(tmp_path, extra, message):
    path = _policy(tmp_path, _versioned(extra))
    if message is None:
        assert load_policy(path, "2025-06").version == "v1"
        return
    with pytest.raises(PolicyError) as caught:
        load_policy(path, "2025-06")
    assert message in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize("value", ["500.001", "true", "-1", "'5e2'", "'1_000'", "'+500'", "'٥٠٠'"])
def test_a_money_value_must_be_plain_euros_and_cents(tmp_path, value):
    path = _policy(tmp_path, BASE.replace("500.00", value))
    with pytest.raises(PolicyError, match="income_threshold_eur must be"):
        load_policy(path, "2025-01")


def test_a_boolean_is_not_a_price_threshold_nor_a_month(tmp_path):
    with pytest.raises(PolicyError, match="price_thresholds_eur_mwh.gas must be"):
        load_policy(_policy(tmp_path, BASE.replace("gas: 60", "gas: no")), "2025-01")
    with pytest.raises(PolicyError, match="heating_season_months"):
        load_policy(_policy(tmp_path, BASE.replace("[10, 11", "[true, 11")), "2025-01")
    with pytest.raises(PolicyError, match="price_thresholds_eur_mwh.*unknown.*coal"):
        load_policy(_policy(tmp_path, BASE.replace("heat: 70", "heat: 70, coal: 5")), "2025-01")


def test_other_flows_sections_are_kept_raw_and_count_in_the_digest(tmp_path):
    first = load_policy(_policy(tmp_path, _versioned("claim_window_months: 6\ncompensation: {X: {rate: 0.1}}")),
                        "2025-06")
    assert first.section("claim_window_months") == 6
    assert first.section("compensation") == {"X": {"rate": 0.1}}
    assert first.section("anomaly_tolerance") is None
    second = load_policy(_policy(tmp_path, _versioned("claim_window_months: 7\ncompensation: {X: {rate: 0.1}}")),
                         "2025-06")
    assert first.digest != second.digest
    with pytest.raises(KeyError):
        first.section("no_such_section")


def test_quarantine_tolerance_per_source_with_a_default(tmp_path):
    text = _versioned("quarantine_tolerance:\n  default: {share: 0.02, min_records: 50}\n"
                      "  pmlp: {share: 0.001, min_records: 10}")
    policy = load_policy(_policy(tmp_path, text), "2025-06")
    assert policy.quarantine_tolerance("pmlp").min_records == 10
    assert policy.quarantine_tolerance("pmlp").share == Decimal("0.001")
    assert policy.quarantine_tolerance("vid").min_records == 50
    minimal = load_policy(MINIMAL_POLICY, "2025-01").quarantine_tolerance("vid")
    assert (minimal.share, minimal.min_records) == (Decimal("0.02"), 50)
    for bad, message in [("  pmlpp: {share: 0.1, min_records: 1}", "unknown source pmlpp"),
                         ("  pmlp: {share: 1.5, min_records: 1}", "quarantine_tolerance.pmlp.share"),
                         ("  pmlp: {share: 0.1, min_records: -1}", "quarantine_tolerance.pmlp.min_records"),
                         ("  pmlp: {share: 0.1}", "quarantine_tolerance.pmlp needs share and min_records")]:
        with pytest.raises(PolicyError, match=message):
            load_policy(_policy(tmp_path, _versioned("quarantine_tolerance:\n" + bad)), "2025-06")


def test_the_gate_stops_only_when_share_and_count_are_both_exceeded():
    policy = load_policy(MINIMAL_POLICY, "2025-01")
    tolerance = policy.quarantine_tolerance("pmlp")
    assert not tolerance.exceeded(quarantined=1, records=18)        # 5.6 % but 1 record
    assert not tolerance.exceeded(quarantined=60, records=100_000)  # 60 records but 0.06 %
    assert tolerance.exceeded(quarantined=51, records=1_000)        # 5.1 % and 51 records
    assert not tolerance.exceeded(quarantined=50, records=1_000)    # not more than 50
