"""The claims flow of CONTRACTS §13: check every supplier's claims for P, publish the results, approve the payout.

Two steps, so a person can stand between them (the Airflow DAG puts its approval there; the CLI's `--approve` runs
both at once):
1. `check` — window, policy, claims, what was published, the ledger so far → `<outbox>/<P>/` (built aside,
   published with one rename). Read-only towards the ledger: a preview.
2. `approve` — append the published `payout.csv` to the ledger (after its sha256 matched the claims manifest).
Plus the delivery of each supplier's `claim_result.csv` and of `payout.csv` over SFTP.
Every function here takes and returns plain JSON-able values, so the DAG's tasks are one call each.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from pipeline.csvio import read_rows, render_csv
from pipeline.decide.audit_sample import audit_sample
from pipeline.decide.claims import ClaimResult, Reference, decide_supplier
from pipeline.decide.claims_policy import Rate, load_claims_policy
from pipeline.decide.payouts import SupplierPayout, eur, payouts, to_cents
from pipeline.deliver.sftp import RecipientsConfig, plan_deliveries
from pipeline.errors import EikisError, SourceError
from pipeline.logs import get_logger
from pipeline.period import format_month, parse_month
from pipeline.publish.atomic import build_folder, publish
from pipeline.publish.claims import PAYOUT_COLUMNS, write_outbox
from pipeline.publish.lock import period_lock
from pipeline.publish.manifest import derive_run_id
from pipeline.sources.claims import SupplierClaims, read_claims, supplier_kind
from pipeline.sources.published import open_outbox, protected_contracts, supplier_objects
from pipeline.store.ledger import LedgerError, ledger_state, previously_paid
from pipeline.store.ledger import approve as ledger_approve

log = get_logger("flows.claims")

PAYOUT_RECIPIENT = "payout"
QUARANTINE_COLUMNS = ("supplier", "file", "line", "claim_id", "reason")


class WindowClosed(EikisError):
    """A claims run for P after its recalculation window (`claim_window_months`)."""


@dataclass(frozen=True)
class ClaimsConfig:
    """Everything a claims run needs; JSON-able so the DAG can pass it between tasks."""

    period: str
    claims: str
    published: str
    outbox: str
    policy: str
    db_url: str
    workdir: str
    aldis: str | None = None
    as_of: str | None = None
    recipients: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def of(cls, config: ClaimsConfig | dict[str, Any]) -> ClaimsConfig:
        return config if isinstance(config, ClaimsConfig) else cls(**config)


RUN_PARAMS = ("period", "as_of")  # all a trigger may set; the rest is the deployment's (`Deployment`)


def resolve_config(params: dict[str, Any], environ: dict[str, str] | None = None) -> dict[str, Any]:
    """The DAG run's config: the month and `as_of` from the trigger, every path, the store and the recipients
    from the deployment (`pipeline.config.resolve_run`)."""
    from pipeline.config import resolve_run

    request = resolve_run(params, RUN_PARAMS, None, environ)
    where, as_of = request.deployment, request.switches.get("as_of") or None
    if as_of is not None:
        parse_month(str(as_of))
    return ClaimsConfig(
        period=request.period, claims=where.claims, published=where.outbox, aldis=where.aldis_outbox,
        outbox=where.claims_outbox, policy=where.policy, db_url=where.db_url, workdir=where.workdir,
        as_of=as_of, recipients=where.claims_recipients,
    ).to_dict()


def approval_body(summary: dict[str, Any]) -> str:
    """What the person approving sees in the Airflow UI: the run, the counts and the payout per supplier."""
    statuses = ", ".join(f"{k} {v}" for k, v in summary["statuses"].items())
    reasons = ", ".join(f"{k} {v}" for k, v in summary["reasons"].items()) or "none"
    return (f"**Claims run {summary['run_id']}** for {summary['period']}: {summary['claims']} claim(s) ({statuses}); "
            f"rejections/reductions: {reasons}; {summary['quarantined']} quarantined line(s); "
            f"audit sample {summary['audit_sample']} line(s).\n\n{payout_table(summary)}\n\n"
            f"Approve to record these payouts in the ledger and deliver the files; Reject records nothing.")


def current_month(today: dt.date | None = None) -> str:
    today = today or dt.date.today()
    return f"{today.year:04d}-{today.month:02d}"


def check_window(period: str, as_of: str, window_months: int) -> None:
    """Refuse a run for P when `as_of` is later than P + window (§13: BVKB may recalculate only that long)."""
    last = parse_month(period) + window_months
    if parse_month(as_of) > last:
        raise WindowClosed(f"claims for {period} can no longer be recalculated: the window of {window_months} "
                           f"months closed after {format_month(last)} (as of {as_of})")


def _input_digests(claims_root: Path, period: str, suppliers: list[str], manifests: list[str]) -> list[str]:
    """sha256 of every claim file (named by supplier and file) and of each published manifest read."""
    digests = list(manifests)
    for supplier in suppliers:
        for path in sorted((claims_root / period / supplier).glob("*.csv")):
            digests.append(f"{supplier}/{path.name}:{hashlib.sha256(path.read_bytes()).hexdigest()}")
    return digests


def _decide_all(config: ClaimsConfig, claims: dict[str, SupplierClaims],
                rates: dict[str, Rate]) -> tuple[list[ClaimResult], list[str]]:
    published = open_outbox(Path(config.published), config.period)
    aldis = open_outbox(Path(config.aldis), config.period) if config.aldis else None
    if aldis is None and any(line.support_type == "PROTECTED_USER" and supplier_kind(s) == "traders_electricity"
                             for s, c in claims.items() for line in c.lines):
        raise SourceError("PROTECTED_USER claims need the ALDIS outbox (--aldis) to be checked against")
    results: list[ClaimResult] = []
    for supplier, supplier_claims in sorted(claims.items()):
        reference = Reference(supplier_objects(published, supplier),
                              protected_contracts(aldis, supplier.split("/")[1])
                              if supplier_kind(supplier) == "traders_electricity" else frozenset())
        results.extend(decide_supplier(list(supplier_claims.lines), reference, rates))
    manifests = [f"published:{published.manifest_sha256}"] + ([f"aldis:{aldis.manifest_sha256}"] if aldis else [])
    return results, manifests


def check(config: ClaimsConfig | dict[str, Any]) -> dict[str, Any]:
    """Step 1: decide every claim and publish `<outbox>/<P>/`; the ledger is only read. Returns the summary."""
    cfg = ClaimsConfig.of(config)
    policy = load_claims_policy(Path(cfg.policy), cfg.period)
    check_window(cfg.period, cfg.as_of or current_month(), policy.claim_window_months)
    claims = read_claims(Path(cfg.claims), cfg.period)
    results, manifests = _decide_all(cfg, claims, policy.rates)
    state = ledger_state(cfg.db_url, cfg.period)
    ledger_digest = hashlib.sha256(json.dumps(state).encode()).hexdigest()
    inputs = _input_digests(Path(cfg.claims), cfg.period, sorted(claims), manifests) + [f"ledger:{ledger_digest}"]
    run_id = derive_run_id(cfg.period, inputs, policy.digest)
    rows = payouts(results, previously_paid(cfg.db_url, cfg.period))
    sample = audit_sample(results, run_id)
    outbox = Path(cfg.outbox)
    with period_lock(cfg.period, outbox), build_folder(outbox, cfg.period) as build:
        write_outbox(build, cfg.period, run_id, policy.digest, results, rows, sample)
        target = publish(build, outbox, cfg.period)
    quarantined = _write_quarantine(cfg, claims)
    summary = {"period": cfg.period, "run_id": run_id, "outbox": str(target), "claims": len(results),
               "quarantined": quarantined, "audit_sample": len(sample),
               "statuses": _count(r.status for r in results), "reasons": _count(r.reason for r in results if r.reason),
               "payouts": [_payout_dict(p) for p in rows],
               "payout_total_eur": eur(sum(p.payout_cents for p in rows))}
    log.info("claims %s: %d claim(s), %d quarantined line(s), payout total %s EUR", run_id, len(results),
             quarantined, summary["payout_total_eur"])
    return summary


def _count(values: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return dict(sorted(counts.items()))


def _payout_dict(p: SupplierPayout) -> dict[str, str]:
    return {"supplier": p.supplier, "claimed_eur": eur(p.claimed_cents), "accepted_eur": eur(p.accepted_cents),
            "previously_paid_eur": eur(p.previously_paid_cents), "payout_eur": eur(p.payout_cents)}


def _write_quarantine(cfg: ClaimsConfig, claims: dict[str, SupplierClaims]) -> int:
    """The quarantined lines (internal, for the bureau: which line of which file, and why)."""
    rows = [(q.supplier, q.file, q.line, q.claim_id, q.reason) for c in claims.values() for q in c.quarantined]
    target = Path(cfg.workdir) / cfg.period / "claims_quarantine.csv"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(render_csv(QUARANTINE_COLUMNS, sorted(rows)))
    return len(rows)


def payout_table(summary: dict[str, Any]) -> str:
    """The payout totals as a Markdown table: the task log and the approval's body show the same."""
    lines = ["| supplier | claimed € | accepted € | previously paid € | payout € |", "|---|---:|---:|---:|---:|"]
    lines += [f"| {p['supplier']} | {p['claimed_eur']} | {p['accepted_eur']} | {p['previously_paid_eur']} | "
              f"{p['payout_eur']} |" for p in summary["payouts"]]
    lines.append(f"| **total** | | | | **{summary['payout_total_eur']}** |")
    return "\n".join(lines)


