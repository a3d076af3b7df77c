"""The monthly flow (CONTRACTS §9–§11): ingest → decide → publish → deliver → record.

One function per stage, the same for `eikis run` (which calls them in order, `run_month`; its ingest hands the
DAG's per-source function to `EIKIS_WORKERS` processes of `concurrent.futures`, ARIS first) and for the
`eikis_monthly` DAG (one task per call; Airflow runs the sources after ARIS as parallel tasks). Each stage
reads its inputs from the period's work folder or from the hand-off record the previous stage returned
(`pipeline.handoff`), and returns its own hand-off record; records turn into JSON with `to_dict` to travel as
XComs. Heavy imports stay inside the functions so the DAG file parses fast. A DAG run's config is its month and
`accept_anomaly` only; paths and the store come from the deployment's `EIKIS_*` variables (`pipeline.config`).
"""

from __future__ import annotations

import datetime as dt
import gc
import multiprocessing
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pipeline.catalog import SOURCE_ORDER, SOURCES_WITHOUT_ADDRESSES
from pipeline.config import FlowConfig, Settings, WorkLayout, deployed, private_files, switch
from pipeline.deliver.tasks import deliver_planned
from pipeline.deliver.tasks import endpoint_connection as endpoint_connection  # a task body of the DAG
from pipeline.errors import SourceError
from pipeline.handoff import DecisionSummary, PublishedOutbox, RunResult, SourceSummary
from pipeline.inbox import listing
from pipeline.logs import get_logger, naming_source, quiet_noisy_loggers, timed
from pipeline.policy import Policy, load_policy
from pipeline.runlock import period_lock

log = get_logger("flows.monthly")

STAGES = ("ingest", "decide", "publish", "deliver", "record")
RIGA = ZoneInfo("Europe/Riga")


def period_of_interval(start: dt.datetime) -> str:
    """The consumption month a data interval covers: the month of its start, in Latvian time."""
    local = start.astimezone(RIGA) if start.tzinfo else start
    return f"{local.year:04d}-{local.month:02d}"


@dataclass(frozen=True)
class RunConfig(FlowConfig):
    """Where one month's run reads and writes: the month (the `period` param, else the data interval's) and
    `accept_anomaly` from the trigger, every path and the store from the deployment."""

    period: str
    inbox: str = deployed()
    workdir: str = deployed()
    outbox: str = deployed(default="")      # publish and later
    policy: str = deployed(default="")      # decide
    db_url: str | None = deployed(default=None)
    recipients: str | None = deployed(default=None)
    # a reason to publish past the anomaly gate (stored)
    accept_anomaly: str | None = switch(lambda reason: str(reason or "").strip() or None, default=None)

    @staticmethod
    def period_of(logical_date: dt.datetime | None) -> str | None:
        return period_of_interval(logical_date) if logical_date else None


@contextmanager
def _period_lock(run: RunConfig, *folders: str, shared: bool = False) -> Iterator[None]:
    """P's lock on the folders a stage writes (`pipeline.runlock`): one run per period. Each public stage function
    (a DAG task) takes it; `run_month` takes it once for the whole month and calls the stages' bodies beneath."""
    with period_lock(run.period, *(Path(folder) for folder in folders), shared=shared):
        yield


def _policy(run: RunConfig) -> Policy | None:
    """The policy version in force for P (None when the config names none, e.g. `eikis ingest`)."""
    return load_policy(Path(run.policy), run.period) if run.policy else None


def release_memory() -> None:
    """Hand memory back between stages: one process runs the whole month, and Arrow's allocator keeps freed
    pages otherwise, so the peak would be the sum of stages instead of the largest one."""
    import pyarrow as pa  # lazy: only to release Arrow's pool, and only if a stage loaded Arrow

    gc.collect()
    pa.default_memory_pool().release_unused()


