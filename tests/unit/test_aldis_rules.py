"""Each §12 rule on hand-made records: the function that names a reason says yes exactly when it should."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from pipeline.decide import aldis
from pipeline.decide.aldis import AldisFacts, AldisReason, decide_protected_users, first_failing_reason
from pipeline.sources.contracts import Contract, ContractLists
from pipeline.sources.sopa import ProtectedUser
from pipeline.traders import Trader, TraderRegister
from tests.aldis_builders import ENEFIT, LATVENERGO, MVBK, TET
from tests.builders import person_code

D = dt.date
REGISTER = TraderRegister((Trader(LATVENERGO, "Latvenergo", "2022-03"), Trader(TET, "Tet", "2022-03"),
                           Trader(ENEFIT, "Enefit", None), Trader(MVBK, "MVBK", "2025-01")), "sha256:x")


def lists(**per_trader: dict[str, str]) -> ContractLists:
    result = ContractLists(staged=pd.DataFrame())
    for reg_no, contracts in per_trader.items():
        result.contracts[reg_no] = {n: Contract(n, "100000010", f"addr {n}", s) for n, s in contracts.items()}
    return result


FACTS = AldisFacts("2025-01", REGISTER, lists(**{LATVENERGO: {"E-1": "ACTIVE", "E-2": "CLOSED"},
                                                MVBK: {"M-1": "ACTIVE"}}))


def user(record: int = 1, file: str = "a.xml", **fields: object) -> ProtectedUser:
    values: dict[str, object] = {"person_code": person_code(record), "application_status": "Pabeigts",
                                 "decision_number": "SD-1", "valid_from": D(2024, 11, 1), "valid_to": D(2025, 4, 30),
                                 "contract_number": "E-1", "trader_reg_no": LATVENERGO}
    values.update(fields)
    return ProtectedUser(file=file, record=record, **values)  # type: ignore[arg-type]


def test_a_complete_record_passes_every_rule():
    assert first_failing_reason(user(), FACTS) is None


def test_invalid_person_code():
    assert aldis.invalid_person_code(user(person_code="999999-99999"), FACTS)
    assert aldis.invalid_person_code(user(person_code=""), FACTS)
    assert not aldis.invalid_person_code(user(), FACTS)


def test_status_not_final():
    assert aldis.status_not_final(user(application_status="Procesā"), FACTS)
    assert aldis.status_not_final(user(application_status="pabeigts"), FACTS)  # exactly "Pabeigts"
    assert not aldis.status_not_final(user(), FACTS)


def test_no_decision():
    assert aldis.no_decision(user(decision_number=""), FACTS)
    assert not aldis.no_decision(user(), FACTS)


@pytest.mark.parametrize(("valid_from", "valid_to", "outside"), [
    (D(2024, 12, 1), D(2025, 1, 1), False),    # valid only on P's first day
    (D(2025, 1, 31), D(2025, 6, 30), False),   # valid only on P's last day
    (D(2025, 1, 10), D(2025, 1, 12), False),   # inside P
    (D(2024, 6, 1), D(2024, 12, 31), True),    # ends the day before P
    (D(2025, 2, 1), D(2025, 7, 31), True),     # starts the day after P
    (D(2025, 1, 20), D(2025, 1, 10), True),    # ends before it starts: valid on no day
    (None, D(2025, 4, 30), True),              # unreadable date
])
def test_decision_not_in_period_on_the_month_boundaries(valid_from, valid_to, outside):
    assert aldis.decision_not_in_period(user(valid_from=valid_from, valid_to=valid_to), FACTS) is outside


def test_no_contract():
    assert aldis.no_contract(user(contract_number=""), FACTS)
    assert aldis.no_contract(user(trader_reg_no=""), FACTS)
    assert not aldis.no_contract(user(), FACTS)


def test_trader_not_connected():
    assert aldis.trader_not_connected(user(trader_reg_no=ENEFIT), FACTS)          # test environment only
    assert aldis.trader_not_connected(user(trader_reg_no="40000000001"), FACTS)   # not in the register
    assert not aldis.trader_not_connected(user(trader_reg_no=MVBK), FACTS)        # production starts in P
    assert aldis.trader_not_connected(user(trader_reg_no=MVBK), AldisFacts("2024-12", REGISTER, FACTS.contracts))


def test_contract_list_missing():
    assert aldis.contract_list_missing(user(trader_reg_no=TET), FACTS)
    assert not aldis.contract_list_missing(user(), FACTS)


def test_contract_not_found_includes_a_closed_contract():
    assert aldis.contract_not_found(user(contract_number="E-404"), FACTS)
    assert aldis.contract_not_found(user(contract_number="E-2"), FACTS)   # CLOSED
    assert not aldis.contract_not_found(user(), FACTS)


def test_the_first_failing_reason_wins_in_the_contract_order():
    everything_wrong = user(person_code="x", application_status="Procesā", decision_number="",
                            contract_number="", trader_reg_no="")
    assert first_failing_reason(everything_wrong, FACTS) == AldisReason.INVALID_PERSON_CODE
    assert first_failing_reason(user(application_status="Procesā", decision_number=""), FACTS) == \
        AldisReason.STATUS_NOT_FINAL
    assert first_failing_reason(user(decision_number="", valid_to=D(2020, 1, 1)), FACTS) == AldisReason.NO_DECISION
    assert first_failing_reason(user(valid_to=D(2020, 1, 1), contract_number=""), FACTS) == \
        AldisReason.DECISION_NOT_IN_PERIOD
    assert first_failing_reason(user(contract_number="", trader_reg_no=ENEFIT), FACTS) == AldisReason.NO_CONTRACT
    assert first_failing_reason(user(trader_reg_no=ENEFIT), FACTS) == AldisReason.TRADER_NOT_CONNECTED
    assert first_failing_reason(user(trader_reg_no=TET, contract_number="E-404"), FACTS) == \
        AldisReason.CONTRACT_LIST_MISSING
    assert [reason for reason, _ in aldis.RULES] == list(AldisReason)[:8]


def test_duplicate_contract_the_smallest_decision_number_passes_wherever_it_sits():
    first = user(1, "a.xml", decision_number="SD-9")
    later = user(7, "b.xml", decision_number="SD-10")   # "SD-10" < "SD-9" in code-point order
    third = user(2, "a.xml", decision_number="SD-90")
    decision = decide_protected_users([first, third, later], FACTS)
    assert [(p.user.file, p.user.record) for p in decision.passed] == [("b.xml", 7)]
    assert sorted((r.user.file, r.user.record, r.reason) for r in decision.returned) == [
        ("a.xml", 1, AldisReason.DUPLICATE_CONTRACT), ("a.xml", 2, AldisReason.DUPLICATE_CONTRACT)]
    # the same records read in another order give the same winner
    again = decide_protected_users([later, third, first], FACTS)
    assert [(p.user.file, p.user.record) for p in again.passed] == [("b.xml", 7)]


def test_duplicate_contract_counts_only_records_that_passed_rules_1_to_8():
    not_final = user(1, decision_number="SD-0", application_status="Procesā")
    passing = user(2, decision_number="SD-5")
    decision = decide_protected_users([not_final, passing], FACTS)
    assert [p.user.record for p in decision.passed] == [2]
    assert [(r.user.record, r.reason) for r in decision.returned] == [(1, AldisReason.STATUS_NOT_FINAL)]


def test_same_contract_number_at_two_traders_is_no_duplicate():
    facts = AldisFacts("2025-01", REGISTER, lists(**{LATVENERGO: {"X-1": "ACTIVE"}, MVBK: {"X-1": "ACTIVE"}}))
    decision = decide_protected_users([user(1, contract_number="X-1"),
                                       user(2, contract_number="X-1", trader_reg_no=MVBK)], facts)
    assert len(decision.passed) == 2 and not decision.returned
