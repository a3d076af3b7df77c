"""The store at national scale (issue 23): `make bench-store`, after a month decided with `eikis run --no-db`.

Prints, for the month in WORKDIR/OUTBOX, on the local PostgreSQL (a database of its own, dropped first):

1. **record**: `record_period` as `eikis run` calls it (wall and this process's CPU), then **the server's floor**
   for the same rows: a bare binary `COPY` of every row the month wrote into plain tables of the same columns (no
   index, no constraint, no partition), in the same run on the same server; the ratio of the two.
2. **SQLite**: the same `record_period` into a new embedded SQLite file (the default store).
3. **a full store**: `--months N` fills the N-1 months before P by churning P's rows in the server (see `fill_month`:
   moves, arrivals, departures and income changes, each decided by a hash of the person or household and the
   month), each month loaded and attached whole as a recorded month is; then, with N months stored, the store's size
   per month, the portal's three searches and household page (p50 / p95 over real persons of the inbox), the
   anomaly gate's history read, and retention of the months past the 24-month horizon (apply, then verify).

The figures go to `docs/benchmarks.md` with the command; nothing here asserts a target (`make test` proves the
behaviour, this measures it). Personal data never leaves the machine: queries are made from the inbox, timings only
are printed.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg2
from lxml import etree
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.pg import fresh_postgres_database  # noqa: E402 - the repository root first

QUERIES_PER_KIND = 200
PMLP_NS = "{urn:eikis:pmlp:persons:v1}"


@contextmanager
def timed(label: str, figures: dict[str, object]) -> Iterator[None]:
    """Wall and this process's CPU seconds of the block, printed and kept under `label`."""
    wall, cpu = time.perf_counter(), time.process_time()
    yield
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    figures[label] = {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2)}
    print(f"  {label:<44}{wall:>9.2f} s wall{cpu:>9.2f} s cpu (this process)", flush=True)


# ---------------------------------------------------------------- 1. record against the server's floor
def floor_copy(url: str, period: str) -> tuple[float, int]:
    """Seconds of a bare binary COPY of the month's rows (exported first, in memory) into plain tables of the same
    columns, in one transaction; and the rows copied."""
    from pipeline.store.db import PERIOD_TABLES

    tables = [*PERIOD_TABLES, "portal_household_ids"]
    dsn = url.replace("postgresql+psycopg2://", "postgresql://")
    conn = psycopg2.connect(dsn)
    exported: dict[str, bytes] = {}
    rows = 0
    with conn.cursor() as cursor:
        for table in tables:
            where = "" if table == "portal_household_ids" else f" WHERE period = '{period}'"
            buffer = io.BytesIO()
            cursor.copy_expert(f"COPY (SELECT * FROM {table}{where}) TO STDOUT (FORMAT binary)", buffer)
            exported[table] = buffer.getvalue()
            cursor.execute(f"SELECT count(*) FROM {table}{where}")
            rows += cursor.fetchone()[0]
            cursor.execute(f"CREATE TABLE floor_{table} AS SELECT * FROM {table} WITH NO DATA")
    conn.commit()
    started = time.perf_counter()
    with conn.cursor() as cursor:
        for table in tables:
            cursor.copy_expert(f"COPY floor_{table} FROM STDIN (FORMAT binary)", io.BytesIO(exported[table]))
    conn.commit()
    seconds = time.perf_counter() - started
    with conn.cursor() as cursor:
        for table in tables:
            cursor.execute(f"DROP TABLE floor_{table}")
    conn.commit()
    conn.close()
    return seconds, rows


# ---------------------------------------------------------------- 3. a store of N months
def month_before(period: str, months: int) -> str:
    index = int(period[:4]) * 12 + int(period[5:]) - 1 - months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _columns(conn, table: str) -> list[str]:
    return [row[0] for row in conn.execute(text(
        "SELECT column_name FROM information_schema.columns WHERE table_name = :t ORDER BY ordinal_position"),
        {"t": table})]


