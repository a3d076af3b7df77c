"""What a source reader receives and returns, so `pipeline.ingest` can run any of them the same way."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.config import Settings, WorkLayout
from pipeline.sources.common import Quarantine


@dataclass(frozen=True)
class FileTask:
    """One input file to parse into one staged part (picklable, so it can go to a worker process)."""

    path: Path
    label: str
    part: Path
    secret: bytes
    batch_rows: int


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

    def tasks(self, source: str, files: list[Path]) -> list[FileTask]:
        parts = self.part_dir(source)
        return [
            FileTask(
                path=path,
                label=self.label(path),
                part=parts / f"part-{index:04d}.parquet",
                secret=self.settings.pseudonym_secret,
                batch_rows=self.settings.batch_rows,
            )
            for index, path in enumerate(files)
        ]

    def part_dir(self, source: str) -> Path:
        """Where a reader writes its parts; `pipeline.ingest` renames it into place only when staging succeeded."""
        return self.layout.staging / f".{source}.partial"

    def is_existing_address(self, codes: pd.Series) -> pd.Series:
        """True where a code is an ARIS address with status EKS (CONTRACTS §2)."""
        if self.address_status is None:
            raise RuntimeError("ARIS must be staged before sources that reference addresses")
        return codes.map(self.address_status).eq("EKS").fillna(False).astype(bool)


ParseFile = Callable[[FileTask], tuple[int, list[dict[str, Any]]]]


def stage_files(source: str, files: list[Path], ctx: StageContext, parse_file: ParseFile) -> StageResult:
    """Parse every file of a source into its own part (in worker processes) and gather their quarantines."""
    from pipeline.sources.common import Quarantine, map_files

    tasks = ctx.tasks(source, files)
    quarantine = Quarantine(source)
    per_file: dict[str, int] = {}
    for task, (records, rows) in zip(tasks, map_files(parse_file, tasks, ctx.settings.workers), strict=True):
        per_file[task.label] = records
        quarantine.extend(rows)
    return StageResult(parts=[task.part for task in tasks], quarantine=quarantine, records_per_file=per_file)


@dataclass
class StageResult:
    """A staged source: its part files, its quarantine, and records read per input file."""

    parts: list[Path]
    quarantine: Quarantine
    records_per_file: dict[str, int] = field(default_factory=dict)
