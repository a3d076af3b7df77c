"""Each §13 rule on its own, with hand-computed expectations (rates: the §13 defaults, as in the policy file)."""

from __future__ import annotations

import math
from dataclasses import replace
from decimal import Decimal

import pytest

from pipeline.decide.approval import ApprovalRefused, four_eyes
from pipeline.decide.audit_sample import audit_sample, draw_key
from pipeline.decide.claims import (
    ClaimResult,
    Reference,
    cap_eur,
    decide_supplier,
    duplicate_claims,
    dwellings_exceeded,
    first_reason,
    malformed,
    not_claimable,
    not_eligible,
    over_cap,
    support_not_on,
    unknown_object,
)
from pipeline.decide.claims_policy import Rate
from pipeline.decide.payouts import eur, payouts
from pipeline.publish.runs import approved_run, point_at_approved
from pipeline.sources.claims import ClaimLine
from pipeline.sources.published import PublishedObject

RATES = {
    "ELECTRICITY_BASE": Rate(Decimal("0.10"), 100),
    "ELECTRICITY_HEATING": Rate(Decimal("0.05")),
    "GAS_HEATING": Rate(Decimal("0.03")),
    "DISTRICT_HEAT": Rate(Decimal("0.04")),
    "PROTECTED_USER": Rate(Decimal("0.10"), 100),
}
TRADER = "traders_electricity/40000000001"
HEAT = "heat/40000000003"
REFERENCE = Reference(
    objects={"E1": PublishedObject(True, 1, frozenset({"ELECTRICITY_BASE", "ELECTRICITY_HEATING"})),
             "E2": PublishedObject(True, 3, frozenset({"ELECTRICITY_BASE"})),
             "H2": PublishedObject(False, 0, frozenset())},
    protected_contracts=frozenset({"K-1"}),
)


def line(claim_id: str = "A1", object_id: str = "E1", support: str = "ELECTRICITY_BASE", dwellings: int = 1,
         quantity: str = "10.000", amount: str = "1.00", supplier: str = TRADER,
         defect: str | None = None) -> ClaimLine:
    return ClaimLine(supplier, "a.csv", 2, claim_id, "2026-02-03T10:00:00", object_id, support, dwellings,
                     Decimal(quantity), Decimal(amount), defect)


def test_cap_is_exact_and_rounds_half_up_once():
    # 0.05 EUR/kWh x 0.3 kWh = 0.015 EUR -> 0.02 (a float product would be 0.015000000000000001 or worse).
    assert cap_eur(Rate(Decimal("0.05")), Decimal("0.300"), 1) == Decimal("0.02")
    # 0.04 x 250.125 = 10.005: exactly half a cent, half-up gives 10.01 (banker's rounding would give 10.00).
    assert cap_eur(Rate(Decimal("0.04")), Decimal("250.125"), 1) == Decimal("10.01")
    # 0.05 x 0.5 = 0.025 -> 0.03 (half-even: 0.02).
    assert cap_eur(Rate(Decimal("0.05")), Decimal("0.500"), 1) == Decimal("0.03")
    # max_kwh_per_dwelling: 0.10 x min(450, 100 x 3) = 30.00; within the limit the whole quantity counts.
    assert cap_eur(RATES["ELECTRICITY_BASE"], Decimal("450.000"), 3) == Decimal("30.00")
    assert cap_eur(RATES["ELECTRICITY_BASE"], Decimal("80.000"), 1) == Decimal("8.00")
    # no max_kwh_per_dwelling: 0.03 x 10000 = 300.00
    assert cap_eur(RATES["GAS_HEATING"], Decimal("10000.000"), 1) == Decimal("300.00")


