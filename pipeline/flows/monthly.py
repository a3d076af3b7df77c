"""The monthly flow (CONTRACTS §9–§11): ingest → decide → publish → deliver → record.

One function per stage, the same for `eikis run` (which calls them in order, `run_month`; its ingest stages the
sources after ARIS at once, in forked processes) and for the `eikis_monthly` DAG (one task per call). Each stage
reads its inputs from the period's work folder or from the hand-off record the previous stage returned
(`pipeline.handoff`), and returns its own hand-off record; records turn into JSON with `to_dict` to travel as
XComs. Heavy imports stay inside the functions so the DAG file parses fast. Configuration comes from the run's
params, falling back to `EIKIS_*` environment variables, then defaults.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass, fields
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pipeline.catalog import SOURCE_ORDER, SOURCES_AFTER_ARIS
from pipeline.config import Settings
from pipeline.flows.processes import Finished, cpu_seconds, run_forked
from pipeline.handoff import DecisionSummary, PublishedOutbox, RunResult, SourceSummary
from pipeline.jobs import Job, RunJobs, run_in_order
from pipeline.logs import get_logger, timed
from pipeline.policy import Policy

log = get_logger("flows.monthly")

STAGES = ("ingest", "decide", "publish", "deliver", "record")
RIGA = ZoneInfo("Europe/Riga")


@dataclass(frozen=True)
class RunConfig:
    """Where one month's run reads and writes (all strings, so it travels as an XCom)."""

    period: str
    inbox: str
    workdir: str
    outbox: str = ""      # publish and later
    policy: str = ""      # decide
    db_url: str | None = None
    recipients: str | None = None
    accept_anomaly: str | None = None  # a reason to publish past the anomaly gate (stored)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def of(cls, config: RunConfig | dict[str, Any]) -> RunConfig:
        """A config as given by the CLI (this class) or by a DAG task (its dict; keys another flow adds, such as
        ALDIS's `traders`, are ignored)."""
        if isinstance(config, RunConfig):
            return config
        known = {item.name for item in fields(cls)}
        return cls(**{key: value for key, value in config.items() if key in known})


def period_of_interval(start: dt.datetime) -> str:
    """The consumption month a data interval covers: the month of its start, in Latvian time."""
    local = start.astimezone(RIGA) if start.tzinfo else start
    return f"{local.year:04d}-{local.month:02d}"


