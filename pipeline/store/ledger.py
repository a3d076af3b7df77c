"""The payout ledger (CONTRACTS §13): what each approved claims run paid each supplier for P. Append-only.

This module has exactly two ways in: read the entries of P, and append one approval. There is no update or delete
path; the database refuses them too (triggers in `sql/002_claims.sql`). Money is integer cents.

Paying twice is prevented by the database, not by hope: `approve` recomputes "previously paid" inside its own
transaction and refuses when it differs from what the approved `payout.csv` shows (the ledger moved since the
check), and each entry takes the next `seq` of its (period, supplier), which is the primary key, so two approvals
computed against the same ledger state cannot both commit; `(period, supplier, run_id)` is unique as well.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping

from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError

from pipeline.decide.payouts import SupplierPayout
from pipeline.errors import EikisError
from pipeline.store.db import audit, connect


class LedgerError(EikisError):
    """An approval that the ledger refuses (already recorded, or the ledger moved since the check)."""


def _paid(conn: Connection, period: str) -> dict[str, tuple[int, int]]:
    rows = conn.execute(text("SELECT supplier, COALESCE(SUM(payout_cents), 0), COUNT(*) FROM payout_ledger "
                             "WHERE period = :period GROUP BY supplier"), {"period": period})
    return {supplier: (int(total), int(count)) for supplier, total, count in rows}


def previously_paid(url: str, period: str) -> dict[str, int]:
    """Cents paid so far for P per supplier: the sum of every approved entry (recoveries are negative)."""
    with connect(url).connect() as conn:
        return {supplier: total for supplier, (total, _) in _paid(conn, period).items()}


def ledger_state(url: str, period: str) -> list[tuple[str, int, str, int]]:
    """(supplier, seq, run_id, payout_cents) of every entry of P: part of a claims run's identity."""
    with connect(url).connect() as conn:
        rows = conn.execute(text("SELECT supplier, seq, run_id, payout_cents FROM payout_ledger WHERE period = :p "
                                 "ORDER BY supplier, seq"), {"p": period})
        return [(str(s), int(q), str(r), int(c)) for s, q, r, c in rows]


def record_check(url: str, period: str, run_id: str, payout_digest: str) -> None:
    """Keep the digest a check of P returned (`claims_checks`, append-only); a run checked again adds nothing.

    A run id names its inputs and the ledger state, so the same run always derives the same rows: a different
    digest for a run already kept means the derivation itself changed, and nothing may be approved on it."""
    with connect(url).begin() as conn:
        conn.execute(text("INSERT INTO claims_checks (period, run_id, payout_digest, checked_at) VALUES (:p, :r, :d, "
                          ":at) ON CONFLICT (period, run_id) DO NOTHING"),
                     {"p": period, "r": run_id, "d": payout_digest, "at": dt.datetime.now(dt.UTC).replace(tzinfo=None)})
        kept = conn.execute(text("SELECT payout_digest FROM claims_checks WHERE period = :p AND run_id = :r"),
                            {"p": period, "r": run_id}).scalar_one()
    if kept != payout_digest:
        raise LedgerError(f"run {run_id} for {period} was checked before with another payout digest; nothing can be "
                          "approved on it (report this: the same inputs must give the same payout)")


def checked_digest(url: str, period: str, run_id: str) -> str | None:
    """The payout digest the check of `run_id` returned, or None when no check of P had that run id."""
    with connect(url).connect() as conn:
        return conn.execute(text("SELECT payout_digest FROM claims_checks WHERE period = :p AND run_id = :r"),
                            {"p": period, "r": run_id}).scalar_one_or_none()


def approve(url: str, period: str, run_id: str, payouts: list[SupplierPayout], payout_sha256: str, *,
            approved_by: str, triggered_by: str | None = None) -> int:
    """Append one entry per supplier of this run, all or none, each naming who approved it (the audit event names
    who triggered the run too: the two people of the four-eyes rule); returns the entries written."""
    engine = connect(url)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # Serialise approvals of the ledger (reads stay allowed): the check below then sees the final state.
                conn.exec_driver_sql("LOCK TABLE payout_ledger IN SHARE ROW EXCLUSIVE MODE")
            paid = _paid(conn, period)
            _refuse_if_moved(period, payouts, paid)
            for item in payouts:
                conn.execute(text(
                    "INSERT INTO payout_ledger (period, supplier, seq, run_id, approved_at, claimed_cents, "
                    "accepted_cents, previously_paid_cents, payout_cents, payout_sha256, approved_by) VALUES (:period, "
                    ":supplier, :seq, :run_id, :at, :claimed, :accepted, :previous, :payout, :sha, :by)"),
                    {"period": period, "supplier": item.supplier, "seq": paid.get(item.supplier, (0, 0))[1] + 1,
                     "run_id": run_id, "at": now, "claimed": item.claimed_cents, "accepted": item.accepted_cents,
                     "previous": item.previously_paid_cents, "payout": item.payout_cents, "sha": payout_sha256,
                     "by": approved_by})
            audit(conn, period, run_id, "PAYOUT_APPROVED", json.dumps({
                "suppliers": len(payouts), "payout_cents": sum(p.payout_cents for p in payouts),
                "approved_by": approved_by, "triggered_by": triggered_by}, sort_keys=True))
    except IntegrityError:
        raise LedgerError(f"run {run_id} for {period} is already recorded in the payout ledger (or another approval "
                          "committed first); nothing was recorded") from None
    return len(payouts)


def _refuse_if_moved(period: str, payouts: list[SupplierPayout], paid: Mapping[str, tuple[int, int]]) -> None:
    moved = sorted(p.supplier for p in payouts if p.previously_paid_cents != paid.get(p.supplier, (0, 0))[0])
    if moved:
        raise LedgerError(f"the payout ledger for {period} changed since this check ({', '.join(moved)}): re-run the "
                          "check and approve its new payout.csv; nothing was recorded")
