"""The claims outbox of CONTRACTS §13, written into a build folder (published by `publish/atomic.py`).

`<supplier folder>/claim_result.csv` (by claim id), `payout.csv` (by supplier), `audit_sample.csv` (by supplier,
then claim id) and `manifest.json` (period, run_id, policy_digest, files: path, rows, sha256 — the §10 shape).
Nothing here depends on the clock, so the same inputs and ledger give byte-identical files. Only claim ids, object
ids (connection ids or contract numbers), support types and amounts leave: no personal code, name or income.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

from pipeline.csvio import read_rows, render_csv
from pipeline.decide.claims import ClaimResult
from pipeline.decide.payouts import SupplierPayout, eur
from pipeline.errors import SourceError
from pipeline.handoff import RecipientFile
from pipeline.publish.companion import with_companions

RESULT_COLUMNS = ("claim_id", "object_id", "support_type", "status", "reason", "claimed_eur", "accepted_eur",
                  "correction_set")
PAYOUT_COLUMNS = ("supplier", "claimed_eur", "accepted_eur", "previously_paid_eur", "payout_eur")
AUDIT_COLUMNS = ("supplier", "claim_id", "object_id", "support_type", "accepted_eur")
_EUR = re.compile(r"[0-9]{1,15}\.[0-9]{2}")


def _money(amount: Decimal | None) -> str:
    return "" if amount is None else str(amount)


def render_payout(supplier_payouts: Sequence[SupplierPayout]) -> bytes:
    """The bytes of `payout.csv`; the approval compares the published file with these, re-derived."""
    return render_csv(PAYOUT_COLUMNS, [
        (p.supplier, eur(p.claimed_cents), eur(p.accepted_cents), eur(p.previously_paid_cents), eur(p.payout_cents))
        for p in supplier_payouts])


def read_results(folder: Path) -> list[ClaimResult]:
    """Every `<supplier folder>/claim_result.csv` of a published claims run read back, for the approval to
    re-derive the payout from (the rows an approver's digest vouches for, not the `payout.csv` beside them)."""
    results = []
    for path in sorted(folder.glob("*/*/claim_result.csv")):
        supplier = f"{path.parent.parent.name}/{path.parent.name}"
        for line, row in read_rows(path, RESULT_COLUMNS):
            claimed, accepted = _amount(row["claimed_eur"], path, line), _amount(row["accepted_eur"], path, line)
            if accepted is None:
                raise SourceError("accepted_eur is empty", file=path, line=line)
            results.append(ClaimResult(supplier, row["claim_id"], row["object_id"] or None,
                                       row["support_type"] or None, row["status"], row["reason"], claimed, accepted,
                                       row["correction_set"]))
    return results


def _amount(text: str, path: Path, line: int) -> Decimal | None:
    if text == "":
        return None
    if not _EUR.fullmatch(text):
        raise SourceError("an amount is not a euro amount with two decimals", file=path, line=line)
    return Decimal(text)


def write_outbox(build: Path, period: str, run_id: str, policy_digest: str, results: Sequence[ClaimResult],
                 supplier_payouts: Sequence[SupplierPayout], sample: Sequence[ClaimResult]) -> dict[str, int]:
    """Write every file (with its spreadsheet companion, `publish.companion`) and the manifest into `build`;
    returns rows per file path."""
    files: dict[str, int] = {}

    def write(relative: str, header: tuple[str, ...], rows: list[tuple[object, ...]]) -> None:
        put(relative, render_csv(header, rows), len(rows))

    def put(relative: str, body: bytes, rows: int) -> None:
        target = build / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
        files[relative] = rows

    by_supplier: dict[str, list[ClaimResult]] = {}
    for result in results:
        by_supplier.setdefault(result.supplier, []).append(result)
    for supplier, rows in sorted(by_supplier.items()):
        write(f"{supplier}/claim_result.csv", RESULT_COLUMNS, [
            (r.claim_id, r.object_id or "", r.support_type or "", r.status, r.reason, _money(r.claimed_eur),
             _money(r.accepted_eur), r.correction_set) for r in sorted(rows, key=lambda item: item.claim_id)])
    put("payout.csv", render_payout(supplier_payouts), len(supplier_payouts))
    write("audit_sample.csv", AUDIT_COLUMNS, [
        (r.supplier, r.claim_id, r.object_id or "", r.support_type or "", _money(r.accepted_eur)) for r in sample])
    for item in with_companions(build, [RecipientFile(path, rows) for path, rows in list(files.items())]):
        files[item.path] = item.rows
    manifest = {
        "period": period,
        "run_id": run_id,
        "policy_digest": policy_digest,
        "files": [{"path": path, "rows": rows, "sha256": hashlib.sha256((build / path).read_bytes()).hexdigest()}
                  for path, rows in sorted(files.items())],
    }
    (build / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return files
