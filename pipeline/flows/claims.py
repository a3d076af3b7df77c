"""The claims flow of CONTRACTS §13: check every supplier's claims for P, publish the results, approve the payout.

Two steps, so a person can stand between them (the Airflow DAG puts its approval there; the CLI's
`--approve RUN_ID --digest SHA256` re-runs the check and approves under one hold of P's lock):
1. `check` — window, policy, claims, what was published, the ledger so far → `<outbox>/<P>/` (built aside,
   published with one rename). Read-only towards the ledger: a preview.
2. `approve` — given the check's run id and payout digest (what the person approved), re-derive the payout rows
   from the run's `claim_result.csv` files and the ledger, and append them only when the digest is the same.
Plus the delivery of each supplier's `claim_result.csv` and of `payout.csv` over SFTP.
Every function here takes and returns plain JSON-able values, so the DAG's tasks are one call each.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.config import FlowConfig, deployed, setting, switch
from pipeline.csvio import render_csv
from pipeline.decide.approval import ApprovalRefused, four_eyes
from pipeline.decide.audit_sample import audit_sample
from pipeline.decide.claims import ClaimResult, Reference, decide_supplier
from pipeline.decide.claims_policy import Rate, load_claims_policy
from pipeline.decide.payouts import SupplierPayout, eur, payout_digest, payouts
from pipeline.deliver.sftp import RecipientsConfig, plan_deliveries
from pipeline.deliver.tasks import deliver_planned as deliver_planned  # the DAG's delivery task bodies
from pipeline.deliver.tasks import endpoint_connection as endpoint_connection
from pipeline.errors import ConfigError, EikisError, SourceError
from pipeline.inbox import private_root
from pipeline.logs import get_logger
from pipeline.period import format_month, parse_month
from pipeline.publish.atomic import build_folder, publish
from pipeline.publish.claims import read_results, render_payout, write_outbox
from pipeline.publish.manifest import derive_run_id
from pipeline.publish.runs import approved_run, point_at_approved, remove_stale_runs, runs_folder
from pipeline.runlock import period_lock
from pipeline.sources.claims import SupplierClaims, read_claims, supplier_kind
from pipeline.sources.corrections import correction_sets, merged_supplier_objects
from pipeline.sources.published import open_outbox, protected_contracts
from pipeline.store.ledger import approve as ledger_approve
from pipeline.store.ledger import checked_digest, ledger_state, previously_paid, record_check

log = get_logger("flows.claims")

PAYOUT_RECIPIENT = "payout"
DEFAULT_APPROVAL_HOURS = 72   # three days: a request nobody answered fails, and nothing is paid
MAX_APPROVAL_HOURS = 24 * 31
_RUN_ID = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9a-f]{12}")
QUARANTINE_COLUMNS = ("supplier", "file", "line", "claim_id", "reason")


class WindowClosed(EikisError):
    """A claims run for P after its recalculation window (`claim_window_months`)."""


def _approvers(text: str | None) -> tuple[str, ...]:
    return tuple(sorted({user.strip() for user in (text or "").split(",") if user.strip()}))


def _approval_hours(text: str | None) -> int:
    if not text:
        return DEFAULT_APPROVAL_HOURS
    if not text.isdecimal() or not 1 <= int(text) <= MAX_APPROVAL_HOURS:
        raise ConfigError(f"EIKIS_CLAIMS_APPROVAL_HOURS must be a whole number of hours from 1 to {MAX_APPROVAL_HOURS}")
    return int(text)


def _as_of(month: Any) -> str | None:
    if month:
        parse_month(str(month))
    return month or None


@dataclass(frozen=True)
class ClaimsConfig(FlowConfig):
    """Everything a claims run needs: the month and `as_of` from the trigger, every path, the store and the
    recipients from the deployment, the approvers and the approval's time limit from `EIKIS_CLAIMS_APPROVERS` and
    `EIKIS_CLAIMS_APPROVAL_HOURS`."""

    period: str
    claims: str = deployed()
    published: str = deployed("outbox")
    outbox: str = deployed("claims_outbox")
    policy: str = deployed()
    db_url: str = deployed()
    workdir: str = deployed()
    aldis: str | None = deployed("aldis_outbox", default=None)
    as_of: str | None = switch(_as_of, default=None)
    recipients: str | None = deployed("claims_recipients", default=None)
    # Airflow user ids who may approve a payout, and how long an approval request waits
    approvers: tuple[str, ...] = setting("EIKIS_CLAIMS_APPROVERS", _approvers, default=())
    approval_hours: int = setting("EIKIS_CLAIMS_APPROVAL_HOURS", _approval_hours, default=DEFAULT_APPROVAL_HOURS)


def assigned_users(cfg: ClaimsConfig) -> list[dict[str, str]] | None:
    """The HITL request's `assigned_users`: the configured approvers (None: any user the DAG's permissions allow;
    the four-eyes rule of `approve_reviewed` holds either way)."""
    approvers = cfg.approvers
    return [{"id": user, "name": user} for user in approvers] or None


def response_timeout(cfg: ClaimsConfig) -> dt.timedelta:
    """How long the approval request waits; unanswered, the approval fails and nothing is recorded or sent."""
    return dt.timedelta(hours=cfg.approval_hours)


def approval_body(summary: dict[str, Any]) -> str:
    """What the person approving sees in the Airflow UI: the run, the counts and the payout per supplier."""
    statuses = ", ".join(f"{k} {v}" for k, v in summary["statuses"].items())
    reasons = ", ".join(f"{k} {v}" for k, v in summary["reasons"].items()) or "none"
    return (f"**Claims run {summary['run_id']}** for {summary['period']}: {summary['claims']} claim(s) ({statuses}); "
            f"rejections/reductions: {reasons}; {summary['quarantined']} quarantined line(s); "
            f"audit sample {summary['audit_sample']} line(s).\n\n{payout_table(summary)}\n\n"
            f"Payout digest `{summary['payout_digest']}`: the approval records exactly these rows.\n\n"
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
    corrections = correction_sets(Path(config.published), config.period)   # §16: the merged view
    results: list[ClaimResult] = []
    for supplier, supplier_claims in sorted(claims.items()):
        reference = Reference(merged_supplier_objects(published, corrections, supplier),
                              protected_contracts(aldis, supplier.split("/")[1])
                              if supplier_kind(supplier) == "traders_electricity" else frozenset())
        results.extend(decide_supplier(list(supplier_claims.lines), reference, rates))
    manifests = [f"published:{published.manifest_sha256}"] + ([f"aldis:{aldis.manifest_sha256}"] if aldis else [])
    manifests += [f"corrections/{item.name}:{item.outbox.manifest_sha256}" for item in corrections]
    return results, manifests


def check(cfg: ClaimsConfig) -> dict[str, Any]:
    """Step 1: decide every claim and publish `<outbox>/<P>/`; the ledger is only read. Returns the summary, with
    the run id and the payout digest an approval must name (kept in the store too, outside the outbox)."""
    with period_lock(cfg.period, Path(cfg.outbox)):
        return _check_locked(cfg)


def _check_locked(cfg: ClaimsConfig) -> dict[str, Any]:
    policy = load_claims_policy(Path(cfg.policy), cfg.period)
    check_window(cfg.period, cfg.as_of or current_month(), policy.claim_window_months)
    claims = read_claims(Path(cfg.claims), cfg.period, copies=private_root(cfg.workdir, cfg.period, "claims"))
    results, manifests = _decide_all(cfg, claims, policy.rates)
    state = ledger_state(cfg.db_url, cfg.period)
    ledger_digest = hashlib.sha256(json.dumps(state).encode()).hexdigest()
    inputs = _input_digests(Path(cfg.claims), cfg.period, sorted(claims), manifests) + [f"ledger:{ledger_digest}"]
    run_id = derive_run_id(cfg.period, inputs, policy.digest)
    rows = payouts(results, previously_paid(cfg.db_url, cfg.period))
    digest = payout_digest(cfg.period, run_id, rows)
    sample = audit_sample(results, run_id)
    runs = runs_folder(Path(cfg.outbox), cfg.period)
    target = runs / run_id
    if approved_run(Path(cfg.outbox), cfg.period) != run_id:  # an approved run's files are a record: never rebuilt
        remove_stale_runs(runs)
        with build_folder(runs, run_id) as build:
            write_outbox(build, cfg.period, run_id, policy.digest, results, rows, sample)
            publish(build, runs, run_id)
    record_check(cfg.db_url, cfg.period, run_id, digest)
    quarantined = _write_quarantine(cfg, claims)
    summary = {"period": cfg.period, "run_id": run_id, "payout_digest": digest, "outbox": str(target),
               "claims": len(results), "quarantined": quarantined, "audit_sample": len(sample),
               "statuses": _count(r.status for r in results), "reasons": _count(r.reason for r in results if r.reason),
               "payouts": [_payout_dict(p) for p in rows],
               "payout_total_eur": eur(sum(p.payout_cents for p in rows))}
    log.info("claims %s: %d claim(s), %d quarantined line(s), payout total %s EUR, payout digest %s", run_id,
             len(results), quarantined, summary["payout_total_eur"], digest)
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


def approve(cfg: ClaimsConfig, run_id: str, digest: str, *, approved_by: str,
            triggered_by: str | None = None) -> dict[str, Any]:
    """Step 2: record in the ledger exactly the payout a person approved: the check's `run_id` and the payout
    `digest` that check returned (the DAG passes both from the check's XCom; the CLI takes them from the preview),
    with who approved it; then point `<outbox>/<P>` at that run's own outbox.

    Under P's lock, the payout rows are re-derived from the run's `claim_result.csv` files and the ledger as it is
    now; they are recorded only when their digest is the one approved and the one the check kept in the store, and
    `payout.csv` is exactly those rows. Anything else (the run's outbox edited with its manifest, the ledger moved)
    is refused in one line and nothing is recorded.
    """
    with period_lock(cfg.period, Path(cfg.outbox)):  # no check may publish while a payout is recorded
        return _approve_locked(cfg, run_id, digest, approved_by, triggered_by)


def approve_reviewed(cfg: ClaimsConfig, summary: dict[str, Any], response: dict[str, Any],
                     triggered_by: str | None) -> dict[str, Any]:
    """The DAG's record step: four eyes first (`four_eyes`), then `approve` the run and digest the check returned.

    `response` is the approval task's result (Airflow's HITL response: `chosen_options`, `responded_by_user`);
    `triggered_by` the DAG run's triggering user."""
    if response.get("chosen_options") != ["Approve"]:
        raise ApprovalRefused(f"run {summary['run_id']} of {cfg.period} was not approved; nothing was recorded")
    approver = four_eyes(cfg.approvers, response.get("responded_by_user"), triggered_by)
    return approve(cfg, summary["run_id"], summary["payout_digest"], approved_by=approver, triggered_by=triggered_by)


def _approve_locked(cfg: ClaimsConfig, run_id: str, digest: str, approved_by: str,
                    triggered_by: str | None) -> dict[str, Any]:
    if not _RUN_ID.fullmatch(run_id) or not run_id.startswith(f"{cfg.period}-"):
        raise ApprovalRefused(f"{run_id!r} is not a claims run id of {cfg.period}; nothing was recorded")
    folder = runs_folder(Path(cfg.outbox), cfg.period) / run_id
    if not (folder / "manifest.json").is_file():
        raise ApprovalRefused(f"no outbox of run {run_id} for {cfg.period}; nothing was recorded", file=folder)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    if manifest["run_id"] != run_id:
        raise ApprovalRefused(f"the outbox of run {run_id} holds run {manifest['run_id']}, not the approved run "
                              f"{run_id}; nothing was recorded", file=folder / "manifest.json")
    kept = checked_digest(cfg.db_url, cfg.period, run_id)
    rows = payouts(read_results(folder), previously_paid(cfg.db_url, cfg.period))
    if kept is None:
        raise ApprovalRefused(f"run {run_id} of {cfg.period} was never checked against this store; nothing was "
                              "recorded")
    if digest != kept:
        raise ApprovalRefused(f"{digest[:12]}… is not the digest the check of run {run_id} returned; approve with the "
                              "run id and digest the check printed; nothing was recorded")
    if payout_digest(cfg.period, run_id, rows) != digest:
        raise ApprovalRefused(f"the payout of run {run_id} re-derived from its claim_result.csv files and the ledger "
                              f"is not the digest the check of run {run_id} returned (the outbox was edited or the "
                              "ledger changed since the check): check again; nothing was recorded")
    rendered = render_payout(rows)
    if (folder / "payout.csv").read_bytes() != rendered:
        raise ApprovalRefused(f"payout.csv of run {run_id} is not the payout its claim results give (edited after "
                              "the check): check again; nothing was recorded", file=folder / "payout.csv")
    written = ledger_approve(cfg.db_url, cfg.period, run_id, rows, hashlib.sha256(rendered).hexdigest(),
                             approved_by=approved_by, triggered_by=triggered_by)
    point_at_approved(Path(cfg.outbox), cfg.period, run_id)
    total = eur(sum(r.payout_cents for r in rows))
    log.info("claims %s: approved, %d ledger entr(ies), payout total %s EUR", run_id, written, total)
    return {"run_id": run_id, "entries": written, "payout_total_eur": total, "approved_by": approved_by}


def claims_recipient_of(path: str) -> str:
    """`<supplier folder>/claim_result.csv` goes to that supplier; `payout.csv` and `audit_sample.csv` go to the
    bureau's payout desk (recipient `payout`), which pays and asks for the sampled bills."""
    parts = path.split("/")
    return "/".join(parts[:2]) if len(parts) > 2 else PAYOUT_RECIPIENT


def plan_delivery(cfg: ClaimsConfig) -> list[dict[str, Any]]:
    """One plan per recipient of the claims manifest; none without a recipients file."""
    if not cfg.recipients:
        return []
    recipients = RecipientsConfig.load(Path(cfg.recipients))
    plans = plan_deliveries(Path(cfg.outbox), cfg.period, recipients, recipient_of=claims_recipient_of)
    return [plan.to_dict() for plan in plans]


def run_claims(config: ClaimsConfig, *, approve_run: tuple[str, str] | None = None) -> dict[str, Any]:
    """The CLI's whole run, under one hold of P's lock: check, then, with `approve_run` (the run id and digest a
    preview printed), record the payout only when this check is that same run with that same digest."""
    with period_lock(config.period, Path(config.outbox)):
        summary = _check_locked(config)
        if approve_run is not None:
            run_id, digest = approve_run
            if summary["run_id"] != run_id:
                raise ApprovalRefused(f"the check now gives run {summary['run_id']}, not the previewed run {run_id} "
                                      "(the claims, the published files or the ledger changed): look at the new "
                                      "preview and approve that; nothing was recorded")
            summary["approved"] = _approve_locked(config, run_id, digest, f"cli:{_os_user()}", None)
    return summary


def _os_user() -> str:
    """Who ran the CLI approval (the embedded, single-operator path; four eyes are the DAG's)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (a container's arbitrary uid)
        return f"uid {os.getuid()}"