# ---------------------------------------------------------------- ingest
def inbox_missing(run: RunConfig) -> list[str]:
    """Required sources with no file yet for P (the DAG's sensor waits until this is empty). An inbox of the wrong
    shape (a link, a folder named like a file, a subfolder) is not "not yet delivered": its one-line error is
    raised at once instead of being waited on."""
    from pipeline.ingest import SOURCES  # lazy: not at DAG parse

    return [spec.name for spec in SOURCES.values()
            if spec.required and not listing(Path(run.inbox), run.period, spec.folder, spec.suffix)]


def inbox_ready(run: RunConfig, scheduled: bool) -> bool:
    """The `wait_for_inbox` sensor's answer: True when every source of P is in, False to keep waiting.

    Only a scheduled run waits, and only once the inbox for P has begun to fill (`<inbox>/<P>/` exists). A
    scheduled run for a month nothing was delivered for (e.g. the one Airflow creates when the DAG is unpaused)
    and a manual run with a source missing fail at once with one line instead: with `max_active_runs=1` a run
    that waits days blocks every manual run behind it.
    """
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


def ingest(run: RunConfig, source: str, settings: Settings | None = None) -> SourceSummary:
    """Stage one source of P and run its data-quality suite (quarantine tolerance from the policy, if the config
    names one); ARIS must be ingested before the others. Parallel ingests of one run share P's lock."""
    with _period_lock(run, run.workdir, shared=True):
        return _ingest(run, source, settings or Settings.from_env())


def _ingest(run: RunConfig, source: str, settings: Settings) -> SourceSummary:
    from pipeline.ingest import ingest_source  # lazy: not at DAG parse
    from pipeline.quality.expectations import validate_source

    quiet_noisy_loggers()  # before GX is imported: in a task log its import adds ~200 "Skipping registering" lines
    with naming_source(source), timed(log, f"ingest {source}"):
        summary = ingest_source(source, run.period, Path(run.inbox), Path(run.workdir), settings)
        validate_source(source, run.period, Path(run.workdir), settings, _policy(run))
    return summary


@dataclass(frozen=True)
class Finished:
    """One source's ingest with the wall and CPU seconds it took (its worker processes' CPU included), for
    progress lines and the benchmark."""

    name: str
    value: Any
    seconds: float
    cpu_seconds: float


def cpu_seconds() -> float:
    """User + system CPU of this process and of its reaped children."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def ingest_all(run: RunConfig, settings: Settings | None = None,
               on_start: Callable[[str, int], None] | None = None,
               on_finish: Callable[[Finished], None] | None = None) -> dict[str, SourceSummary]:
    """Every source of P with the DAG's per-source function (`ingest`'s body), `settings.workers` sources at a
    time (`_ingest_in_processes`; one: one after the other in this process, in catalog order). ARIS goes first,
    beside the sources that check no address; the others start once it is staged. Within a source, its files or
    chunks are parsed `settings.workers` at a time too (`pipeline.sources.base`). The first failure starts no
    further source and is raised as the source raised it. `on_start(source, pid)` (pid: the run's process, whose
    tree ingests the source) and `on_finish(finished)` report progress (the benchmark prints them)."""
    with _period_lock(run, run.workdir, shared=True):
        return _ingest_all(run, settings or Settings.from_env(), on_start, on_finish)


def _ingest_all(run: RunConfig, settings: Settings, on_start: Callable[[str, int], None] | None = None,
                on_finish: Callable[[Finished], None] | None = None) -> dict[str, SourceSummary]:
    lanes = min(settings.workers, len(SOURCE_ORDER))
    try:
        if lanes > 1:
            summaries = _ingest_in_processes(run, settings, lanes, on_start, on_finish)
        else:
            summaries = {}
            for source in SOURCE_ORDER:
                if on_start:
                    on_start(source, os.getpid())
                finished = _ingest_finished(run, source, settings)
                summaries[source] = finished.value
                if on_finish:
                    on_finish(finished)
    finally:
        _rewrite_data_docs_index(run, settings)
    return {source: summaries[source] for source in SOURCE_ORDER}


def _ingest_finished(run: RunConfig, source: str, settings: Settings) -> Finished:
    """One source through the DAG's per-source function, timed; memory handed back before the next source."""
    started, cpu = time.perf_counter(), cpu_seconds()
    summary = _ingest(run, source, settings)
    release_memory()
    return Finished(source, summary, time.perf_counter() - started, cpu_seconds() - cpu)