def approve(config: ClaimsConfig | dict[str, Any], run_id: str | None = None) -> dict[str, Any]:
    """Step 2: append the published `payout.csv` of P to the ledger (verified against the claims manifest).

    `run_id` is the run a person approved (the DAG passes the one its approval request showed): if the outbox was
    replaced in between, say by a preview of other files, nothing is recorded.
    """
    cfg = ClaimsConfig.of(config)
    with period_lock(cfg.period, Path(cfg.outbox)):  # no check may replace the outbox while it is recorded
        return _approve_locked(cfg, run_id)


def _approve_locked(cfg: ClaimsConfig, run_id: str | None) -> dict[str, Any]:
    folder = Path(cfg.outbox) / cfg.period
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    if run_id is not None and manifest["run_id"] != run_id:
        raise LedgerError(f"the claims outbox for {cfg.period} now holds run {manifest['run_id']}, not the approved "
                          f"run {run_id}; nothing was recorded")
    path = folder / "payout.csv"
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    listed = {entry["path"]: entry["sha256"] for entry in manifest["files"]}
    if listed.get("payout.csv") != sha:
        raise SourceError("payout.csv does not match the claims manifest; re-run the check", file=path)
    rows = [SupplierPayout(row["supplier"], _cents(row["claimed_eur"]), _cents(row["accepted_eur"]),
                           _cents(row["previously_paid_eur"])) for _, row in read_rows(path, PAYOUT_COLUMNS)]
    written = ledger_approve(cfg.db_url, cfg.period, manifest["run_id"], rows, sha)
    total = eur(sum(r.payout_cents for r in rows))
    log.info("claims %s: approved, %d ledger entr(ies), payout total %s EUR", manifest["run_id"], written, total)
    return {"run_id": manifest["run_id"], "entries": written, "payout_total_eur": total}