def fill_month(conn, source: str, month: str, households: int) -> None:
    """Month `month` made from `source`'s rows in the server, as if recorded: its own tables, then attached.

    Churn, each decided by a hash of the key and the month so that months differ from each other: 0.5 % of
    persons had not yet arrived (not in the month), 0.3 % have since left (a copy under a new key), 1 % lived at
    another address (one of P's households, by hash), every household's income within ±5 %, 2 % of households
    with the other status."""
    from pipeline.store.partitions import LOADING

    params = {"m": month, "src": source, "n": households}
    conn.execute(text("SELECT eikis_new_period_tables(:m)"), params)
    part = f"_p{month.replace('-', '_')}{LOADING}"
    gone = "abs(hashtext(person_key || :m)) % 1000 < 5"
    left = "abs(hashtext(person_key || :m || 'left')) % 1000 < 3"
    moved = "abs(hashtext(person_key || :m || 'moved')) % 100 = 0"
    new_key = "encode(sha256(convert_to(person_key || :m, 'UTF8')), 'hex')"
    other_home = ("(SELECT c.aris_code FROM bench_codes c WHERE c.rn = 1 + abs(hashtext(t.person_key || :m)) % :n)")
    income = "round({c} * (95 + abs(hashtext(aris_code || :m)) % 11) / 100, 2)"
    decisions = ", ".join(
        ":m" if c == "period" else
        income.format(c=c) if c in ("total_income_eur", "avg_income_eur") else
        "CASE WHEN abs(hashtext(aris_code || :m)) % 50 = 0 AND status = 'ELIGIBLE' THEN 'NOT_ELIGIBLE' "
        "WHEN abs(hashtext(aris_code || :m)) % 50 = 0 AND status = 'NOT_ELIGIBLE' THEN 'ELIGIBLE' ELSE status END"
        if c == "status" else c for c in _columns(conn, "household_decisions"))
    conn.execute(text(f"INSERT INTO household_decisions{part} SELECT {decisions} FROM household_decisions "
                      "WHERE period = :src"), params)
    conn.execute(text(f"INSERT INTO portal_households{part} SELECT :m, aris_code, address_search, income_months "
                      "FROM portal_households WHERE period = :src"), params)
    for table, rest in (("household_members", "total_eur"), ("portal_persons", "name_sealed")):
        home = f"CASE WHEN {moved} THEN {other_home} ELSE t.aris_code END"
        conn.execute(text(f"INSERT INTO {table}{part} (period, aris_code, person_key, {rest}) "
                          f"SELECT :m, {home}, person_key, {rest} FROM {table} t "
                          f"WHERE period = :src AND NOT {gone} "
                          f"UNION ALL SELECT :m, aris_code, {new_key}, {rest} FROM {table} t "
                          f"WHERE period = :src AND {left}"), params)
    conn.execute(text(f"INSERT INTO portal_name_tokens{part} (period, token_key, person_key) "
                      f"SELECT :m, token_key, person_key FROM portal_name_tokens t WHERE period = :src AND NOT {gone} "
                      f"UNION ALL SELECT :m, token_key, {new_key} FROM portal_name_tokens t "
                      f"WHERE period = :src AND {left}"), params)
    run_columns = ", ".join(":m" if c == "period" else c for c in _columns(conn, "runs"))
    conn.execute(text(f"INSERT INTO runs SELECT {run_columns} FROM runs WHERE period = :src "
                      "ON CONFLICT (period) DO NOTHING"), params)  # retention keeps a run record
    conn.execute(text("SELECT eikis_attach_period_tables(:m)"), params)


def fill_store(url: str, period: str, months: int, figures: dict[str, object]) -> list[str]:
    from pipeline.store.db import connect
    from pipeline.store.partitions import partition_name

    engine = connect(url)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS bench_codes"))  # left by a fill that was stopped
        conn.execute(text("CREATE TABLE bench_codes AS SELECT aris_code, row_number() OVER (ORDER BY aris_code) "
                          "AS rn FROM household_decisions WHERE period = :p"), {"p": period})
        conn.execute(text("CREATE UNIQUE INDEX ON bench_codes (rn)"))
        households = conn.execute(text("SELECT count(*) FROM bench_codes")).scalar_one()
    filled, seconds = [], []
    for back in range(1, months):
        month = month_before(period, back)
        with engine.connect() as conn:
            if conn.execute(text("SELECT to_regclass(:t)"), {"t": partition_name("household_members", month)}).scalar():
                continue  # filled by an earlier, stopped run (`--resume`)
        started = time.perf_counter()
        with engine.begin() as conn:
            fill_month(conn, period, month, households)
        seconds.append(time.perf_counter() - started)
        filled.append(month)
        print(f"  filled {month} in {seconds[-1]:.1f} s", flush=True)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE bench_codes"))
        conn.execute(text("ANALYZE"))
    if seconds:
        figures["fill_month_s"] = {"median": round(statistics.median(seconds), 2), "max": round(max(seconds), 2)}
    engine.dispose()
    return filled


def vacuum(url: str) -> None:
    """The state autovacuum leaves a month in minutes after its record (its insert threshold): every page marked
    all-visible, so a search reads the keys' index alone, not the rows behind it. The months this script fills
    follow each other faster than autovacuum comes round."""
    from pipeline.store.db import connect
    from pipeline.store.partitions import PERSONAL_PERIOD_TABLES

    engine = connect(url).execution_options(isolation_level="AUTOCOMMIT")  # VACUUM runs outside a transaction
    with engine.connect() as conn:
        for table in PERSONAL_PERIOD_TABLES:
            conn.execute(text(f"VACUUM (ANALYZE) {table}"))
    engine.dispose()


