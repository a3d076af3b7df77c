"""What each supplier is paid for P (CONTRACTS §13 `payout.csv`), in integer cents so sums are exact.

`payout = accepted − previously paid`: a correction after an approval pays only the difference, and a negative
payout is what the bureau recovers.
"""

from __future__ import annotations

import hashlib
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


def payout_digest(period: str, run_id: str, rows: Sequence[SupplierPayout]) -> str:
    """sha256 naming exactly what an approval pays: the period, the run and every payout row in cents.

    The check returns it (the approval request and the CLI preview show it) and keeps it outside the outbox; the
    approval re-derives the rows from the run's `claim_result.csv` files and the ledger and pays only if the
    digest is the same, so nothing edited after the check, and no ledger that moved, is paid."""
    lines = [f"{period}\n{run_id}\n"] + [
        f"{p.supplier};{p.claimed_cents};{p.accepted_cents};{p.previously_paid_cents};{p.payout_cents}\n"
        for p in rows]
    return hashlib.sha256("".join(lines).encode("utf-8")).hexdigest()
