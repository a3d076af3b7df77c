"""The embedded run's stages wired in order: what `eikis run` does in one process and Airflow does as tasks."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pipeline.config import Settings, WorkLayout
from pipeline.decide.run import DecisionSummary, decide_period
from pipeline.ingest import SOURCE_ORDER, SourceSummary, ingest_source
from pipeline.logs import get_logger, timed
from pipeline.policy import Policy, load_policy
from pipeline.publish.atomic import build_folder, publish
from pipeline.publish.files import RecipientFile, build_recipient_files
from pipeline.publish.lock import period_lock
from pipeline.publish.manifest import derive_run_id, write_manifest
from pipeline.publish.report import write_report
from pipeline.quality.expectations import validate_source

log = get_logger("run")


@dataclass
class RunResult:
    period: str
    run_id: str
    outbox: Path
    report: Path
    decision: DecisionSummary
    files: list[RecipientFile]
    summaries: dict[str, SourceSummary] = field(default_factory=dict)


def release_memory() -> None:
    """Hand memory back between stages: one process runs the whole month, and Arrow's allocator keeps freed
    pages otherwise, so the peak would be the sum of stages instead of the largest one."""
    import gc

    import pyarrow as pa

    gc.collect()
    pa.default_memory_pool().release_unused()


def ingest_and_validate(period: str, inbox: Path, workdir: Path, settings: Settings,
                        policy: Policy | None = None) -> dict[str, SourceSummary]:
    """Stage and validate every source (quarantine tolerance from the policy); the first failure stops the run."""
    summaries: dict[str, SourceSummary] = {}
    for source in SOURCE_ORDER:
        with timed(log, f"ingest {source}"):
            summaries[source] = ingest_source(source, period, inbox, workdir, settings)
            validate_source(source, period, workdir, settings, policy)
        release_memory()
    return summaries


def input_digests(layout: WorkLayout) -> list[str]:
    return [str(item["sha256"]) for source in SOURCE_ORDER if (layout.summaries / f"{source}.json").exists()
            for item in SourceSummary.load(layout, source).files]


def build_and_publish(period: str, workdir: Path, outbox: Path, policy: Policy) -> RunResult:
    """Write every recipient file, the manifest and the report aside, then publish P with one rename."""
    layout = WorkLayout(Path(workdir), period)
    decision = DecisionSummary.load(layout)
    run_id = derive_run_id(period, input_digests(layout), policy.digest)
    with build_folder(Path(outbox), period) as build:
        files = build_recipient_files(layout, build)
        write_manifest(build, period, run_id, policy.digest, decision.support_types_on, files)
        report = write_report(layout, decision, files, run_id)
        published = publish(build, Path(outbox), period)
    return RunResult(period, run_id, published, report, decision, files)


def run_month(period: str, inbox: Path, outbox: Path, policy_path: Path, workdir: Path,
              settings: Settings, db_url: str | None = None) -> RunResult:
    """The whole month: ingest + validation, decision, files, manifest, report, publication, and (with a
    database URL) the store — all under P's lock on the workdir and the outbox (one run per period)."""
    with period_lock(period, workdir, outbox):
        return _run_month_locked(period, inbox, outbox, policy_path, workdir, settings, db_url)


def _run_month_locked(period: str, inbox: Path, outbox: Path, policy_path: Path, workdir: Path,
                      settings: Settings, db_url: str | None) -> RunResult:
    policy = load_policy(policy_path, period)
    log.info("policy version %s in force for %s (%s)", policy.version, period, policy.digest)
    summaries = ingest_and_validate(period, inbox, workdir, settings, policy)
    with timed(log, "decide"):
        decide_period(period, workdir, policy, settings)
    release_memory()
    with timed(log, "publish"):
        result = build_and_publish(period, workdir, outbox, policy)
    result.summaries = summaries
    if db_url:
        from pipeline.store.db import record_period

        with timed(log, "store"):
            record_period(db_url, period, workdir, outbox, result.run_id)
    return result


def print_source_table(summaries: dict[str, SourceSummary]) -> None:
    print(f"{'source':<12}{'files':>6}{'records':>12}{'staged':>12}{'quarantined':>13}  reasons")
    for name, summary in summaries.items():
        reasons = ", ".join(f"{reason}={count}" for reason, count in summary.quarantined.items())
        print(f"{name:<12}{len(summary.files):>6}{summary.records:>12}{summary.staged:>12}"
              f"{summary.quarantined_total:>13}  {reasons}")