def store_size(url: str, period: str) -> dict[str, int]:
    from pipeline.store.db import connect
    from pipeline.store.partitions import PERSONAL_PERIOD_TABLES, partition_name

    engine = connect(url)
    with engine.connect() as conn:
        month = sum(conn.execute(text("SELECT pg_total_relation_size(:t)"),
                                 {"t": partition_name(table, period)}).scalar_one()
                    for table in PERSONAL_PERIOD_TABLES)
        total = conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
    engine.dispose()
    return {"month_bytes": int(month), "database_bytes": int(total)}


def inbox_queries(inbox: Path, period: str, count: int, seed: int = 7) -> dict[str, list[str]]:
    """Searches a caseworker would type, made from persons of the month's PMLP extract: a personal code, a full
    name, an address up to its first comma (street, house and flat)."""
    files = sorted((inbox / period / "pmlp").glob("*.xml"))
    persons: list[tuple[str, str, str]] = []
    parser = etree.iterparse(str(files[0]), tag=f"{PMLP_NS}Person", resolve_entities=False, no_network=True,
                             huge_tree=False)
    for _, element in parser:
        values = {child.tag.removeprefix(PMLP_NS): child.text or "" for child in element}
        if values.get("Status") == "ACTIVE" and values.get("Vital") == "ALIVE":
            persons.append((values["PersonCode"], f"{values['GivenName']} {values['Surname']}",
                            values.get("AddressText", "").split(",")[0]))
        element.clear()
        if len(persons) >= 50 * count:
            break
    chosen = random.Random(seed).sample(persons, count)
    return {"code": [p[0] for p in chosen], "name": [p[1] for p in chosen], "address": [p[2] for p in chosen]}


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {"p50_ms": round(1000 * statistics.median(ordered), 1),
            "p95_ms": round(1000 * ordered[int(0.95 * (len(ordered) - 1))], 1),
            "max_ms": round(1000 * ordered[-1], 1)}


def measure(call: Callable[[str], object], arguments: list[str]) -> tuple[dict[str, float], list[object]]:
    for argument in arguments[:5]:  # warm the connection pool and the server's caches
        call(argument)
    samples, results = [], []
    for argument in arguments:
        started = time.perf_counter()
        results.append(call(argument))
        samples.append(time.perf_counter() - started)
    return percentiles(samples), results


