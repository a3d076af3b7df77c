"""What a source reader receives and returns, so `pipeline.ingest` can run any of them the same way."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.config import Settings, WorkLayout
from pipeline.filework import map_files
from pipeline.logs import get_logger
from pipeline.sources.common import Quarantine
from pipeline.sources.xmlstream import Chunk, ChunkMismatch, XmlLayout, plan_chunks

log = get_logger("sources")


SPLIT_ABOVE_BYTES = 16 << 20     # a smaller file is always parsed whole
CHUNK_BYTES = 512 << 20          # a larger file is split into chunks of about this size


@dataclass(frozen=True)
class FileTask:
    """One input file (or one chunk of it) to parse into one staged part; picklable for a worker process."""

    path: Path
    label: str
    part: Path
    secret: bytes
    batch_rows: int
    chunk: Chunk | None = None
    data_key: bytes = b""      # seals display names (PMLP only)


@dataclass
class StageContext:
    """Everything a reader may look at: the period, where to write, settings, and the ARIS address statuses."""

    period: str
    layout: WorkLayout
    settings: Settings
    inbox: Path
    address_status: pd.Series | None = None  # aris_code -> STATUSS, from the staged ARIS table

    def label(self, path: Path) -> str:
        """A file's name relative to the period's inbox, as it appears in errors and the quarantine."""
        try:
            return str(path.relative_to(self.inbox))
        except ValueError:
            return path.name

    def tasks(self, source: str, files: list[Path], layout: XmlLayout | None = None) -> list[FileTask]:
        """One task per file, or per chunk where a file is large or the files are fewer than the workers."""
        parts = self.part_dir(source)
        tasks = []
        for index, path in enumerate(files):
            chunks = None
            size = path.stat().st_size
            if layout is not None and size > SPLIT_ABOVE_BYTES:
                wanted = max(-(-size // CHUNK_BYTES), self.settings.workers if len(files) < self.settings.workers
                             else 1)
                chunks = plan_chunks(path, layout, wanted)
            for number, chunk in enumerate(chunks or [None]):
                name = f"part-{index:04d}-{number:03d}.parquet" if chunks else f"part-{index:04d}.parquet"
                tasks.append(FileTask(path=path, label=self.label(path), part=parts / name,
                                      secret=self.settings.pseudonym_secret, batch_rows=self.settings.batch_rows,
                                      chunk=chunk, data_key=self.settings.portal_data_key))
        return tasks

    def part_dir(self, source: str) -> Path:
        """Where a reader writes its parts; `pipeline.ingest` renames it into place only when staging succeeded."""
        return self.layout.staging / f".{source}.partial"

    def is_existing_address(self, codes: pa.Array | pa.ChunkedArray) -> np.ndarray:
        """True where a code is an ARIS address with status EKS (CONTRACTS §2); a hash lookup in Arrow."""
        if self.address_status is None:
            raise RuntimeError("ARIS must be staged before sources that reference addresses")
        status = self.address_status
        existing = pa.array(status.index).filter(pc.equal(pa.array(status.array), "EKS")).cast(codes.type)
        return pc.is_in(codes, value_set=existing).to_numpy(zero_copy_only=False)


ParseFile = Callable[[FileTask], tuple[int, list[dict[str, Any]], str | None]]


def stage_files(source: str, files: list[Path], ctx: StageContext, parse_file: ParseFile,
                layout: XmlLayout) -> StageResult:
    """Parse every file (or chunk) of a source into its own part, in worker processes, and gather quarantines."""
    tasks = ctx.tasks(source, files, layout)
    try:
        outcomes = map_files(parse_file, tasks, ctx.settings.workers)
    except ChunkMismatch as exc:
        log.warning("%s; parsing %s without chunks", exc, source)
        for task in tasks:
            task.part.unlink(missing_ok=True)
        tasks = ctx.tasks(source, files, None)
        outcomes = map_files(parse_file, tasks, ctx.settings.workers)
    quarantine = Quarantine(source)
    for _, rows, _ in outcomes:
        quarantine.extend(rows)
    quarantine.rows.sort(key=lambda row: (row["file"], row["record"], row["line"]))
    result = StageResult(parts=[task.part for task in tasks], quarantine=quarantine)
    result.add_file_outcomes(tasks, [(records, sha) for records, _, sha in outcomes])
    return result


@dataclass
class StageResult:
    """A staged source: its part files, its quarantine, and records read per input file."""

    parts: list[Path]
    quarantine: Quarantine
    records_per_file: dict[str, int] = field(default_factory=dict)
    digests: dict[str, str] = field(default_factory=dict)  # sha256 per file label, where parsing computed it

    def add_file_outcomes(self, tasks: list[FileTask], outcomes: list[tuple[int, str | None]]) -> None:
        """Sum records per input file over its chunks, and keep the sha256 a whole-file parse computed."""
        for task, (records, sha) in zip(tasks, outcomes, strict=True):
            self.records_per_file[task.label] = self.records_per_file.get(task.label, 0) + records
            if sha:
                self.digests[task.label] = sha
