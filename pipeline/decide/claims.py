"""The rules of CONTRACTS §13: each claim line against what was published for its supplier, first failing reason wins.

One named pure function per reason, applied in the contract's order by `decide_supplier`:
MALFORMED, NOT_CLAIMABLE, UNKNOWN_OBJECT, NOT_ELIGIBLE, SUPPORT_NOT_ON, DWELLINGS_EXCEEDED, DUPLICATE_CLAIM,
then OVER_CAP (the only reason that still pays: `REDUCED`). Money is `Decimal` throughout, never a float.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from pipeline.decide.claims_policy import Rate
from pipeline.sources.claims import ClaimLine, supplier_kind
from pipeline.sources.published import PublishedObject

ACCEPTED, REDUCED, REJECTED = "ACCEPTED", "REDUCED", "REJECTED"
MALFORMED = "MALFORMED"
NOT_CLAIMABLE = "NOT_CLAIMABLE"
UNKNOWN_OBJECT = "UNKNOWN_OBJECT"
NOT_ELIGIBLE = "NOT_ELIGIBLE"
SUPPORT_NOT_ON = "SUPPORT_NOT_ON"
DWELLINGS_EXCEEDED = "DWELLINGS_EXCEEDED"
DUPLICATE_CLAIM = "DUPLICATE_CLAIM"
OVER_CAP = "OVER_CAP"
PROTECTED_USER = "PROTECTED_USER"
MUNICIPALITY_PAID = frozenset({"DECENTRALISED_FUEL"})
CENT = Decimal("0.01")
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class ClaimResult:
    """One row of `claim_result.csv`."""

    supplier: str
    claim_id: str
    object_id: str | None
    support_type: str | None
    status: str
    reason: str
    claimed_eur: Decimal | None
    accepted_eur: Decimal
    correction_set: str = ""    # the §16 correction set whose row made the object claimable (ACCEPTED/REDUCED)


@dataclass(frozen=True)
class Reference:
    """What was published for one supplier: its objects (§10) and, for a trader, its protected contracts (§12)."""

    objects: Mapping[str, PublishedObject]
    protected_contracts: frozenset[str]


def malformed(line: ClaimLine) -> str | None:
    """1. A value broke its §13 rule, or the claim id has conflicting corrections (the reader set `defect`)."""
    return MALFORMED if line.defect else None


def not_claimable(line: ClaimLine) -> str | None:
    """2. Decentralised fuel is paid by municipalities; protected users exist only on electricity bills."""
    if line.support_type in MUNICIPALITY_PAID:
        return NOT_CLAIMABLE
    if line.support_type == PROTECTED_USER and supplier_kind(line.supplier) != "traders_electricity":
        return NOT_CLAIMABLE
    return None


def unknown_object(line: ClaimLine, reference: Reference) -> str | None:
    """3. The object is not in this supplier's own published file (protected users: its protected contracts)."""
    if line.support_type == PROTECTED_USER:
        return None if line.object_id in reference.protected_contracts else UNKNOWN_OBJECT
    return None if line.object_id in reference.objects else UNKNOWN_OBJECT


def not_eligible(line: ClaimLine, reference: Reference) -> str | None:
    """4. The published row says `eligible` 0 (not checked for protected users: their list is the eligibility)."""
    if line.support_type == PROTECTED_USER:
        return None
    return None if reference.objects[str(line.object_id)].eligible else NOT_ELIGIBLE


def support_not_on(line: ClaimLine, reference: Reference) -> str | None:
    """5. The type is not among the published row's `support_types` (not checked for protected users)."""
    if line.support_type == PROTECTED_USER:
        return None
    return None if line.support_type in reference.objects[str(line.object_id)].support_types else SUPPORT_NOT_ON


