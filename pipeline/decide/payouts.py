"""What each supplier is paid for P (CONTRACTS §13 `payout.csv`), in integer cents so sums are exact.

`payout = accepted − previously paid`: a correction after an approval pays only the difference, and a negative
payout is what the bureau recovers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from pipeline.decide.claims import ClaimResult


@dataclass(frozen=True)
class SupplierPayout:
    """One row of `payout.csv`, in cents."""

    supplier: str
    claimed_cents: int
    accepted_cents: int
    previously_paid_cents: int

    @property
    def payout_cents(self) -> int:
        return self.accepted_cents - self.previously_paid_cents


def eur(cents: int) -> str:
    """Integer cents as EUR with two decimals and a `.` point (`-500` -> `-5.00`)."""
    return str(Decimal(cents).scaleb(-2))


def to_cents(amount: Decimal) -> int:
    """A Decimal of at most two decimals as integer cents (exact: amounts were validated or rounded to cents)."""
    return int(amount.scaleb(2))


def payouts(results: Sequence[ClaimResult], paid_cents: Mapping[str, int]) -> list[SupplierPayout]:
    """One row per supplier that sent claims or was paid for P before, by supplier: sums of its result columns and
    what approvals paid. A supplier paid before keeps its row when it withdrew every line or its folder is gone:
    its accepted total is then 0 and the row recovers what was paid."""
    totals: dict[str, tuple[int, int]] = {supplier: (0, 0) for supplier in paid_cents}
    for result in results:
        claimed, accepted = totals.get(result.supplier, (0, 0))
        if result.claimed_eur is not None:
            claimed += to_cents(result.claimed_eur)
        totals[result.supplier] = (claimed, accepted + to_cents(result.accepted_eur))
    return [SupplierPayout(supplier, claimed, accepted, paid_cents.get(supplier, 0))
            for supplier, (claimed, accepted) in sorted(totals.items())]