def test_over_cap_accepts_the_smaller_of_amount_and_cap():
    assert over_cap(line(support="ELECTRICITY_HEATING", quantity="0.300", amount="0.05"),
                    RATES["ELECTRICITY_HEATING"]) == (Decimal("0.02"), "OVER_CAP")
    assert over_cap(line(quantity="80.000", amount="8.00"), RATES["ELECTRICITY_BASE"]) == (Decimal("8.00"), None)
    assert over_cap(line(quantity="80.000", amount="0.00"), RATES["ELECTRICITY_BASE"]) == (Decimal("0.00"), None)


def test_malformed():
    assert malformed(line(defect="BAD_AMOUNT")) == "MALFORMED"
    assert malformed(line(defect="CONFLICTING_CORRECTION")) == "MALFORMED"
    assert malformed(line()) is None


def test_not_claimable():
    assert not_claimable(line(support="DECENTRALISED_FUEL", supplier=HEAT)) == "NOT_CLAIMABLE"
    assert not_claimable(line(support="PROTECTED_USER", object_id="K-1", supplier=HEAT)) == "NOT_CLAIMABLE"
    assert not_claimable(line(support="PROTECTED_USER", object_id="K-1",
                              supplier="traders_gas/40000000002")) == "NOT_CLAIMABLE"
    assert not_claimable(line(support="PROTECTED_USER", object_id="K-1")) is None
    assert not_claimable(line()) is None


def test_unknown_object():
    assert unknown_object(line(object_id="E9"), REFERENCE) == "UNKNOWN_OBJECT"
    assert unknown_object(line(object_id="K-2", support="PROTECTED_USER"), REFERENCE) == "UNKNOWN_OBJECT"
    # a contract number is looked up among the protected contracts, not the connection objects
    assert unknown_object(line(object_id="E1", support="PROTECTED_USER"), REFERENCE) == "UNKNOWN_OBJECT"
    assert unknown_object(line(object_id="K-1", support="PROTECTED_USER"), REFERENCE) is None
    assert unknown_object(line(), REFERENCE) is None


def test_not_eligible():
    assert not_eligible(line(object_id="H2", support="DISTRICT_HEAT"), REFERENCE) == "NOT_ELIGIBLE"
    assert not_eligible(line(), REFERENCE) is None
    assert not_eligible(line(object_id="K-1", support="PROTECTED_USER"), REFERENCE) is None


def test_support_not_on():
    assert support_not_on(line(support="GAS_HEATING"), REFERENCE) == "SUPPORT_NOT_ON"
    assert support_not_on(line(object_id="E2", support="ELECTRICITY_HEATING"), REFERENCE) == "SUPPORT_NOT_ON"
    assert support_not_on(line(support="ELECTRICITY_HEATING"), REFERENCE) is None
    assert support_not_on(line(object_id="K-1", support="PROTECTED_USER"), REFERENCE) is None


def test_dwellings_exceeded():
    assert dwellings_exceeded(line(object_id="E2", dwellings=4), REFERENCE) == "DWELLINGS_EXCEEDED"
    assert dwellings_exceeded(line(object_id="E2", dwellings=3), REFERENCE) is None
    assert dwellings_exceeded(line(object_id="K-1", support="PROTECTED_USER", dwellings=2),
                              REFERENCE) == "DWELLINGS_EXCEEDED"
    assert dwellings_exceeded(line(object_id="K-1", support="PROTECTED_USER", dwellings=1), REFERENCE) is None


def test_duplicate_claim_keeps_the_smallest_claim_id_in_code_point_order():
    lines = [line("b"), line("B"), line("a", support="ELECTRICITY_HEATING"), line("A2")]
    # "A2" < "B" < "b" in code points: A2 is kept, B and b are duplicates; "a" is another type.
    assert duplicate_claims(lines) == {"B", "b"}