def _ingest_in_processes(run: RunConfig, settings: Settings, lanes: int,
                         on_start: Callable[[str, int], None] | None,
                         on_finish: Callable[[Finished], None] | None) -> dict[str, SourceSummary]:
    """The sources in `lanes` worker processes forked from this one (`concurrent.futures`), a source handed out
    only when a lane is free, so that after a failure no further source starts; the lanes still running finish
    their source (their staging is whole) before the failure is raised.

    Processes, not threads: a source forks its own parsing and validation workers, and a fork taken while another
    thread holds the Great Expectations context's lock (or any other) leaves the child waiting on it for ever.
    Forked after GX is imported and the validation context made here: every lane inherits them instead of
    importing GX again. The lanes inherit P's lock with the run's descriptors and never take it themselves; a
    source's error comes back pickled with its file, line, record and reason (`EikisError`)."""
    # lazy: loaded when the run ingests, not when Airflow parses the DAG file
    from pipeline.quality.gx_context import prepare_validation

    prepare_validation()
    gc.freeze()  # what the lanes inherit (GX's modules) is neither walked nor copied by their collections
    try:
        return _hand_out(run, settings, lanes, on_start, on_finish)
    finally:
        gc.unfreeze()


def _hand_out(run: RunConfig, settings: Settings, lanes: int, on_start: Callable[[str, int], None] | None,
              on_finish: Callable[[Finished], None] | None) -> dict[str, SourceSummary]:
    """A source to each free lane (those checked against ARIS once ARIS is staged); results taken as they come."""
    summaries: dict[str, SourceSummary] = {}
    waiting = list(SOURCE_ORDER)
    with ProcessPoolExecutor(lanes, mp_context=multiprocessing.get_context("fork")) as pool:
        running: dict[Future[Finished], str] = {}
        while waiting or running:
            ready = [source for source in waiting if source == "aris" or source in SOURCES_WITHOUT_ADDRESSES
                     or "aris" in summaries]  # the others are checked against ARIS's staged addresses
            for source in ready[:lanes - len(running)]:
                waiting.remove(source)
                if on_start:
                    on_start(source, os.getpid())
                running[pool.submit(_ingest_finished, run, source, settings)] = source
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                source = running.pop(future)
                try:
                    finished = future.result()
                except BrokenProcessPool:
                    raise SourceError(f"ingest of {source} stopped: its process ended without a result (killed, "
                                      "or out of memory); nothing is published") from None
                summaries[source] = finished.value
                if on_finish:
                    on_finish(finished)
    return summaries


def _rewrite_data_docs_index(run: RunConfig, settings: Settings) -> None:
    """The Data Docs index once more, after every source: sources that ran at once each wrote it when they
    finished, and the last write may have listed fewer sources than there are."""
    from pipeline.quality.expectations import write_index  # lazy: not at DAG parse

    layout = WorkLayout(Path(run.workdir), run.period)
    if settings.data_docs and layout.data_docs.is_dir():
        try:
            with private_files():
                write_index(layout)
        except OSError as exc:  # never in place of the error that stopped a source: the index is a convenience
            log.warning("data docs index not rewritten: %s", exc.strerror or type(exc).__name__)


# ---------------------------------------------------------------- decide
def decide(run: RunConfig, settings: Settings | None = None) -> DecisionSummary:
    """The §9 decision for P with the policy version in force; hands publish everything it needs (the policy
    digest and the anomaly tolerance included, so publish never loads the policy)."""
    with _period_lock(run, run.workdir):
        return _decide(run, settings or Settings.from_env())


