"""The claims outbox of CONTRACTS §13, written into a build folder (published by `publish/atomic.py`).

`<supplier folder>/claim_result.csv` (by claim id), `payout.csv` (by supplier), `audit_sample.csv` (by supplier,
then claim id) and `manifest.json` (period, run_id, policy_digest, files: path, rows, sha256 — the §10 shape).
Nothing here depends on the clock, so the same inputs and ledger give byte-identical files. Only claim ids, object
ids (connection ids or contract numbers), support types and amounts leave: no personal code, name or income.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

from pipeline.csvio import render_csv
from pipeline.decide.claims import ClaimResult
from pipeline.decide.payouts import SupplierPayout, eur
from pipeline.handoff import RecipientFile
from pipeline.publish.companion import with_companion

RESULT_COLUMNS = ("claim_id", "object_id", "support_type", "status", "reason", "claimed_eur", "accepted_eur")
PAYOUT_COLUMNS = ("supplier", "claimed_eur", "accepted_eur", "previously_paid_eur", "payout_eur")
AUDIT_COLUMNS = ("supplier", "claim_id", "object_id", "support_type", "accepted_eur")


def _money(amount: Decimal | None) -> str:
    return "" if amount is None else str(amount)


def write_outbox(build: Path, period: str, run_id: str, policy_digest: str, results: Sequence[ClaimResult],
                 supplier_payouts: Sequence[SupplierPayout], sample: Sequence[ClaimResult]) -> dict[str, int]:
    """Write every file (with its spreadsheet companion, `publish.companion`) and the manifest into `build`;
    returns rows per file path."""
    files: dict[str, int] = {}

    def write(relative: str, header: tuple[str, ...], rows: list[tuple[object, ...]]) -> None:
        target = build / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(render_csv(header, rows))
        for item in with_companion(build, RecipientFile(relative, len(rows))):
            files[item.path] = item.rows

    by_supplier: dict[str, list[ClaimResult]] = {}
    for result in results:
        by_supplier.setdefault(result.supplier, []).append(result)
    for supplier, rows in sorted(by_supplier.items()):
        write(f"{supplier}/claim_result.csv", RESULT_COLUMNS, [
            (r.claim_id, r.object_id or "", r.support_type or "", r.status, r.reason, _money(r.claimed_eur),
             _money(r.accepted_eur)) for r in sorted(rows, key=lambda item: item.claim_id)])
    write("payout.csv", PAYOUT_COLUMNS, [
        (p.supplier, eur(p.claimed_cents), eur(p.accepted_cents), eur(p.previously_paid_cents), eur(p.payout_cents))
        for p in supplier_payouts])
    write("audit_sample.csv", AUDIT_COLUMNS, [
        (r.supplier, r.claim_id, r.object_id or "", r.support_type or "", _money(r.accepted_eur)) for r in sample])
    manifest = {
        "period": period,
        "run_id": run_id,
        "policy_digest": policy_digest,
        "files": [{"path": path, "rows": rows, "sha256": hashlib.sha256((build / path).read_bytes()).hexdigest()}
                  for path, rows in sorted(files.items())],
    }
    (build / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return files