def test_first_failing_reason_wins_in_contract_order():
    # unknown object AND decentralised fuel: NOT_CLAIMABLE (2) comes before UNKNOWN_OBJECT (3)
    assert first_reason(line(object_id="E9", support="DECENTRALISED_FUEL"), REFERENCE) == "NOT_CLAIMABLE"
    # malformed beats everything
    assert first_reason(line(object_id="E9", support="DECENTRALISED_FUEL", defect="BAD_DWELLINGS"),
                        REFERENCE) == "MALFORMED"
    # not eligible (4) before support not on (5) before dwellings (6)
    assert first_reason(line(object_id="H2", support="DISTRICT_HEAT", dwellings=5), REFERENCE) == "NOT_ELIGIBLE"
    assert first_reason(line(support="GAS_HEATING", dwellings=5), REFERENCE) == "SUPPORT_NOT_ON"


def test_a_line_failing_1_to_6_does_not_make_another_a_duplicate():
    # A0 claims too many dwellings (rejected at 6), so A1 for the same object and type is not its duplicate.
    results = decide_supplier([line("A0", dwellings=2), line("A1", quantity="80.000", amount="8.00")], REFERENCE,
                              RATES)
    assert [(r.claim_id, r.status, r.reason, r.accepted_eur) for r in results] == [
        ("A0", "REJECTED", "DWELLINGS_EXCEEDED", Decimal("0.00")),
        ("A1", "ACCEPTED", "", Decimal("8.00")),
    ]


def test_decide_supplier_statuses_and_amounts():
    results = decide_supplier([
        line("A3", object_id="E2", dwellings=3, quantity="450.000", amount="40.00"),
        line("A4", object_id="E2", quantity="10.000", amount="1.00"),
        line("A8", object_id="K-1", support="PROTECTED_USER", quantity="150.000", amount="12.00"),
        replace(line("A9", defect="BAD_AMOUNT"), amount_eur=None),
    ], REFERENCE, RATES)
    assert [(r.claim_id, r.status, r.reason, r.claimed_eur, r.accepted_eur) for r in results] == [
        ("A3", "REDUCED", "OVER_CAP", Decimal("40.00"), Decimal("30.00")),
        ("A4", "REJECTED", "DUPLICATE_CLAIM", Decimal("1.00"), Decimal("0.00")),
        ("A8", "REDUCED", "OVER_CAP", Decimal("12.00"), Decimal("10.00")),
        ("A9", "REJECTED", "MALFORMED", None, Decimal("0.00")),  # unreadable amount: claimed_eur empty
    ]


def _paid(supplier: str, claim_id: str, accepted: str) -> ClaimResult:
    return ClaimResult(supplier, claim_id, "E1", "ELECTRICITY_BASE", "ACCEPTED", "", Decimal(accepted),
                       Decimal(accepted))


def test_audit_sample_takes_the_three_largest_then_one_percent_by_the_run_seed():
    lines = [_paid(TRADER, f"C{i:04d}", "1.00") for i in range(1, 105)]
    lines += [_paid(TRADER, "Z1", "9.00"), _paid(TRADER, "Z2", "5.00"), _paid(TRADER, "Y9", "5.00")]
    lines.append(ClaimResult(TRADER, "R1", "E1", "ELECTRICITY_BASE", "REJECTED", "UNKNOWN_OBJECT", Decimal("99"),
                             Decimal("0.00")))
    sample = audit_sample(lines, "2026-01-abc")
    ids = [r.claim_id for r in sample]
    # largest: Z1 (9.00), then the 5.00 tie broken by the smaller claim id: Y9, Z2 — then C0001 (1.00) is NOT taken
    # as "largest" because only three are; the 104 remaining 1.00 lines give ceil(104 x 1 %) = 2 drawn lines.
    assert {"Z1", "Y9", "Z2"} <= set(ids) and "R1" not in ids
    assert len(sample) == 3 + math.ceil(104 / 100) == 5
    rest = sorted((f"C{i:04d}" for i in range(1, 105)), key=lambda c: draw_key("2026-01-abc", TRADER, c))
    assert sorted(set(ids) - {"Z1", "Y9", "Z2"}) == sorted(rest[:2])
    assert ids == sorted(ids)  # by supplier, then claim id
    # the same run draws the same sample; another run id draws (here) another one
    assert audit_sample(lines, "2026-01-abc") == sample
    assert audit_sample(lines, "2026-01-xyz") != sample


