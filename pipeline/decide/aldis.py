"""The ALDIS rules (CONTRACTS §12): which SOPA records are passed to their trader, and why the others go back.

Each reason is one named, pure function of a record and the month's facts (`AldisFacts`); `RULES` lists them in
the contract's order and the first that applies is the record's reason. The ninth, DUPLICATE_CONTRACT, compares
records with each other, so it runs last over the records that passed the first eight: per (trader, contract
number) the record with the smallest `DecisionNumber` (code-point order) passes, wherever it sits in the files;
when two carry the same number, the one earlier in (file, record) order passes, so the result never depends on
the order the files were read in.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

from pipeline.period import parse_month
from pipeline.quality import personcode
from pipeline.sources.contracts import Contract, ContractLists
from pipeline.sources.sopa import ProtectedUser
from pipeline.traders import TraderRegister

FINAL_STATUS = "Pabeigts"


class AldisReason(StrEnum):
    """Why a SOPA record goes back to SOPA, in the order §12 checks them."""

    INVALID_PERSON_CODE = "INVALID_PERSON_CODE"
    STATUS_NOT_FINAL = "STATUS_NOT_FINAL"
    NO_DECISION = "NO_DECISION"
    DECISION_NOT_IN_PERIOD = "DECISION_NOT_IN_PERIOD"
    NO_CONTRACT = "NO_CONTRACT"
    TRADER_NOT_CONNECTED = "TRADER_NOT_CONNECTED"
    CONTRACT_LIST_MISSING = "CONTRACT_LIST_MISSING"
    CONTRACT_NOT_FOUND = "CONTRACT_NOT_FOUND"
    DUPLICATE_CONTRACT = "DUPLICATE_CONTRACT"


@dataclass(frozen=True)
class AldisFacts:
    """What the rules need to know about month P besides the record itself."""

    period: str
    register: TraderRegister
    contracts: ContractLists

    @property
    def first_day(self) -> dt.date:
        index = parse_month(self.period)
        return dt.date(index // 12, index % 12 + 1, 1)

    @property
    def last_day(self) -> dt.date:
        first = self.first_day
        return first.replace(day=calendar.monthrange(first.year, first.month)[1])


def invalid_person_code(user: ProtectedUser, facts: AldisFacts) -> bool:
    """1. The §3 personal-code rule fails (the record is also quarantined)."""
    return not personcode.is_valid(user.person_code)


def status_not_final(user: ProtectedUser, facts: AldisFacts) -> bool:
    """2. Only a finished application (`Pabeigts`) counts (seed 000: "Iesnieguma statuss 'Pabeigts'")."""
    return user.application_status != FINAL_STATUS


def no_decision(user: ProtectedUser, facts: AldisFacts) -> bool:
    """3. No registered decision: `DecisionNumber` missing or empty."""
    return not user.decision_number


def decision_not_in_period(user: ProtectedUser, facts: AldisFacts) -> bool:
    """4. The decision is valid on no day of P. Both ends are inclusive, so a decision valid only on P's first or
    only on its last day passes. A date that cannot be read gives no valid day, and neither does a range that
    ends before it starts."""
    if user.valid_from is None or user.valid_to is None:
        return True
    return max(user.valid_from, facts.first_day) > min(user.valid_to, facts.last_day)


def no_contract(user: ProtectedUser, facts: AldisFacts) -> bool:
    """5. Without a contract number and a trader the person gets no reduction (seed 000)."""
    return not user.contract_number or not user.trader_reg_no


def trader_not_connected(user: ProtectedUser, facts: AldisFacts) -> bool:
    """6. The trader is not in the register, or is not in production for P (seed 002)."""
    trader = facts.register.get(user.trader_reg_no)
    return trader is None or not trader.in_production(facts.period)


def contract_list_missing(user: ProtectedUser, facts: AldisFacts) -> bool:
    """7. The trader sent no contract file for P."""
    return not facts.contracts.sent_list(user.trader_reg_no)


def contract_not_found(user: ProtectedUser, facts: AldisFacts) -> bool:
    """8. The contract number is not in the trader's list for P with status ACTIVE."""
    return facts.contracts.active(user.trader_reg_no, user.contract_number) is None


Rule = Callable[[ProtectedUser, AldisFacts], bool]

RULES: tuple[tuple[AldisReason, Rule], ...] = (
    (AldisReason.INVALID_PERSON_CODE, invalid_person_code),
    (AldisReason.STATUS_NOT_FINAL, status_not_final),
    (AldisReason.NO_DECISION, no_decision),
    (AldisReason.DECISION_NOT_IN_PERIOD, decision_not_in_period),
    (AldisReason.NO_CONTRACT, no_contract),
    (AldisReason.TRADER_NOT_CONNECTED, trader_not_connected),
    (AldisReason.CONTRACT_LIST_MISSING, contract_list_missing),
    (AldisReason.CONTRACT_NOT_FOUND, contract_not_found),
)


def first_failing_reason(user: ProtectedUser, facts: AldisFacts) -> AldisReason | None:
    """Reasons 1-8 in order; None when the record may pass (subject to reason 9)."""
    return next((reason for reason, applies in RULES if applies(user, facts)), None)


def duplicate_contracts(candidates: Iterable[ProtectedUser]) -> set[tuple[str, int]]:
    """9. DUPLICATE_CONTRACT: the (file, record) of every candidate that loses to another record of P with the
    same (trader, contract number) — the smallest `DecisionNumber` wins, then the earliest (file, record)."""
    winners: dict[tuple[str, str], ProtectedUser] = {}
    losers: set[tuple[str, int]] = set()
    for user in candidates:
        key = (user.trader_reg_no, user.contract_number)
        best = winners.get(key)
        if best is None:
            winners[key] = user
            continue
        if (user.decision_number, user.file, user.record) < (best.decision_number, best.file, best.record):
            winners[key], user = user, best
        losers.add((user.file, user.record))
    return losers


@dataclass(frozen=True)
class Passed:
    """A record passed to its trader, with the trader's own row for the contract."""

    user: ProtectedUser
    contract: Contract


@dataclass(frozen=True)
class Returned:
    user: ProtectedUser
    reason: AldisReason


@dataclass
class AldisDecision:
    passed: list[Passed]
    returned: list[Returned]


def decide_protected_users(users: Iterable[ProtectedUser], facts: AldisFacts) -> AldisDecision:
    """Apply §12 to every record of P: each ends up passed or returned with exactly one reason."""
    candidates: list[ProtectedUser] = []
    returned: list[Returned] = []
    for user in users:
        reason = first_failing_reason(user, facts)
        if reason is None:
            candidates.append(user)
        else:
            returned.append(Returned(user, reason))
    losers = duplicate_contracts(candidates)
    passed = []
    for user in candidates:
        if (user.file, user.record) in losers:
            returned.append(Returned(user, AldisReason.DUPLICATE_CONTRACT))
        else:
            contract = facts.contracts.active(user.trader_reg_no, user.contract_number)
            assert contract is not None  # guaranteed by contract_not_found
            passed.append(Passed(user, contract))
    return AldisDecision(passed=passed, returned=returned)
