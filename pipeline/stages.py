"""The embedded run's stages wired in order: what `eikis` runs in one process and Airflow runs as tasks."""

from __future__ import annotations

from pathlib import Path

from pipeline.config import Settings
from pipeline.ingest import SOURCE_ORDER, SourceSummary, ingest_source
from pipeline.quality.expectations import validate_source


def ingest_and_validate(period: str, inbox: Path, workdir: Path, settings: Settings) -> dict[str, SourceSummary]:
    """Stage and validate every source; the first failure stops the run."""
    summaries: dict[str, SourceSummary] = {}
    for source in SOURCE_ORDER:
        summaries[source] = ingest_source(source, period, inbox, workdir, settings)
        validate_source(source, period, workdir, settings)
    return summaries


def print_source_table(summaries: dict[str, SourceSummary]) -> None:
    print(f"{'source':<12}{'files':>6}{'records':>12}{'staged':>12}{'quarantined':>13}  reasons")
    for name, summary in summaries.items():
        reasons = ", ".join(f"{reason}={count}" for reason, count in summary.quarantined.items())
        print(f"{name:<12}{len(summary.files):>6}{summary.records:>12}{summary.staged:>12}"
              f"{summary.quarantined_total:>13}  {reasons}")