def resolve_config(params: dict[str, Any], data_interval_start: dt.datetime | None,
                   environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Params win over `EIKIS_*` variables, which win over defaults; the period comes from the data interval
    unless a param names one (a manual run for any month)."""
    from pipeline.period import parse_month
    from pipeline.store.db import default_url

    env = os.environ if environ is None else environ

    def pick(name: str, variable: str, default: str | None) -> str | None:
        value = params.get(name)
        return str(value) if value not in (None, "") else env.get(variable, default)

    period = params.get("period") or (period_of_interval(data_interval_start) if data_interval_start else None)
    if not period:
        raise ValueError("no period: give the `period` param or run the DAG on a schedule")
    parse_month(str(period))
    workdir = pick("workdir", "EIKIS_WORKDIR", "/opt/eikis/work")
    config = RunConfig(
        period=str(period),
        inbox=pick("inbox", "EIKIS_INBOX", "/opt/eikis/inbox"),
        outbox=pick("outbox", "EIKIS_OUTBOX", "/opt/eikis/outbox"),
        workdir=workdir,
        policy=pick("policy", "EIKIS_POLICY", "/opt/eikis/policy/eikis_policy.yaml"),
        db_url=pick("db_url", "EIKIS_DB_URL", None) or default_url(Path(workdir)),
        recipients=pick("recipients", "EIKIS_RECIPIENTS", None),
        accept_anomaly=str(params.get("accept_anomaly") or "").strip() or None,
    )
    return config.to_dict()


_LOCK_HELD: ContextVar[str | None] = ContextVar("eikis_monthly_lock_held", default=None)


@contextmanager
def _period_lock(run: RunConfig, *folders: str, shared: bool = False) -> Iterator[None]:
    """P's lock on the folders a stage writes (`publish.lock`): one run per period. A DAG task takes it itself;
    inside `run_month`, which holds it exclusively for the whole month, a stage does not take it again."""
    if _LOCK_HELD.get() == run.period:
        yield
        return
    from pipeline.publish.lock import period_lock

    with period_lock(run.period, *(Path(folder) for folder in folders), shared=shared):
        yield


def _policy(run: RunConfig) -> Policy | None:
    """The policy version in force for P (None when the config names none, e.g. `eikis ingest`)."""
    from pipeline.policy import load_policy

    return load_policy(Path(run.policy), run.period) if run.policy else None


def release_memory() -> None:
    """Hand memory back between stages: one process runs the whole month, and Arrow's allocator keeps freed
    pages otherwise, so the peak would be the sum of stages instead of the largest one."""
    import gc

    import pyarrow as pa

    gc.collect()
    pa.default_memory_pool().release_unused()


# ---------------------------------------------------------------- ingest
def inbox_missing(config: RunConfig | dict[str, Any]) -> list[str]:
    """Required sources with no file yet for P (the DAG's sensor waits until this is empty)."""
    from pipeline.errors import SourceError
    from pipeline.ingest import SOURCES, source_files

    run = RunConfig.of(config)
    missing = []
    for spec in SOURCES.values():
        try:
            source_files(Path(run.inbox), run.period, spec)
        except SourceError:
            missing.append(spec.name)
    return missing


def inbox_ready(config: RunConfig | dict[str, Any], scheduled: bool) -> bool:
    """The `wait_for_inbox` sensor's answer: True when every source of P is in, False to keep waiting.

    Only a scheduled run waits, and only once the inbox for P has begun to fill (`<inbox>/<P>/` exists). A
    scheduled run for a month nothing was delivered for (e.g. the one Airflow creates when the DAG is unpaused)
    and a manual run with a source missing fail at once with one line instead: with `max_active_runs=1` a run
    that waits days blocks every manual run behind it.
    """
    from pipeline.errors import SourceError

    run = RunConfig.of(config)
    missing = inbox_missing(run)
    if not missing:
        return True
    folder = Path(run.inbox) / run.period
    if not scheduled:
        raise SourceError(f"no file yet for {', '.join(missing)}; a manual run does not wait: trigger it again "
                          "once every source has landed", file=folder)
    if not folder.is_dir():
        raise SourceError(f"nothing delivered for {run.period} (no inbox folder); this scheduled run stops "
                          f"instead of waiting: trigger the DAG with period={run.period} once the providers "
                          "have delivered", file=folder)
    print(f"waiting for sources of {run.period}: {', '.join(missing)}")
    return False


def ingest(config: RunConfig | dict[str, Any], source: str, settings: Settings | None = None) -> SourceSummary:
    """Stage one source of P and run its data-quality suite (quarantine tolerance from the policy, if the config
    names one); ARIS must be ingested before the others. Parallel ingests of one run share P's lock."""
    from pipeline.logs import quiet_noisy_loggers
    from pipeline.quality.gx_context import start_warm_up

    quiet_noisy_loggers()  # before GX is imported: in a task log its import adds ~200 "Skipping registering" lines
    run = RunConfig.of(config)
    settings = settings or Settings.from_env()
    with _period_lock(run, run.workdir, shared=True), timed(log, f"ingest {source}"):
        start_warm_up()  # GX's import (seconds) overlaps the staging; the suite waits for it
        summary = _stage(run, source, settings)
        _validate(run, source, settings)
    return summary


def _stage(run: RunConfig, source: str, settings: Settings) -> SourceSummary:
    from pipeline.ingest import ingest_source

    return ingest_source(source, run.period, Path(run.inbox), Path(run.workdir), settings)


def _validate(run: RunConfig, source: str, settings: Settings) -> None:
    from pipeline.quality.expectations import validate_source

    validate_source(source, run.period, Path(run.workdir), settings, _policy(run))


def ingest_all(config: RunConfig | dict[str, Any], settings: Settings | None = None,
               on_start: Callable[[str, int], None] | None = None,
               on_finish: Callable[[Finished], None] | None = None) -> dict[str, SourceSummary]:
    """Every source of P. With one worker, one after the other in this process, in catalog order (ARIS first:
    the others are checked against it). With more, in forked processes, `settings.workers` at a time
    (`_ingest_at_once`).

    The first failure stops the sources still running (their partial staging is removed) and is raised as the
    source raised it. Summaries come back in catalog order whatever order the sources finished in; the Data Docs
    index is written once more at the end so it lists every source validated, whichever finished last.
    `on_start(source, pid)` and `on_finish(finished)` report progress (the benchmark prints them).
    """
    run = RunConfig.of(config)
    settings = settings or Settings.from_env()
    started = on_start or _nobody
    done = on_finish or _nobody
    with _period_lock(run, run.workdir, shared=True):
        held = _LOCK_HELD.set(run.period)  # the sources below run under this lock, in this process or forked
        try:
            if settings.workers <= 1:
                finished = [_ingest_here(run, source, settings, started, done) for source in SOURCE_ORDER]
            else:
                finished = _ingest_at_once(run, settings, started, done)
        finally:
            _LOCK_HELD.reset(held)
            _rewrite_data_docs_index(run, settings)
    by_source = {item.name: item.value for item in finished}
    return {source: by_source[source] for source in SOURCE_ORDER}


def _nobody(*_args: Any) -> None:
    """No one listening for progress."""


def _ingest_at_once(run: RunConfig, settings: Settings, on_start: Callable[[str, int], None],
                    on_finish: Callable[[Finished], None]) -> list[Finished]:
    """The sources in two rounds of forked processes, each round largest first, `settings.workers` at a time.

    Round one stages ARIS and the sources that never look an address up (`SOURCES_WITHOUT_ADDRESSES`: VID,
    VSAA, SOPA, prices), ARIS first. Once its first jobs are running, this process imports Great Expectations
    (≈ 5 CPU-s, one core), then validates ARIS as soon as it is staged. Round two forks from this now warm
    process (so no child imports GX again): the suites of round one's sources, and PMLP and the connection
    lists, staged (they check addresses against ARIS) and validated.

    Why: ARIS and the GX import used to run first and alone, one core mostly idle — a third of a 4 % month — and
    VID, the longest source, waited for them. (Starting every job of round one at once, so that none waits for
    this busy process to start it, measured no faster at 4 % and 5 s slower nationally.) A source's progress
    lines and its `Finished` cover both its rounds (walls and CPU seconds added; its `on_start` is reported
    again with its second process); ARIS's include the import.
    """
    from pipeline.catalog import SOURCES_WITHOUT_ADDRESSES
    from pipeline.logs import quiet_noisy_loggers
    from pipeline.quality.gx_context import warm_up_quietly

    quiet_noisy_loggers()  # before GX is imported here (the children inherit the levels)
    first = ["aris", *largest_first(run, SOURCES_WITHOUT_ADDRESSES)]
    staged: dict[str, Finished] = {}
    import_gx = Finished("aris", None, 0.0, 0.0)

    def staging_started(source: str, pid: int) -> None:
        nonlocal import_gx
        # ARIS's memory is sampled over this whole tree: its import and suite run in this process
        on_start(source, os.getpid() if source == "aris" else pid)
        if source == first[min(settings.workers, len(first)) - 1]:  # the round's first jobs are running
            import_gx = _measured("aris", warm_up_quietly)

    def staging_finished(done: Finished) -> None:
        if done.name == "aris":
            validated = _measured("aris", partial(_timed_validation, run, "aris", settings))
            done = _and_then(_and_then(done, import_gx), validated)
            on_finish(done)
        staged[done.name] = done

    log.info("ingest: %s staged, %d at a time, each in its own process, while this one imports GX and validates "
             "ARIS", ", ".join(first), settings.workers)
    run_forked([(source, partial(_timed_stage, run, source, settings)) for source in first], settings.workers,
               staging_started, staging_finished)
    release_memory()

    finished = [staged["aris"]]

    def round_two_finished(done: Finished) -> None:
        if done.name in staged:
            done = _and_then(staged[done.name], done)
        finished.append(done)
        on_finish(done)

    second = largest_first(run, SOURCES_AFTER_ARIS)
    log.info("ingest: %s, %d at a time, each in its own process (%s validated only)", ", ".join(second),
             settings.workers, ", ".join(first[1:]))
    jobs = [(source, partial(_timed_validation if source in staged else _ingest_forked, run, source, settings))
            for source in second]
    run_forked(jobs, settings.workers, on_start, round_two_finished)
    return finished


def _timed_stage(run: RunConfig, source: str, settings: Settings) -> SourceSummary:
    with timed(log, f"ingest {source}: staging"):
        return _stage(run, source, settings)


def _timed_validation(run: RunConfig, source: str, settings: Settings) -> None:
    with timed(log, f"ingest {source}: validation"):
        _validate(run, source, settings)


def _measured(name: str, work: Callable[[], Any]) -> Finished:
    """`work` run in this process, timed as a forked job is."""
    started, cpu = time.perf_counter(), cpu_seconds()
    value = work()
    return Finished(name, value, time.perf_counter() - started, cpu_seconds() - cpu)


def _and_then(first: Finished, then: Finished) -> Finished:
    """One source's two rounds as one: the first round's value (its staging summary), both rounds' time."""
    return Finished(first.name, first.value, first.seconds + then.seconds, first.cpu_seconds + then.cpu_seconds)


def _ingest_here(run: RunConfig, source: str, settings: Settings, on_start: Callable[[str, int], None],
                 on_finish: Callable[[Finished], None]) -> Finished:
    """One source in this process, measured as a forked one is, then its memory handed back."""
    on_start(source, os.getpid())
    done = _measured(source, partial(ingest, run, source, settings))
    release_memory()
    on_finish(done)
    return done


def _ingest_forked(run: RunConfig, source: str, settings: Settings) -> SourceSummary:
    """One source in a forked child of `ingest_all`: P's lock is held by the parent (whose descriptor the child
    shares), so the stage must not take it again — a second flock from the child would be refused as busy."""
    _LOCK_HELD.set(run.period)
    return ingest(run, source, settings)


FORK_MIN_ROWS = 400_000  # below this publish's jobs cost less than forking them (4 % month: +0.4 CPU-s a stage)


def jobs_runner(settings: Settings, rows: int) -> RunJobs:
    """How decide and publish run their independent jobs: `settings.workers` at a time, each in a process forked
    from this one (the frames already in memory are shared, not pickled; only each job's small result comes back),
    or one after the other in this process with one worker or when the stage's `rows` are fewer than
    `FORK_MIN_ROWS` — a fork of a run that has imported GX, and the imports and page copies each child then
    pays, cost more than a small month's jobs gain by running at once."""
    if settings.workers <= 1 or rows < FORK_MIN_ROWS:
        return run_in_order

    def finished(done: Finished) -> None:
        log.info("%s: %.2f s, %.2f cpu-s in its own process", done.name, done.seconds, done.cpu_seconds)

    def forked(jobs: Sequence[Job]) -> dict[str, Any]:
        return {name: done.value for name, done in run_forked(jobs, settings.workers, on_finish=finished).items()}

    return forked


def largest_first(run: RunConfig, sources: tuple[str, ...]) -> list[str]:
    """`sources` by the bytes of their input files for P, largest first (ties in catalog order): the longest job
    starts first, so the last ones to finish are short and both cores stay busy to the end. A source whose files
    cannot be listed counts as empty here; its own ingest raises the reason."""
    from pipeline.errors import SourceError
    from pipeline.ingest import SOURCES, source_files

    def size(source: str) -> int:
        try:
            return sum(path.stat().st_size for path in source_files(Path(run.inbox), run.period, SOURCES[source]))
        except (SourceError, OSError):
            return 0

    sizes = {source: size(source) for source in sources}
    return sorted(sources, key=lambda source: -sizes[source])


def _rewrite_data_docs_index(run: RunConfig, settings: Settings) -> None:
    """The Data Docs index once more, after every source: sources that ran at once each wrote it when they
    finished, and the last write may have listed fewer sources than there are."""
    from pipeline.config import WorkLayout, private_files
    from pipeline.quality.expectations import write_index

    layout = WorkLayout(Path(run.workdir), run.period)
    if settings.data_docs and layout.data_docs.is_dir():
        try:
            with private_files():
                write_index(layout)
        except OSError as exc:  # never in place of the error that stopped a source: the index is a convenience
            log.warning("data docs index not rewritten: %s", exc.strerror or type(exc).__name__)


# ---------------------------------------------------------------- decide
def decide(config: RunConfig | dict[str, Any], settings: Settings | None = None) -> DecisionSummary:
    """The §9 decision for P with the policy version in force; hands publish everything it needs (the policy
    digest and the anomaly tolerance included, so publish never loads the policy)."""
    from pipeline.config import WorkLayout
    from pipeline.decide.run import decide_period
    from pipeline.publish.anomaly import anomaly_tolerance

    run = RunConfig.of(config)
    policy = _policy(run)
    if policy is None:
        raise ValueError("decide needs the config's policy file")
    log.info("policy version %s in force for %s (%s)", policy.version, run.period, policy.digest)
    settings = settings or Settings.from_env()
    with _period_lock(run, run.workdir), timed(log, "decide"):
        # every source is validated by now: in Airflow, ingest tasks that ran at once each wrote the Data Docs
        # index as they finished, and the last write may list fewer sources than there are
        _rewrite_data_docs_index(run, settings)
        # decide's jobs run in this process: forked (`jobs_runner`), the national decide measured +3 CPU-s and
        # +0.7 GB with no clear wall gain on a loaded machine (docs/benchmarks.md, session 4 "decpub")
        summary = decide_period(run.period, Path(run.workdir), policy, settings)
        summary.anomaly_tolerance = anomaly_tolerance(policy)
        summary.save(WorkLayout(Path(run.workdir), run.period))
    return summary


# ---------------------------------------------------------------- publish
def publish(config: RunConfig | dict[str, Any], decision: DecisionSummary | dict[str, Any],
            accept_anomaly: str | None = None, settings: Settings | None = None) -> PublishedOutbox:
    """The month-over-month anomaly gate (with a store), then every recipient file, the manifest and the report,
    built aside and published with one rename. The recipient files are built in groups, `settings.workers` at a
    time in forked processes (`jobs_runner`); a group that fails stops the others, and the build folder, with
    whatever the groups wrote, is removed: nothing is published."""
    from pipeline.config import WorkLayout
    from pipeline.publish.atomic import build_folder
    from pipeline.publish.files import build_recipient_files
    from pipeline.publish.manifest import derive_run_id, write_manifest
    from pipeline.publish.report import History, write_report

    run = RunConfig.of(config)
    accept_anomaly = accept_anomaly or run.accept_anomaly
    decided = decision if isinstance(decision, DecisionSummary) else DecisionSummary.from_dict(decision)
    layout = WorkLayout(Path(run.workdir), run.period)
    run_id = derive_run_id(run.period, decided.input_sha256, decided.policy_digest)
    with _period_lock(run, run.workdir, run.outbox), timed(log, "publish"):
        history = History(tolerance=decided.anomaly_tolerance)
        if run.db_url:
            from pipeline.store.history import load_history

            accepted = check_anomalies(run, decided, run_id, accept_anomaly)
            history = load_history(run.db_url, run.period, decided.anomaly_tolerance,
                                   accept_anomaly if accepted else None)
        with build_folder(Path(run.outbox), run.period) as build:
            rows = decided.households + sum(counts["objects"] for counts in decided.connections.values())
            files = build_recipient_files(layout, build, jobs_runner(settings or Settings.from_env(), rows))
            write_manifest(build, run.period, run_id, decided.policy_digest, decided.support_types_on, files)
            report = write_report(layout, decided, files, run_id, history)
            published, recorded = _publish_and_record(run, build, run_id)
    return PublishedOutbox(run.period, run_id, str(published), str(report), files, recorded)


def _publish_and_record(run: RunConfig, build: Path, run_id: str) -> tuple[Path, dict[str, int] | None]:
    """Publish and record as one outcome: P's rows are written in an open transaction first (a store failing
    mid-way stops here, nothing published), the folder is swapped into place, then the transaction commits; a
    failed commit puts the previous publication back (`publishing`)."""
    from pipeline.publish.atomic import publishing

    if not run.db_url:
        with publishing(build, Path(run.outbox), run.period) as published:
            return published, None
    from pipeline.store.db import pending_record

    with pending_record(run.db_url, run.period, Path(run.workdir), build / "manifest.json", run_id) as pending, \
            publishing(build, Path(run.outbox), run.period) as published:
        pending.commit()
    return published, pending.loaded


def anomaly_gate(config: RunConfig | dict[str, Any], decision: DecisionSummary | dict[str, Any]) -> list[str]:
    """The DAG's `check_anomalies` task: the same gate `publish` runs, as a task of its own so that a month unlike
    the previous one is a visible failed task whose log ends with the reason. Returns the accepted anomalies."""
    from pipeline.publish.manifest import derive_run_id

    run = RunConfig.of(config)
    decided = decision if isinstance(decision, DecisionSummary) else DecisionSummary.from_dict(decision)
    if not run.db_url:
        return []
    run_id = derive_run_id(run.period, decided.input_sha256, decided.policy_digest)
    accepted = [anomaly.one_line() for anomaly in check_anomalies(run, decided, run_id, run.accept_anomaly)]
    for line in accepted:
        print(f"accepted anomaly ({run.accept_anomaly}): {line}")
    return accepted


def check_anomalies(run: RunConfig, decision: DecisionSummary, run_id: str,
                    accept_reason: str | None = None) -> list[Any]:
    """The gate before publishing: raise AnomalyFound naming the first measure beyond the policy's tolerance,
    unless `accept_reason` is given; accepted anomalies are recorded in the store."""
    from pipeline.config import WorkLayout
    from pipeline.publish.anomaly import find_anomalies, gate
    from pipeline.publish.figures import current_figures
    from pipeline.store.history import previous_month, record_accepted_anomalies

    figures = current_figures(WorkLayout(Path(run.workdir), run.period))
    anomalies = find_anomalies(figures, previous_month(run.db_url, run.period), decision.anomaly_tolerance)
    gate(anomalies, accept_reason)
    if anomalies and accept_reason:
        record_accepted_anomalies(run.db_url, run.period, run_id, anomalies, accept_reason.strip())
        log.warning("anomaly gate: %d measure(s) accepted: %s", len(anomalies), accept_reason.strip())
    return anomalies


# ---------------------------------------------------------------- deliver
def plan_delivery(config: RunConfig | dict[str, Any]) -> list[dict[str, Any]]:
    """One delivery plan per recipient of the published outbox, each with the company's or municipality's name
    (`name`, a label for the DAG's mapped task); none when no recipients file is configured."""
    from pipeline.config import WorkLayout
    from pipeline.deliver.sftp import RecipientsConfig, plan_deliveries
    from pipeline.publish.recipients import recipient_names

    run = RunConfig.of(config)
    if not run.recipients:
        return []
    recipients = RecipientsConfig.load(Path(run.recipients))
    names = recipient_names(WorkLayout(Path(run.workdir), run.period))
    return [{**plan.to_dict(), "name": names.get(plan.recipient, "")}
            for plan in plan_deliveries(Path(run.outbox), run.period, recipients)]


def endpoint_connection(config: RunConfig | dict[str, Any], plan: dict[str, Any],
                        get_connection: Callable[[str], Any]) -> dict[str, Any] | None:
    """The Airflow connection a plan's endpoint names (`airflow_conn_id` in the recipients file) as `deliver`
    takes it (host, port, login, password and extra, which carries the mandatory `host_key` or `known_hosts`),
    or None when the endpoint is given in the file itself.

    Every delivering DAG passes Airflow's `Connection.get` as `get_connection`, so the lookup is written once and
    `pipeline` never imports Airflow."""
    from pipeline.deliver.sftp import RecipientsConfig

    run = RunConfig.of(config)
    entry = RecipientsConfig.load(Path(run.recipients)).endpoints[plan["endpoint"]]
    if "airflow_conn_id" not in entry:
        return None
    found = get_connection(entry["airflow_conn_id"])
    return {"host": found.host, "port": found.port, "login": found.login, "password": found.password,
            "extra": found.extra_dejson}


def deliver(config: RunConfig | dict[str, Any], plan: dict[str, Any],
            connection: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Deliver one recipient; `connection` (an Airflow connection's host, port, login, password and extra)
    overrides the recipients file's endpoint. Returns one JSON-ready row per file for `record`."""
    from pipeline.deliver.sftp import DeliveryPlan, Endpoint, RecipientsConfig
    from pipeline.deliver.sftp import deliver as deliver_plan

    run = RunConfig.of(config)
    planned = DeliveryPlan(**{key: value for key, value in plan.items() if key != "name"})  # name: a label only
    if connection is None:
        target = RecipientsConfig.load(Path(run.recipients)).endpoint(planned.endpoint)
    else:
        target = Endpoint.from_connection(**connection)
    rows = deliver_plan(planned, target, Path(run.outbox), run.period, attempts=2)
    return [{k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in row.items()} for row in rows]


# ---------------------------------------------------------------- record
def record(config: RunConfig | dict[str, Any], published: PublishedOutbox | dict[str, Any],
           deliveries: list[list[dict[str, Any]]] | None = None) -> dict[str, int]:
    """Record P's deliveries (if any) in the store; P's decisions and files were recorded with the publication
    (`publish`), or are recorded here when the outbox was published without a store."""
    from pipeline.store.db import record_deliveries, record_period

    run = RunConfig.of(config)
    outbox = published if isinstance(published, PublishedOutbox) else PublishedOutbox.from_dict(published)
    with timed(log, "record"):
        loaded = dict(outbox.recorded) if outbox.recorded is not None else record_period(
            run.db_url, run.period, Path(run.workdir), Path(run.outbox), outbox.run_id)
        rows = [row for group in (deliveries or []) for row in (group or [])]
        if rows:
            record_deliveries(run.db_url, run.period, outbox.run_id, rows)
    loaded["deliveries"] = len(rows)
    return loaded


# ---------------------------------------------------------------- the whole month in one process
def run_month(period: str, inbox: Path, outbox: Path, policy: Path, workdir: Path, settings: Settings,
              db_url: str | None = None, accept_anomaly: str | None = None,
              recipients: Path | None = None) -> RunResult:
    """`eikis run`: ingest, decide, publish (behind the anomaly gate with a store), then (with recipients)
    deliver and (with a database URL) record — the same stage functions the DAG's tasks call, all under P's lock
    on the workdir and the outbox (one run per period)."""
    config = RunConfig(period=period, inbox=str(inbox), outbox=str(outbox), workdir=str(workdir), policy=str(policy),
                       db_url=db_url, recipients=str(recipients) if recipients else None)
    _policy(config)  # a policy error stops the run before minutes of ingest, not after
    with _period_lock(config, config.workdir, config.outbox):
        held = _LOCK_HELD.set(period)
        try:
            summaries = ingest_all(config, settings)
            decision = decide(config, settings)
            release_memory()
            published = publish(config, decision, accept_anomaly, settings)
            deliveries = [deliver(config, plan) for plan in plan_delivery(config)]
            result = RunResult(summaries, decision, published)
            if db_url:
                result.recorded = record(config, published, deliveries)
        finally:
            _LOCK_HELD.reset(held)
    return result
