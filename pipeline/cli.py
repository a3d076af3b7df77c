"""`eikis`: the embedded command line (CONTRACTS §11). No Airflow needed.

Exit 0 on success; on failure, exit non-zero with one line on stderr naming the file, record and reason.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from pipeline.config import Settings
from pipeline.errors import ConfigError
from pipeline.flows.failures import one_line
from pipeline.handoff import SourceSummary
from pipeline.logs import configure_cli_logging, get_logger
from pipeline.period import parse_month

log = get_logger("cli")


def _period(text: str) -> str:
    try:
        parse_month(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _fraction(text: str) -> float:
    """A share of the national scale: a plain decimal in (0, 1] (no `nan`, `1e-3`, other scripts' digits)."""
    if not re.fullmatch(r"[0-9]+(\.[0-9]+)?", text) or not 0 < float(text) <= 1:
        raise argparse.ArgumentTypeError(f"must be a decimal number above 0 and at most 1, got {text[:20]!r}")
    return float(text)


def _whole(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        if not re.fullmatch(r"[0-9]{1,10}", text) or not low <= int(text) <= high:
            raise argparse.ArgumentTypeError(f"must be a whole number from {low} to {high}, got {text[:20]!r}")
        return int(text)

    return parse


class OneLineParser(argparse.ArgumentParser):
    """A wrong option is one line on stderr and exit 2, like every other failure (no usage block)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"eikis: error: {self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="eikis", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command", required=True)

    generate = commands.add_parser("generate", help="write a synthetic inbox in the contract formats")
    generate.add_argument("--period", type=_period, required=True, help="consumption month YYYY-MM")
    generate.add_argument("--out", type=Path, required=True, help="inbox root; files go to OUT/PERIOD/")
    generate.add_argument("--scale", choices=("sample", "national"), default="sample")
    generate.add_argument("--seed", type=_whole(0, 2**32 - 1), default=1)
    generate.add_argument("--fraction", type=_fraction, default=1.0, help="shrink the national scale (0-1]")
    generate.add_argument("--inject-bad", action="store_true", help="add one bad record of every kind")

    ingest = commands.add_parser("ingest", help="stage and validate every source of a month (the ingest stage)")
    _common_run_arguments(ingest)

    run = commands.add_parser("run", help="run the whole month: ingest, decide, publish, deliver, record")
    _common_run_arguments(run)
    run.add_argument("--outbox", type=Path, required=True, help="outbox root; files go to OUTBOX/PERIOD/")
    run.add_argument("--policy", type=Path, required=True, help="policy YAML (minimal or effective-dated)")
    run.add_argument("--db", help="SQLAlchemy URL of the store (default: EIKIS_DB_URL, else WORKDIR/eikis.sqlite)")
    run.add_argument("--no-db", action="store_true", help="do not record the run in a store")
    run.add_argument("--accept-anomaly", metavar="REASON",
                     help="publish although a measure moved beyond the anomaly tolerance; REASON goes to the store")
    run.add_argument("--recipients", type=Path, help="SFTP endpoints per recipient: deliver after publishing")

    aldis = commands.add_parser("aldis", help="ALDIS protected users: SOPA -> each trader's contracts (§12)")
    _common_run_arguments(aldis)
    aldis.add_argument("--outbox", type=Path, required=True, help="ALDIS outbox root; files go to OUTBOX/PERIOD/")
    aldis.add_argument("--traders", type=Path, required=True, help="trader register YAML (policy/traders.yaml)")
    aldis.add_argument("--db", help="SQLAlchemy URL: also record the run in the store (default: not recorded)")
    claims = commands.add_parser("claims", help="check suppliers' compensation claims for P (--approve: pay them)")
    claims.add_argument("--period", type=_period, required=True, help="consumption month YYYY-MM")
    claims.add_argument("--claims", type=Path, required=True, help="claims root holding PERIOD/<supplier folder>/")
    claims.add_argument("--published", type=Path, required=True, help="outbox root of `eikis run` (CONTRACTS §10)")
    claims.add_argument("--aldis", type=Path, help="outbox root of `eikis aldis` (§12), for PROTECTED_USER claims")
    claims.add_argument("--outbox", type=Path, required=True, help="claims outbox root; files go to OUTBOX/PERIOD/")
    claims.add_argument("--policy", type=Path, required=True, help="effective-dated policy YAML with `compensation`")
    claims.add_argument("--db", help="SQLAlchemy URL of the store (default: EIKIS_DB_URL, else WORKDIR/eikis.sqlite)")
    claims.add_argument("--workdir", type=Path, default=Path("var/work"), help="quarantine list (default var/work)")
    claims.add_argument("--as-of", type=_period, help="the month the run is made in (default: the current month)")
    claims.add_argument("--approve", metavar="RUN_ID", help="record the payout of this run (the id a preview printed)")
    claims.add_argument("--digest", metavar="SHA256", help="the payout digest the same preview printed")

    generate_claims = commands.add_parser("generate-claims", help="write sample claim files from a published outbox")
    generate_claims.add_argument("--period", type=_period, required=True, help="consumption month YYYY-MM")
    generate_claims.add_argument("--published", type=Path, required=True, help="outbox root of `eikis run`")
    generate_claims.add_argument("--aldis", type=Path, help="outbox root of `eikis aldis` (adds PROTECTED_USER)")
    generate_claims.add_argument("--out", type=Path, required=True, help="claims root; files go to OUT/PERIOD/")
    generate_claims.add_argument("--policy", type=Path, required=True, help="policy YAML (claims stay under the cap)")
    generate_claims.add_argument("--seed", type=_whole(0, 2**32 - 1), default=1)

    generate_appeals = commands.add_parser("generate-appeals", help="register sample appeal decisions on a "
                                           "recorded month (§16)")
    generate_appeals.add_argument("--period", type=_period, required=True, help="decided month YYYY-MM")
    generate_appeals.add_argument("--db", help="SQLAlchemy URL of the store (default: EIKIS_DB_URL, else "
                                  "WORKDIR/eikis.sqlite)")
    generate_appeals.add_argument("--workdir", type=Path, default=Path("var/work"), help="default var/work")

    corrections = commands.add_parser("corrections", help="publish P's next correction set of confirmed appeal "
                                      "decisions (§16)")
    corrections.add_argument("--period", type=_period, required=True, help="decided month YYYY-MM")
    corrections.add_argument("--db", help="SQLAlchemy URL of the store (default: EIKIS_DB_URL, else "
                             "WORKDIR/eikis.sqlite)")
    corrections.add_argument("--published", type=Path, required=True, help="outbox root of `eikis run` (§10)")
    corrections.add_argument("--outbox", type=Path, required=True, help="sets go to OUTBOX/PERIOD/corrections/NN/")
    corrections.add_argument("--aldis", type=Path, help="outbox root of `eikis aldis` (§12; protected contracts do "
                             "not depend on an appeal: read by no step yet)")
    corrections.add_argument("--workdir", type=Path, default=Path("var/work"),
                             help="the month's decision records (default var/work)")

    retention = commands.add_parser("retention", help="list, delete (--apply) or check (--verify) personal data "
                                    "older than 24 months (CONTRACTS §15)")
    retention.add_argument("--db", required=True, help="SQLAlchemy URL of the store")
    retention.add_argument("--workdir", type=Path, required=True, help="the runs' workdir (period folders)")
    retention.add_argument("--as-of", type=_period, help="the current month YYYY-MM (default: this month)")
    retention.add_argument("--inbox", type=Path, help="also the inbox's expired month folders (raw extracts)")
    retention.add_argument("--claims", type=Path, help="also the claims root's expired month folders")
    retention.add_argument("--aldis-outbox", type=Path, help="also the ALDIS outbox's expired month folders")
    action = retention.add_mutually_exclusive_group()
    action.add_argument("--apply", action="store_true", help="delete and record each deletion")
    action.add_argument("--verify", action="store_true", help="exit 1 when anything past retention is left")
    action.add_argument("--hold", metavar="CASE_REF", help="court hold (§16): keep the case's households' rows")
    action.add_argument("--release", metavar="CASE_REF", help="release a court hold (rows go at the next run)")

    simulate = commands.add_parser("simulate", help="re-decide an ingested month under variant policies (§17)")
    simulate.add_argument("--period", type=_period, required=True, help="consumption month YYYY-MM (ingested)")
    simulate.add_argument("--workdir", type=Path, default=Path("var/work"), help="holding PERIOD/staging/")
    simulate.add_argument("--policy", type=Path, required=True, help="the baseline policy YAML")
    simulate.add_argument("--variant", action="append", required=True, metavar="NAME=FILE",
                          help="a variant policy (a full policy file); repeat for more")
    simulate.add_argument("--out", type=Path, required=True, help="files go to OUT/PERIOD/")

    portal = commands.add_parser("portal", help="serve the staff lookup portal (CONTRACTS §14)")
    portal.add_argument("--db", required=True, help="SQLAlchemy URL of the store")
    portal.add_argument("--host", default="127.0.0.1")
    portal.add_argument("--port", type=_whole(1, 65535), default=8000)

    users = commands.add_parser("portal-user", help="add, disable, unlock or list portal users")
    user_commands = users.add_subparsers(dest="user_command", required=True)
    add = user_commands.add_parser("add", help="add a user; the password is asked on a terminal (no echo), "
                                   "else read from standard input")
    add.add_argument("--db", required=True)
    add.add_argument("--username", required=True)
    add.add_argument("--role", required=True, choices=("staff", "auditor", "admin"))
    disable = user_commands.add_parser("disable", help="disable a user (kept for the access log)")
    disable.add_argument("--db", required=True)
    disable.add_argument("--username", required=True)
    unlock = user_commands.add_parser("unlock", help="lift a user's sign-in lock-out now")
    unlock.add_argument("--db", required=True)
    unlock.add_argument("--username", required=True)
    listing = user_commands.add_parser("list", help="list users and roles")
    listing.add_argument("--db", required=True)

    db = commands.add_parser("db", help="the store's schema: `eikis db upgrade` applies the missing migrations")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_commands.add_parser("upgrade", help="bring the store to the current schema version (as its owner)")
    upgrade.add_argument("--db", help="SQLAlchemy URL of the store as its owner role (default: EIKIS_DB_OWNER_URL, "
                         "else EIKIS_DB_URL, else WORKDIR/eikis.sqlite)")
    upgrade.add_argument("--workdir", type=Path, default=Path("var/work"), help="for the default SQLite store")
    upgrade.add_argument("--app-role", help="PostgreSQL: the application's role, given only its rights "
                         "(default: EIKIS_DB_APP_ROLE; none: no grants)")

    return parser


def _common_run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--period", type=_period, required=True, help="consumption month YYYY-MM")
    parser.add_argument("--inbox", type=Path, required=True, help="inbox root holding PERIOD/")
    parser.add_argument("--workdir", type=Path, default=Path("var/work"), help="internal files (default var/work)")


def _generate(args: argparse.Namespace, settings: Settings) -> None:
    from pipeline.generate.inbox import generate_inbox  # lazy: a subcommand loads only its own flow's libraries

    target = generate_inbox(args.period, args.out, scale=args.scale, seed=args.seed, inject_bad=args.inject_bad,
                            fraction=args.fraction, workers=settings.workers)
    print(f"inbox written to {target}")


def _ingest(args: argparse.Namespace, settings: Settings) -> None:
    from pipeline.flows.monthly import RunConfig, ingest_all  # lazy: a subcommand loads only its own flow's libraries

    config = RunConfig(period=args.period, inbox=str(args.inbox), workdir=str(args.workdir))
    print_source_table(ingest_all(config, settings))
    print(f"staging, quarantine and data docs in {args.workdir / args.period}")


def _run(args: argparse.Namespace, settings: Settings) -> None:
    from pipeline.flows.monthly import run_month  # lazy: a subcommand loads only its own flow's libraries
    from pipeline.store.db import default_url
    from pipeline.store.health import check_store

    db_url = None if args.no_db else (args.db or default_url(args.workdir))
    if db_url:
        args.workdir.mkdir(parents=True, exist_ok=True)  # the default SQLite store lives there
        check_store(db_url)  # before any work: a run whose store is down must publish nothing
    result = run_month(args.period, args.inbox, args.outbox, args.policy, args.workdir, settings, db_url,
                       args.accept_anomaly, args.recipients)
    print_source_table(result.summaries)
    decision = result.decision
    print(f"run {result.run_id}: {decision.households} households, {decision.eligible} eligible, "
          f"{decision.review} for review; support on: {', '.join(decision.support_types_on) or 'none'}")
    if decision.unmatched_income_records:
        print(f"warning: {decision.unmatched_income_records} quarantined income or benefit records match no counted "
              "person (their households could not be sent to review; see the quarantine)")
    print(f"recipient files ({len(result.files)}) and manifest.json: {result.outbox}")
    print(f"run report: {result.report}")
    print(f"decision records, staging, quarantine, data docs: {args.workdir / args.period}")
    if db_url:
        print(f"store: {db_url.split('@')[-1]}")


def _simulate(args: argparse.Namespace, settings: Settings) -> None:
    # lazy: a subcommand loads only its own flow's libraries
    from pipeline.flows.simulate import parse_variant, simulate

    variants = [parse_variant(text) for text in args.variant]
    result = simulate(args.period, args.workdir, args.policy, variants, args.out)
    for name in result.variants:
        print(f"{name:<24} eligible households {result.eligible[name]:>10}")
    print(f"simulation.csv and simulation.html: {result.folder}")


def print_source_table(summaries: dict[str, SourceSummary]) -> None:
    print(f"{'source':<12}{'files':>6}{'records':>12}{'staged':>12}{'quarantined':>13}  reasons")
    for name, summary in summaries.items():
        reasons = ", ".join(f"{reason}={count}" for reason, count in summary.quarantined.items())
        print(f"{name:<12}{len(summary.files):>6}{summary.records:>12}{summary.staged:>12}"
              f"{summary.quarantined_total:>13}  {reasons}")


def _aldis(args: argparse.Namespace, settings: Settings) -> None:
    from pipeline.flows.aldis import run_aldis  # lazy: a subcommand loads only its own flow's libraries

    result = run_aldis(args.period, args.inbox, args.outbox, args.traders, args.workdir, settings, args.db)
    print(f"aldis run {result.run_id}: {result.sopa_records} SOPA records, {sum(result.passed.values())} passed, "
          f"{sum(result.returned.values())} returned to SOPA")
    for reason, count in result.returned.items():
        print(f"  {reason:<24}{count:>6}")
    print(f"outbox ({len(result.files)} files and manifest.json): {result.outbox}")
    print(f"run report: {result.report}")


def _generate_appeals(args: argparse.Namespace, settings: Settings) -> None:
    from pipeline.generate.appeals import generate_appeals  # lazy: a subcommand loads only its own libraries
    from pipeline.store.db import connect, default_url

    for item in generate_appeals(connect(args.db or default_url(args.workdir)), args.period):
        print(f"{item.case_ref}\t{item.outcome}\t{item.state}")


def _corrections(args: argparse.Namespace, settings: Settings) -> None:
    # lazy: a subcommand loads only its own flow's libraries
    from pipeline.flows.corrections import CorrectionsConfig, publish_corrections, summary_line
    from pipeline.store.db import default_url

    config = CorrectionsConfig(period=args.period, db_url=args.db or default_url(args.workdir),
                               published=str(args.published), outbox=str(args.outbox), workdir=str(args.workdir),
                               aldis=str(args.aldis) if args.aldis else None)
    print(summary_line(publish_corrections(config)))


def _retention(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.flows.claims import _os_user  # the operating-system user, as the CLI's approval records it
    from pipeline.flows.retention import hold_command, retention_command  # lazy: its own flow only

    if args.hold or args.release:
        return hold_command(args.db, args.hold or args.release, release=bool(args.release),
                            username=f"cli:{_os_user()}")
    copies = {"inbox": args.inbox, "claims": args.claims, "aldis_outbox": args.aldis_outbox}
    return retention_command(args.db, args.workdir, args.as_of, apply=args.apply, verify=args.verify,
                             copies={kind: root for kind, root in copies.items() if root})


def _claims(args: argparse.Namespace, settings: Settings) -> None:
    # lazy: a subcommand loads only its own flow's libraries
    from pipeline.flows.claims import ClaimsConfig, payout_table, run_claims
    from pipeline.store.db import default_url

    args.workdir.mkdir(parents=True, exist_ok=True)
    config = ClaimsConfig(period=args.period, claims=str(args.claims), published=str(args.published),
                          aldis=str(args.aldis) if args.aldis else None, outbox=str(args.outbox),
                          policy=str(args.policy), db_url=args.db or default_url(args.workdir),
                          workdir=str(args.workdir), as_of=args.as_of)
    if bool(args.approve) != bool(args.digest):
        raise ConfigError("approving needs both --approve RUN_ID --digest SHA256, as the preview printed them")
    summary = run_claims(config, approve_run=(args.approve, args.digest) if args.approve else None)
    print(f"claims run {summary['run_id']}: {summary['claims']} claim(s) {summary['statuses']}, "
          f"{summary['quarantined']} quarantined line(s), audit sample {summary['audit_sample']}")
    print(payout_table(summary))
    print(f"claim results, payout.csv, audit_sample.csv and manifest.json: {summary['outbox']}")
    if "approved" in summary:
        print(f"approved: {summary['approved']['entries']} ledger entr(ies), "
              f"payout total {summary['approved']['payout_total_eur']} EUR")
    else:
        print("preview only: the payout ledger is unchanged; to record exactly this payout, run the same command "
              f"with --approve {summary['run_id']} --digest {summary['payout_digest']}")


def _generate_claims(args: argparse.Namespace, settings: Settings) -> None:
    from pipeline.generate.claims import generate_claims  # lazy: a subcommand loads only its own flow's libraries

    target = generate_claims(args.period, args.published, args.aldis, args.out, args.policy, seed=args.seed)
    print(f"claims written to {target}")


def _portal(args: argparse.Namespace, settings: Settings) -> None:
    from pipeline.portal.serve import serve  # lazy: a subcommand loads only its own flow's libraries

    serve(args.db, args.host, args.port)


def _portal_user(args: argparse.Namespace, settings: Settings) -> None:
    from pipeline.portal.serve import user_command  # lazy: a subcommand loads only its own flow's libraries

    user_command(args.user_command, args.db, getattr(args, "username", None), getattr(args, "role", None),
                 sys.stdin)


def _db(args: argparse.Namespace, settings: Settings) -> None:
    from pipeline.store.db import default_url  # lazy: a subcommand loads only its own flow's libraries
    from pipeline.store.migrate import upgrade
    from pipeline.store.url import safe_url

    url = args.db or os.environ.get("EIKIS_DB_OWNER_URL") or default_url(args.workdir)
    if url.startswith("sqlite"):
        args.workdir.mkdir(parents=True, exist_ok=True)
    before, after = upgrade(url, args.app_role or os.environ.get("EIKIS_DB_APP_ROLE") or None)
    state = "already at" if before == after else f"upgraded from {before or 'empty'} to"
    print(f"store {safe_url(url)}: {state} schema version {after}")


COMMANDS = {"generate": _generate, "ingest": _ingest, "run": _run, "aldis": _aldis, "claims": _claims,
            "generate-claims": _generate_claims, "corrections": _corrections,
            "generate-appeals": _generate_appeals, "retention": _retention,
            "portal": _portal, "portal-user": _portal_user, "simulate": _simulate, "db": _db}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_cli_logging(args.verbose)
    try:
        settings = Settings.from_env(needs_secret=args.command in ("ingest", "run", "aldis"))
        status = COMMANDS[args.command](args, settings)
    except Exception as exc:  # noqa: BLE001 - only the expected kinds become one line; the rest is re-raised
        line = one_line(exc)
        if line is None:
            raise
        log.debug("failure details", exc_info=True)  # -v only: a traceback for the engineer
        print(f"eikis: error: {line}", file=sys.stderr)
        return 2
    return status or 0


if __name__ == "__main__":
    sys.exit(main())