def _decide(run: RunConfig, settings: Settings) -> DecisionSummary:
    from pipeline.decide.run import decide_period  # lazy: not at DAG parse

    policy = _policy(run)
    if policy is None:
        raise ValueError("decide needs the config's policy file")
    log.info("policy version %s in force for %s (%s)", policy.version, run.period, policy.digest)
    with timed(log, "decide"):
        # every source is validated by now: in Airflow, ingest tasks that ran at once each wrote the Data Docs
        # index as they finished, and the last write may list fewer sources than there are
        _rewrite_data_docs_index(run, settings)
        summary = decide_period(run.period, Path(run.workdir), policy, settings)
        summary.anomaly_tolerance = policy.anomaly_tolerance()
        summary.save(WorkLayout(Path(run.workdir), run.period))
    return summary


# ---------------------------------------------------------------- publish
def publish(run: RunConfig, decided: DecisionSummary,
            gated: list[str] | None = None) -> PublishedOutbox:
    """The month-over-month anomaly gate (with a store), then every recipient file, the manifest and the report,
    built aside and published with one rename; a failure removes the build folder: nothing is published.

    `gated` is what the DAG's `check_anomalies` task returned (`anomaly_gate`: the anomalies its reason accepted):
    that task has run the gate, so publish does not run it a second time. Without it, publish runs the gate."""
    with _period_lock(run, run.workdir, run.outbox):
        return _publish(run, decided, run.accept_anomaly, gated)


def _publish(run: RunConfig, decided: DecisionSummary, accept_anomaly: str | None,
             gated: list[str] | None = None) -> PublishedOutbox:
    from pipeline.publish.atomic import build_folder  # lazy: not at DAG parse
    from pipeline.publish.corrections import carry_over_corrections
    from pipeline.publish.files import build_recipient_files
    from pipeline.publish.manifest import derive_run_id, write_manifest
    from pipeline.publish.report import History, write_report

    layout = WorkLayout(Path(run.workdir), run.period)
    run_id = derive_run_id(run.period, decided.input_sha256, decided.policy_digest)
    with timed(log, "publish"):
        history = History(tolerance=decided.anomaly_tolerance)
        if run.db_url:
            from pipeline.store.history import load_history  # lazy: not at DAG parse

            accepted = gated if gated is not None else check_anomalies(run, decided, run_id, accept_anomaly)
            history = load_history(run.db_url, run.period, decided.anomaly_tolerance,
                                   accept_anomaly if accepted else None)
        with build_folder(Path(run.outbox), run.period) as build:
            files = build_recipient_files(layout, build)
            write_manifest(build, run.period, run_id, decided.policy_digest, decided.support_types_on, files)
            report = write_report(layout, decided, files, run_id, history)
            carry_over_corrections(Path(run.outbox) / run.period, build)   # §16: published sets are kept
            published, recorded = _publish_and_record(run, build, run_id)
    return PublishedOutbox(run.period, run_id, str(published), str(report), files, recorded)


def _publish_and_record(run: RunConfig, build: Path, run_id: str) -> tuple[Path, dict[str, int] | None]:
    """Publish and record as one outcome: P's rows are written in an open transaction first (a store failing
    mid-way stops here, nothing published), the folder is swapped into place, then the transaction commits; a
    failed commit puts the previous publication back (`publishing`)."""
    from pipeline.publish.atomic import publishing  # lazy: not at DAG parse

    if not run.db_url:
        with publishing(build, Path(run.outbox), run.period) as published:
            return published, None
    from pipeline.store.db import pending_record  # lazy: not at DAG parse

    with pending_record(run.db_url, run.period, Path(run.workdir), build / "manifest.json", run_id) as pending, \
            publishing(build, Path(run.outbox), run.period) as published:
        pending.commit()
    return published, pending.loaded