def test_audit_sample_of_a_small_supplier_is_all_its_paid_lines():
    lines = [_paid(HEAT, "H1", "2.00"), _paid(HEAT, "H2", "3.00")]
    assert [r.claim_id for r in audit_sample(lines, "r")] == ["H1", "H2"]


def test_payouts_sum_exactly_and_subtract_what_was_paid():
    results = [_paid(TRADER, "A", "0.10"), _paid(TRADER, "B", "0.20"), _paid(HEAT, "H", "1.00"),
               ClaimResult(TRADER, "C", None, None, "REJECTED", "MALFORMED", None, Decimal("0.00"))]
    rows = payouts(results, {TRADER: 50})
    assert [(p.supplier, eur(p.claimed_cents), eur(p.accepted_cents), eur(p.previously_paid_cents),
             eur(p.payout_cents)) for p in rows] == [
        (HEAT, "1.00", "1.00", "0.00", "1.00"),
        (TRADER, "0.30", "0.30", "0.50", "-0.20"),  # 0.1 + 0.2 is 0.30 exactly; negative = recovery
    ]


def test_a_supplier_paid_before_gets_a_row_even_without_claims_now():
    """Issue 20.3: a supplier that withdrew every line (or whose folder is gone) after a payout must see the
    recovery: accepted 0, previously paid what the ledger holds, payout its negative."""
    rows = payouts([_paid(TRADER, "A", "0.10")], {TRADER: 10, HEAT: 1001})
    assert [(p.supplier, eur(p.claimed_cents), eur(p.accepted_cents), eur(p.previously_paid_cents),
             eur(p.payout_cents)) for p in rows] == [
        (HEAT, "0.00", "0.00", "10.01", "-10.01"),
        (TRADER, "0.10", "0.10", "0.10", "0.00"),
    ]


def test_four_eyes_records_the_second_person_by_name_and_id():
    assert four_eyes((), {"id": "bob", "name": "bob"}, "alice") == "bob"
    assert four_eyes(("7",), {"id": "7", "name": "bob"}, "alice") == "bob (id 7)"  # a FAB user: numeric id


@pytest.mark.parametrize(("responder", "trigger", "approvers", "refusal"), [
    ({"id": "alice", "name": "alice"}, "alice", (), "triggered this run"),
    ({"id": "7", "name": "alice"}, "alice", (), "triggered this run"),       # a FAB user: numeric id, name matches
    ({"id": "bob", "name": "bob"}, "alice", ("carol",), "not among the payout approvers"),
    ({"id": "bob", "name": "bob"}, None, (), "no triggering user"),
    ({"id": "bob", "name": "bob"}, "", (), "no triggering user"),
    ({}, "alice", (), "no approver identity"),
    (None, "alice", (), "no approver identity"),
])
def test_four_eyes_refuses_the_trigger_an_unlisted_or_an_unknown_person(responder, trigger, approvers, refusal):
    with pytest.raises(ApprovalRefused, match=refusal):
        four_eyes(approvers, responder, trigger)


def test_a_period_folder_of_the_old_layout_is_kept_under_runs_when_an_approval_points_p_elsewhere(tmp_path):
    old = tmp_path / "2026-01"
    old.mkdir()
    (old / "manifest.json").write_text('{"run_id": "2026-01-aaaaaaaaaaaa"}', encoding="utf-8")
    (tmp_path / "runs" / "2026-01" / "2026-01-bbbbbbbbbbbb").mkdir(parents=True)
    point_at_approved(tmp_path, "2026-01", "2026-01-bbbbbbbbbbbb")
    assert approved_run(tmp_path, "2026-01") == "2026-01-bbbbbbbbbbbb"
    assert (tmp_path / "runs" / "2026-01" / "2026-01-aaaaaaaaaaaa" / "manifest.json").is_file()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