def portal_figures(url: str, inbox: Path, period: str, figures: dict[str, object]) -> None:
    from pipeline.config import Settings
    from pipeline.portal.lookup import Lookup
    from pipeline.store.db import connect

    settings = Settings.from_env(os.environ, needs_secret=True)
    lookup = Lookup(connect(url), settings.pseudonym_secret, settings.portal_data_key)
    queries = inbox_queries(inbox, period, QUERIES_PER_KIND)
    households: list[str] = []
    for kind in ("code", "name", "address"):
        timing, found = measure(lambda q, kind=kind: lookup.search(kind, q), queries[kind])
        hits = [result.total for result in found]
        timing["median_hits"] = statistics.median(hits)
        timing["found_share"] = round(sum(1 for h in hits if h) / len(hits), 2)
        figures[f"portal_search_{kind}"] = timing
        print(f"  portal search by {kind:<8} p50 {timing['p50_ms']:>7.1f} ms  p95 {timing['p95_ms']:>7.1f} ms  "
              f"max {timing['max_ms']:>7.1f} ms  (median {timing['median_hits']} hits, "
              f"{timing['found_share']:.0%} found)", flush=True)
        if kind == "code":
            households = [result.hits[0].household_id for result in found if result.hits]
    timing, _ = measure(lambda h: lookup.household(h, None), households)
    figures["portal_household_page"] = timing
    print(f"  portal household page    p50 {timing['p50_ms']:>7.1f} ms  p95 {timing['p95_ms']:>7.1f} ms  "
          f"max {timing['max_ms']:>7.1f} ms", flush=True)
    timing, _ = measure(lambda h: lookup.addresses({h}), households[:50])
    figures["audit_address_of_a_household"] = timing
    print(f"  audit log address lookup p50 {timing['p50_ms']:>7.1f} ms  p95 {timing['p95_ms']:>7.1f} ms", flush=True)
    lookup.engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, required=True, help="the workdir of `eikis run --no-db`")
    parser.add_argument("--outbox", type=Path, required=True, help="its outbox (the manifest is recorded)")
    parser.add_argument("--inbox", type=Path, required=True, help="its inbox (persons to search for)")
    parser.add_argument("--period", default="2026-11")
    parser.add_argument("--months", type=int, default=25, help="months in the full store (25: one to retain)")
    parser.add_argument("--database", default="eikis_bench_store")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--measure-only", action="store_true",
                        help="measure a store this script filled before (no new database, record or fill)")
    parser.add_argument("--vacuum", action="store_true",
                        help="VACUUM the stored months before measuring the portal (autovacuum's steady state)")
    parser.add_argument("--resume", action="store_true",
                        help="fill the months a stopped run left out (no new database, no record), then measure")
    parser.add_argument("--json", type=Path, default=ROOT / "bench_data" / "store.json")
    args = parser.parse_args()
    os.environ.setdefault("EIKIS_DEV_MODE", "1")
    from pipeline.store.db import connect

    if not (args.workdir / args.period / "decisions" / "decision.json").is_file():
        parser.error(f"{args.workdir} holds no decided {args.period}: run `eikis run --no-db --workdir "
                     f"{args.workdir} --outbox {args.outbox} …` on the inbox first")
    figures: dict[str, object] = {"period": args.period, "months": args.months}
    print(f"store benchmark: {args.period} from {args.workdir}", flush=True)
    url = f"postgresql+psycopg2://postgres@127.0.0.1:5432/{args.database}"
    if args.resume:
        fill_store(url, args.period, args.months, figures)
    elif not args.measure_only:
        record_and_fill(url, args, figures)
    if args.months > 1:
        measure_full_store(url, args, figures)
    connect(url).dispose()
    figures["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(f"figures written to {args.json}", flush=True)
    return 0


def record_and_fill(url: str, args: argparse.Namespace, figures: dict[str, object]) -> None:
    """1. and 2.: record against the floor, re-record, SQLite; then the months before P (3.)."""
    from pipeline.store.db import record_period

    if fresh_postgres_database(args.database) != url:  # tests/pg.py: dropped, created, migrated
        raise SystemExit("unset EIKIS_TEST_DB_SUFFIX: the benchmark names its database itself")
    with timed("record (PostgreSQL, new month)", figures):
        loaded = record_period(url, args.period, args.workdir, args.outbox, "bench")
    figures["rows"] = loaded
    floor, rows = floor_copy(url, args.period)
    record = figures["record (PostgreSQL, new month)"]["wall_s"]  # type: ignore[index]
    figures["floor_copy"] = {"wall_s": round(floor, 2), "rows": rows, "ratio": round(record / floor, 2)}
    print(f"  {'bare binary COPY of the same ' + format(rows, ',') + ' rows':<44}{floor:>9.2f} s wall"
          f"   record / floor = {record / floor:.1f}×", flush=True)
    with timed("re-record (PostgreSQL, same month)", figures):
        record_period(url, args.period, args.workdir, args.outbox, "bench-again")
    if not args.skip_sqlite:
        with tempfile.TemporaryDirectory(dir=args.workdir.parent) as folder, \
                timed("record (SQLite, new file)", figures):
            record_period(f"sqlite:///{Path(folder) / 'eikis.sqlite'}", args.period, args.workdir, args.outbox,
                          "bench")
    if args.months > 1:
        print(f"filling {args.months - 1} months before {args.period} in the server", flush=True)
        fill_store(url, args.period, args.months, figures)


def measure_full_store(url: str, args: argparse.Namespace, figures: dict[str, object]) -> None:
    """3.: the store's size, the portal, the gate's history and retention with every month in it."""
    from pipeline.flows.retention import apply_retention, verify_retention
    from pipeline.store.history import load_history

    filled = [month_before(args.period, back) for back in range(1, args.months)]
    # a month loaded whole (P itself was also re-recorded above: its partitions hold the dead rows of the delete)
    figures["size"] = store_size(url, month_before(args.period, 1))
    size = figures["size"]
    print(f"  store: {size['month_bytes'] / 1e9:.2f} GB per month (personal tables with indexes), "  # type: ignore[index]
          f"{size['database_bytes'] / 1e9:.1f} GB in all for {args.months} months", flush=True)  # type: ignore[index]
    if args.vacuum:
        with timed("VACUUM (ANALYZE) of every stored month", figures):
            vacuum(url)
    portal_figures(url, args.inbox, args.period, figures)
    with timed("anomaly gate's history (load_history)", figures):
        load_history(url, args.period, 0.25)
    with tempfile.TemporaryDirectory(dir=args.workdir.parent) as empty:
        with timed(f"retention apply ({len([m for m in filled if m < month_before(args.period, 23)])} "
                   "month past 24)", figures):
            apply_retention(url, Path(empty), as_of=month_before(args.period, -1))
        with timed("retention verify", figures):
            left = verify_retention(url, Path(empty), as_of=month_before(args.period, -1))
    figures["retention_left"] = len(left)


if __name__ == "__main__":
    raise SystemExit(main())