def dwellings_exceeded(line: ClaimLine, reference: Reference) -> str | None:
    """6. More dwellings than published (`eligible_dwellings`; a protected user's contract is one dwelling)."""
    allowed = 1 if line.support_type == PROTECTED_USER else reference.objects[str(line.object_id)].eligible_dwellings
    return DWELLINGS_EXCEEDED if (line.dwellings or 0) > allowed else None


def duplicate_claims(passed: list[ClaimLine]) -> set[str]:
    """7. Claim ids that repeat an (`object_id`, `support_type`) of another line that passed 1-6; of those the
    smallest claim id (code-point order) is kept, the others are DUPLICATE_CLAIM."""
    kept: dict[tuple[str | None, str | None], str] = {}
    duplicates: set[str] = set()
    for line in sorted(passed, key=lambda item: item.claim_id):
        key = (line.object_id, line.support_type)
        if key in kept:
            duplicates.add(line.claim_id)
        else:
            kept[key] = line.claim_id
    return duplicates


def cap_eur(rate: Rate, quantity_kwh: Decimal, dwellings: int) -> Decimal:
    """8. `cap = round_half_up(rate × min(quantity_kwh, max_kwh_per_dwelling × dwellings), 2)`.

    Exact decimal arithmetic, rounded once, half up to the cent (0.05 €/kWh × 0.3 kWh = 0.015 -> 0.02). Without a
    `max_kwh_per_dwelling` the whole quantity counts.
    """
    counted = quantity_kwh
    if rate.max_kwh_per_dwelling is not None:
        counted = min(quantity_kwh, Decimal(rate.max_kwh_per_dwelling) * dwellings)
    return (rate.rate_eur_per_kwh * counted).quantize(CENT, rounding=ROUND_HALF_UP)


def over_cap(line: ClaimLine, rate: Rate) -> tuple[Decimal, str | None]:
    """8. `accepted_eur = min(amount_eur, cap)`; OVER_CAP when the cap cut anything."""
    amount = line.amount_eur if line.amount_eur is not None else ZERO
    cap = cap_eur(rate, line.quantity_kwh or ZERO, line.dwellings or 1)
    return (cap, OVER_CAP) if amount > cap else (amount.quantize(CENT), None)


def first_reason(line: ClaimLine, reference: Reference) -> str | None:
    """Reasons 1-6 in the contract's order; None when the line passed them all."""
    for check in (malformed, not_claimable):
        if reason := check(line):
            return reason
    for check_ref in (unknown_object, not_eligible, support_not_on, dwellings_exceeded):
        if reason := check_ref(line, reference):
            return reason
    return None


def decide_supplier(lines: list[ClaimLine], reference: Reference, rates: Mapping[str, Rate]) -> list[ClaimResult]:
    """Every claim line of one supplier (after corrections) decided, in claim id order."""
    reasons = {line.claim_id: first_reason(line, reference) for line in lines}
    duplicates = duplicate_claims([line for line in lines if reasons[line.claim_id] is None])
    results = []
    for line in sorted(lines, key=lambda item: item.claim_id):
        reason = reasons[line.claim_id] or (DUPLICATE_CLAIM if line.claim_id in duplicates else None)
        if reason:
            results.append(_result(line, REJECTED, reason, ZERO))
            continue
        accepted, cut = over_cap(line, rates[str(line.support_type)])
        results.append(_result(line, REDUCED if cut else ACCEPTED, cut or "", accepted, _set_of(line, reference)))
    return results


def _set_of(line: ClaimLine, reference: Reference) -> str:
    """The correction set (§16) of the row a paid line was checked against; empty for the original file."""
    found = reference.objects.get(str(line.object_id)) if line.support_type != PROTECTED_USER else None
    return found.correction_set if found else ""


def _result(line: ClaimLine, status: str, reason: str, accepted: Decimal, correction_set: str = "") -> ClaimResult:
    claimed = line.amount_eur.quantize(CENT) if line.amount_eur is not None else None
    return ClaimResult(line.supplier, line.claim_id, line.object_id, line.support_type, status, reason, claimed,
                       accepted, correction_set)
