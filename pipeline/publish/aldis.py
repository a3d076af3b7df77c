"""The ALDIS outbox for P (CONTRACTS §12), written into a build folder, and the flow's run report.

Only contract numbers, ARIS codes, the trader's own address texts, decision dates and numbers, SOPA file names
and positions, registration numbers and reason codes are written; never a personal code, a name or an income.
Rows are in a fixed order (contracts by `contract_number`, returns by `file` then `record`, code-point order) so a
re-run is byte-identical.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from pipeline.csvio import render_csv
from pipeline.decide.aldis import AldisDecision, AldisReason
from pipeline.filework import sha256_of
from pipeline.handoff import RecipientFile
from pipeline.publish.companion import with_companions
from pipeline.quality import personcode
from pipeline.traders import TraderRegister, is_reg_no

CONTRACT_COLUMNS = ("contract_number", "aris_code", "address", "decision_valid_from", "decision_valid_to")
RETURN_COLUMNS = ("file", "record", "decision_number", "trader_reg_no", "reason")
RETURNS_FILE = "sopa_returns.csv"


def trader_file(reg_no: str) -> str:
    """Where a trader's file sits under `<outbox>/<P>`."""
    return f"traders/{reg_no}/protected_contracts.csv"


def write_trader_files(build: Path, period: str, register: TraderRegister,
                       decision: AldisDecision) -> list[RecipientFile]:
    """One file for every trader in production for P, header-only when none of its contracts passed, with its
    spreadsheet companion; a trader not in production never gets one (the rules never pass a record to it)."""
    per_trader: dict[str, list[tuple[str, ...]]] = {}
    for item in decision.passed:
        per_trader.setdefault(item.user.trader_reg_no, []).append((
            item.contract.contract_number, item.contract.aris_code, item.contract.address,
            _iso(item.user.valid_from), _iso(item.user.valid_to)))
    written = []
    for trader in register.in_production(period):
        rows = sorted(per_trader.pop(trader.reg_no, []))
        target = build / trader_file(trader.reg_no)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(render_csv(CONTRACT_COLUMNS, rows))
        written.append(RecipientFile(trader_file(trader.reg_no), len(rows)))
    if per_trader:
        raise RuntimeError(f"records passed to traders not in production: {sorted(per_trader)}")
    return with_companions(build, written)


def _iso(day: object) -> str:
    return day.isoformat() if day is not None else ""  # type: ignore[attr-defined]


def echoed(text: str) -> str:
    """A SOPA value sent back to SOPA as received, unless it is a valid personal code (a value typed into the
    wrong field must not leave in a file)."""
    return "" if personcode.is_valid(text) else text


def echoed_reg_no(text: str) -> str:
    """The record's TraderRegNo when it is a registration number (11 digits); other text is not echoed."""
    return text if is_reg_no(text) and not personcode.is_valid(text) else ""


def write_returns(build: Path, decision: AldisDecision) -> RecipientFile:
    """`sopa_returns.csv`: every record not passed, with its one reason, so SOPA can find and fix it."""
    rows = sorted((item.user.file, item.user.record, echoed(item.user.decision_number),
                   echoed_reg_no(item.user.trader_reg_no),
                   str(item.reason)) for item in decision.returned)
    (build / RETURNS_FILE).write_bytes(render_csv(RETURN_COLUMNS, rows))
    return RecipientFile(RETURNS_FILE, len(rows))


def write_aldis_manifest(build: Path, period: str, run_id: str, files: list[RecipientFile]) -> Path:
    """§12 manifest: `period`, `run_id`, `files` as `{path: {rows, sha256}}` (keys sorted)."""
    manifest = {
        "period": period,
        "run_id": run_id,
        "files": {item.path: {"rows": item.rows, "sha256": sha256_of(build / item.path)}
                  for item in sorted(files, key=lambda item: item.path)},
    }
    path = build / "manifest.json"
    path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def write_aldis_report(path: Path, period: str, run_id: str, register: TraderRegister, decision: AldisDecision,
                       sopa_records: int, contract_quarantine: dict[str, int]) -> Path:
    """The ALDIS section of the run report (Markdown): passed per trader, returns per reason. Counts only."""
    passed = Counter(item.user.trader_reg_no for item in decision.passed)
    reasons = Counter(str(item.reason) for item in decision.returned)
    lines = [f"# ALDIS protected users, {period}", "", f"Run `{run_id}`: {sopa_records} SOPA records, "
             f"{len(decision.passed)} passed to traders, {len(decision.returned)} returned to SOPA.", "",
             "## Passed per trader", "", "| trader | reg. no. | in production for P | passed |", "|---|---|---|---:|"]
    for trader in sorted(register.traders, key=lambda t: t.reg_no):
        state = "yes" if trader.in_production(period) else f"no (from {trader.production_from or 'not set'})"
        lines.append(f"| {trader.name} | {trader.reg_no} | {state} | {passed.get(trader.reg_no, 0)} |")
    lines += ["", "## Returned to SOPA per reason", "", "| reason | records |", "|---|---:|"]
    lines += [f"| {reason} | {reasons.get(str(reason), 0)} |" for reason in AldisReason]
    if contract_quarantine:
        lines += ["", "## Contract-list rows quarantined", "", "| reason | rows |", "|---|---:|"]
        lines += [f"| {reason} | {count} |" for reason, count in sorted(contract_quarantine.items())]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
