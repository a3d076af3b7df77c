"""`eikis`: the embedded command line (CONTRACTS §11). No Airflow needed.

Exit 0 on success; on failure, exit non-zero with one line on stderr naming the file, record and reason.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from pipeline.config import Settings
from pipeline.errors import EikisError
from pipeline.logs import configure_cli_logging
from pipeline.period import parse_month


def _period(text: str) -> str:
    try:
        parse_month(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="eikis", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command", required=True)

    generate = commands.add_parser("generate", help="write a synthetic inbox in the contract formats")
    generate.add_argument("--period", type=_period, required=True, help="consumption month YYYY-MM")
    generate.add_argument("--out", type=Path, required=True, help="inbox root; files go to OUT/PERIOD/")
    generate.add_argument("--scale", choices=("sample", "national"), default="sample")
    generate.add_argument("--seed", type=int, default=1)
    generate.add_argument("--fraction", type=float, default=1.0, help="shrink the national scale (0-1]")
    generate.add_argument("--inject-bad", action="store_true", help="add one bad record of every kind")

    ingest = commands.add_parser("ingest", help="stage and validate every source of a month")
    _common_run_arguments(ingest)

    run = commands.add_parser("run", help="run the whole month: ingest, validate, decide, publish")
    _common_run_arguments(run)
    run.add_argument("--outbox", type=Path, required=True, help="outbox root; files go to OUTBOX/PERIOD/")
    run.add_argument("--policy", type=Path, required=True, help="policy YAML (minimal or effective-dated)")
    run.add_argument("--db", help="SQLAlchemy URL of the store (default: EIKIS_DB_URL, else WORKDIR/eikis.sqlite)")
    run.add_argument("--no-db", action="store_true", help="do not record the run in a store")

    purge = commands.add_parser("purge", help="delete stored periods older than the retention (24 months)")
    purge.add_argument("--db", required=True, help="SQLAlchemy URL of the store")
    purge.add_argument("--keep-months", type=int, default=24)

    return parser


def _common_run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--period", type=_period, required=True, help="consumption month YYYY-MM")
    parser.add_argument("--inbox", type=Path, required=True, help="inbox root holding PERIOD/")
    parser.add_argument("--workdir", type=Path, default=Path("var/work"), help="internal files (default var/work)")


def _generate(args: argparse.Namespace, settings: Settings) -> None:
    from pipeline.generate.inbox import generate_inbox

    target = generate_inbox(args.period, args.out, scale=args.scale, seed=args.seed, inject_bad=args.inject_bad,
                            fraction=args.fraction, workers=settings.workers)
    print(f"inbox written to {target}")


def _ingest(args: argparse.Namespace, settings: Settings) -> None:
    from pipeline.publish.lock import period_lock
    from pipeline.stages import ingest_and_validate, print_source_table

    with period_lock(args.period, args.workdir):
        summaries = ingest_and_validate(args.period, args.inbox, args.workdir, settings)
    print_source_table(summaries)
    print(f"staging, quarantine and data docs in {args.workdir / args.period}")


def _run(args: argparse.Namespace, settings: Settings) -> None:
    from pipeline.stages import print_source_table, run_month
    from pipeline.store.db import default_url

    db_url = None if args.no_db else (args.db or default_url(args.workdir))
    result = run_month(args.period, args.inbox, args.outbox, args.policy, args.workdir, settings, db_url)
    print_source_table(result.summaries)
    decision = result.decision
    print(f"run {result.run_id}: {decision.households} households, {decision.eligible} eligible, "
          f"{decision.review} for review; support on: {', '.join(decision.support_types_on) or 'none'}")
    print(f"recipient files ({len(result.files)}) and manifest.json: {result.outbox}")
    print(f"run report: {result.report}")
    print(f"decision records, staging, quarantine, data docs: {args.workdir / args.period}")
    if db_url:
        print(f"store: {db_url.split('@')[-1]}")


def _purge(args: argparse.Namespace, settings: Settings) -> None:
    import datetime as dt

    from pipeline.store.db import purge

    deleted = purge(args.db, dt.date.today(), args.keep_months)
    print(f"purged: {deleted}")


COMMANDS = {"generate": _generate, "ingest": _ingest, "run": _run, "purge": _purge}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_cli_logging(args.verbose)
    settings = Settings.from_env(needs_secret=args.command in ("ingest", "run"))
    try:
        COMMANDS[args.command](args, settings)
    except EikisError as exc:
        print(f"eikis: error: {exc.one_line()}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