def _cents(text: str) -> int:
    return to_cents(Decimal(text))


def claims_recipient_of(path: str) -> str:
    """`<supplier folder>/claim_result.csv` goes to that supplier; `payout.csv` and `audit_sample.csv` go to the
    bureau's payout desk (recipient `payout`), which pays and asks for the sampled bills."""
    parts = path.split("/")
    return "/".join(parts[:2]) if len(parts) > 2 else PAYOUT_RECIPIENT


def plan_delivery(config: ClaimsConfig | dict[str, Any]) -> list[dict[str, Any]]:
    """One plan per recipient of the claims manifest; none without a recipients file."""
    cfg = ClaimsConfig.of(config)
    if not cfg.recipients:
        return []
    recipients = RecipientsConfig.load(Path(cfg.recipients))
    plans = plan_deliveries(Path(cfg.outbox), cfg.period, recipients, recipient_of=claims_recipient_of)
    return [plan.to_dict() for plan in plans]


def deliver_one(config: ClaimsConfig | dict[str, Any], plan: dict[str, Any],
                connection: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Task body: one recipient's verified, atomic SFTP delivery (the monthly flow's, on the claims outbox)."""
    from pipeline.flows.monthly import deliver

    return deliver(_as_run_config(config), plan, connection)


def endpoint_connection(config: ClaimsConfig | dict[str, Any], plan: dict[str, Any],
                        get_connection: Callable[[str], Any]) -> dict[str, Any] | None:
    """The Airflow connection a plan's endpoint names, or None (`monthly.endpoint_connection`)."""
    from pipeline.flows.monthly import endpoint_connection as monthly_endpoint_connection

    return monthly_endpoint_connection(_as_run_config(config), plan, get_connection)


def _as_run_config(config: ClaimsConfig | dict[str, Any]) -> dict[str, Any]:
    """The monthly flow's delivery reads `period`, `outbox` and `recipients`; a claims run has no inbox."""
    return {**ClaimsConfig.of(config).to_dict(), "inbox": ""}


def run_claims(config: ClaimsConfig, *, approve_payout: bool) -> dict[str, Any]:
    """The CLI's whole run: check, then (with `--approve`) record the payout."""
    summary = check(config)
    if approve_payout:
        summary["approved"] = approve(config)
    return summary
