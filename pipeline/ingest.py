"""Ingest: read each source of period P from the inbox into typed staging tables and a quarantine.

Layout read (CONTRACTS §1): `<inbox>/<P>/<folder>/…`. Layout written (internal, never the outbox):
`<workdir>/<P>/staging/<source>.parquet/part-*.parquet`, `<workdir>/<P>/quarantine/<source>.parquet`,
`<workdir>/<P>/summaries/<source>.json`. ARIS goes first because every other source is checked against it;
the rest are independent and write only their own files, so Airflow runs them as parallel tasks and
`pipeline.flows.monthly.ingest_all` in parallel processes.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.catalog import SOURCE_ORDER, SOURCES_WITHOUT_ADDRESSES
from pipeline.config import Settings, WorkLayout, private_files
from pipeline.errors import SourceError
from pipeline.handoff import SourceSummary
from pipeline.inbox import listing, naming_the_inbox, private_copies, private_root
from pipeline.logs import get_logger
from pipeline.quality.reasons import Reason
from pipeline.sources import aris, connections, pmlp, prices, sopa, vid, vsaa
from pipeline.sources.base import StageContext, StageResult
from pipeline.sources.common import Quarantine, write_frame

log = get_logger("ingest")


@dataclass(frozen=True)
class SourceSpec:
    """Where a source lands in the inbox and how it is staged."""

    name: str
    folder: str
    suffix: str
    required: bool
    stage: Callable[[list[Path], StageContext], StageResult]
    schema: pa.Schema


def _stage_aris(files: list[Path], ctx: StageContext) -> StageResult:
    register = aris.read_register(files)
    quarantine = Quarantine("aris")
    malformed = ~register["aris_code"].str.fullmatch(r"[0-9]{9}").fillna(False).astype(bool)
    labels = {path.name: ctx.label(path) for path in files}
    for row in register.loc[malformed].itertuples():
        quarantine.add(file=labels.get(row.file, row.file), record=int(row.Index) + 1, line=0,
                       reason=Reason.INVALID_ARIS_CODE, detail="KODS is not 9 digits")
    part = ctx.part_dir("aris") / "part-0000.parquet"
    write_frame(register.loc[~malformed], part, aris.SCHEMA)
    per_file = register.groupby("file").size().to_dict()
    return StageResult(parts=[part], quarantine=quarantine, records_per_file={
        ctx.label(path): int(per_file.get(path.name, 0)) for path in files})


SOURCES: dict[str, SourceSpec] = {
    spec.name: spec
    for spec in (
        SourceSpec("aris", "aris", ".csv", True, _stage_aris, aris.SCHEMA),
        SourceSpec("pmlp", "pmlp", ".xml", True, pmlp.stage, pmlp.SCHEMA),
        SourceSpec("vid", "vid", ".xml", True, vid.stage, vid.SCHEMA),
        SourceSpec("vsaa", "vsaa", ".xml", True, vsaa.stage, vsaa.SCHEMA),
        *(SourceSpec(name, f"connections/{name}", ".csv", True, partial(connections.stage_commodity, name),
                     connections.SCHEMA) for name in ("electricity", "gas", "heat")),
        SourceSpec("prices", "prices", ".csv", True, prices.stage, prices.SCHEMA),
        SourceSpec("sopa", "sopa", ".xml", False, sopa.stage, sopa.SCHEMA),
    )
}
if tuple(SOURCES) != SOURCE_ORDER:
    raise RuntimeError("pipeline.catalog.SOURCE_ORDER must list the sources of pipeline.ingest.SOURCES in order")


def source_files(inbox: Path, period: str, spec: SourceSpec) -> list[Path]:
    """The files of one source for P in the inbox, sorted by name, through the inbox's one checked door
    (`pipeline.inbox.listing`: links, folders named like files and subfolders refused); a missing required source
    is a whole-run error."""
    files = listing(inbox, period, spec.folder, spec.suffix)
    if not files and spec.required:
        raise SourceError(f"required source {spec.name} is missing: no *{spec.suffix} files",
                          file=Path(inbox) / period / spec.folder)
    return files


def ingest_source(source: str, period: str, inbox: Path, workdir: Path, settings: Settings) -> SourceSummary:
    """Stage one source for P; ARIS must already be staged for every source that checks addresses (all but
    `SOURCES_WITHOUT_ADDRESSES`). Staging, quarantine and summaries hold personal codes and income: they are
    created owner-only."""
    layout = WorkLayout(Path(workdir), period)
    with private_files():
        layout.make_private()
        return _ingest_source(SOURCES[source], layout, Path(inbox), settings)


def _ingest_source(spec: SourceSpec, layout: WorkLayout, inbox: Path, settings: Settings) -> SourceSummary:
    source, period = spec.name, layout.period
    started = time.perf_counter()
    copies_root = private_root(layout.workdir, period)
    copies = private_copies(inbox, period, source_files(inbox, period, spec), copies_root)
    files = [copy.path for copy in copies]  # read only the run's private copies: nobody can change them mid-run
    ctx = StageContext(period=period, layout=layout, settings=settings, inbox=copies_root)
    if source != "aris" and source not in SOURCES_WITHOUT_ADDRESSES:
        ctx.address_status = load_address_status(layout)  # one listed there that checks one fails: no statuses
    partial = ctx.part_dir(source)
    shutil.rmtree(partial, ignore_errors=True)
    log.info("%s: staging %d file(s)", source, len(files))
    try:
        with naming_the_inbox(inbox, period, copies_root):
            result = spec.stage(files, ctx)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    if not list(partial.glob("*.parquet")):
        partial.mkdir(parents=True, exist_ok=True)
        pq.write_table(spec.schema.empty_table(), partial / "part-0000.parquet")
    final = layout.staged(source)
    shutil.rmtree(final, ignore_errors=True)
    partial.rename(final)
    layout.quarantine.mkdir(parents=True, exist_ok=True)
    pq.write_table(result.quarantine.table(), layout.quarantined(source), compression="zstd")

    digests = {copy.label: copy.sha256 for copy in copies} | result.digests
    summary = SourceSummary(
        source=source,
        files=[
            {"file": copy.label, "bytes": copy.size, "sha256": digests[copy.label],
             "records": result.records_per_file.get(copy.label, 0)}
            for copy in copies
        ],
        records=sum(result.records_per_file.values()),
        staged=staged_rows(layout, source),
        quarantined=result.quarantine.counts(),
        seconds=round(time.perf_counter() - started, 3),
    )
    summary.save(layout)
    log.info(
        "%s: %d records, %d staged, %d quarantined %s in %.2f s",
        source, summary.records, summary.staged, summary.quarantined_total, summary.quarantined or "",
        summary.seconds,
    )
    return summary


def staged_rows(layout: WorkLayout, source: str) -> int:
    folder = layout.staged(source)
    return sum(pq.ParquetFile(part).metadata.num_rows for part in sorted(folder.glob("*.parquet")))


def load_address_status(layout: WorkLayout) -> pd.Series:
    """aris_code -> status of the staged ARIS table. Each address-checking source's process loads it (1.6 M
    national addresses): built from the Arrow columns, as pandas' Arrow-backed strings, rather than through NumPy
    object arrays that pandas then converts back (figures: docs/benchmarks.md)."""
    folder = layout.staged("aris")
    if not folder.exists():
        raise SourceError("ARIS is not staged yet for this period; ingest aris first", file=folder)
    table = pq.read_table(folder, columns=["aris_code", "status"])
    return pd.Series(table["status"].to_pandas().array, index=pd.Index(table["aris_code"].to_pandas().array))