def anomaly_gate(run: RunConfig, decided: DecisionSummary) -> list[str]:
    """The DAG's `check_anomalies` task: the gate `publish` would run, as a task of its own so that a month unlike
    the previous one is a visible failed task whose log ends with the reason. Returns the accepted anomalies, which
    the DAG hands to `publish` so that the gate runs once."""
    from pipeline.publish.manifest import derive_run_id  # lazy: not at DAG parse

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
    from pipeline.publish.anomaly import find_anomalies, gate  # lazy: not at DAG parse
    from pipeline.publish.figures import current_figures
    from pipeline.store.history import previous_month, record_accepted_anomalies

    figures = current_figures(WorkLayout(Path(run.workdir), run.period))
    previous = previous_month(run.db_url, run.period)
    anomalies = find_anomalies(figures, previous, decision.anomaly_tolerance)
    if previous is None:
        log.info("anomaly gate: no decided month before %s in the store, nothing to compare", run.period)
    else:
        log.info("anomaly gate: %s against %s, %d measure(s) beyond the tolerance", run.period, previous.period,
                 len(anomalies))
    gate(anomalies, accept_reason)
    if anomalies and accept_reason:
        record_accepted_anomalies(run.db_url, run.period, run_id, anomalies, accept_reason.strip())
        log.warning("anomaly gate: %d measure(s) accepted: %s", len(anomalies), accept_reason.strip())
    return anomalies


# ---------------------------------------------------------------- deliver
def plan_delivery(run: RunConfig) -> list[dict[str, Any]]:
    """One delivery plan per recipient of the published outbox, each with the company's or municipality's name
    (`name`, a label for the DAG's mapped task); none when no recipients file is configured."""
    from pipeline.deliver.sftp import RecipientsConfig, plan_deliveries  # lazy: not at DAG parse
    from pipeline.publish.recipients import recipient_names

    if not run.recipients:
        return []
    recipients = RecipientsConfig.load(Path(run.recipients))
    names = recipient_names(WorkLayout(Path(run.workdir), run.period))
    return [{**plan.to_dict(), "name": names.get(plan.recipient, "")}
            for plan in plan_deliveries(Path(run.outbox), run.period, recipients)]


# ---------------------------------------------------------------- record
def record(run: RunConfig, outbox: PublishedOutbox,
           deliveries: list[list[dict[str, Any]]] | None = None) -> dict[str, int]:
    """Record P's deliveries (if any) in the store; P's decisions and files were recorded with the publication
    (`publish`), or are recorded here when the outbox was published without a store."""
    from pipeline.store.db import record_deliveries, record_period  # lazy: not at DAG parse

    with timed(log, "record"):
        loaded = dict(outbox.recorded) if outbox.recorded is not None else record_period(
            run.db_url, run.period, Path(run.workdir), Path(run.outbox), outbox.run_id)
        rows = [row for group in (deliveries or []) for row in (group or [])]
        if rows:
            record_deliveries(run.db_url, run.period, outbox.run_id, rows)
    loaded["deliveries"] = len(rows)
    return loaded


def record_deliveries(run: RunConfig, outbox: PublishedOutbox | None,
                      deliveries: list[list[dict[str, Any]]]) -> int:
    """Record the deliveries of a month `record` has already stored (each recipient's rows; a failed or skipped
    delivery has none; nothing when nothing was published). Returns how many rows were written."""
    from pipeline.store.db import record_deliveries as store_deliveries  # lazy: not at DAG parse

    if outbox is None:
        return 0
    rows = [row for group in deliveries for row in (group or [])]
    if rows:
        store_deliveries(run.db_url, run.period, outbox.run_id, rows)
    return len(rows)


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
        summaries = _ingest_all(config, settings)
        decision = _decide(config, settings)
        release_memory()
        published = _publish(config, decision, accept_anomaly)  # with a store: P recorded with its publication,
        deliveries = [deliver_planned(config, plan) for plan in plan_delivery(config)]  # so before any delivery
        result = RunResult(summaries, decision, published)
        if db_url:
            result.recorded = record(config, published, deliveries)
    return result
