"""The small records one stage hands to the next (ingest → decide → publish → deliver → record).

They live here, apart from the stages that produce them, so a producer and its consumers import one neutral module
and never each other. Each record is plain data: it is saved as JSON beside the period's internal files (so a later
stage, an Airflow task on another worker or the store can read it back) and travels as an XCom through `to_dict`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path, PurePosixPath
from typing import Any

from pipeline.catalog import SOURCE_ORDER
from pipeline.config import WorkLayout


def _from_dict(cls: type, data: dict[str, Any]) -> Any:
    """Build a record from a dict, ignoring keys it does not know (a newer producer may add some)."""
    known = {item.name for item in fields(cls)}
    return cls(**{key: value for key, value in data.items() if key in known})


@dataclass
class SourceSummary:
    """What one source delivered and what became of it (ingest → decide, report, store)."""

    source: str
    files: list[dict[str, object]] = field(default_factory=list)   # file, bytes, sha256, records per input file
    records: int = 0
    staged: int = 0
    quarantined: dict[str, int] = field(default_factory=dict)      # reason code -> records
    seconds: float = 0.0

    @property
    def quarantined_total(self) -> int:
        return sum(self.quarantined.values())

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def save(self, layout: WorkLayout) -> Path:
        layout.summaries.mkdir(parents=True, exist_ok=True)
        path = layout.summaries / f"{self.source}.json"
        path.write_text(json.dumps(asdict(self), indent=2, sort_keys=True), encoding="utf-8")
        return path

    @classmethod
    def load(cls, layout: WorkLayout, source: str) -> SourceSummary:
        path = layout.summaries / f"{source}.json"
        return _from_dict(cls, json.loads(path.read_text(encoding="utf-8")))


def source_summaries(layout: WorkLayout) -> dict[str, SourceSummary]:
    """Every source summary of P that exists, in ingest order."""
    return {source: SourceSummary.load(layout, source) for source in SOURCE_ORDER
            if (layout.summaries / f"{source}.json").exists()}


@dataclass
class DecisionSummary:
    """What decide hands to publish and the store: everything publish needs besides the decision tables.

    The decision tables themselves are Parquet files under `<workdir>/<P>/decisions/` (see `decide.run`);
    publish reads those and this record, never the policy, the staging tables or the quarantine.
    """

    period: str
    policy_version: str
    policy_digest: str
    support_types_on: list[str]
    prices: dict[str, str]
    persons_counting: int
    households: int
    eligible: int
    review: int
    input_sha256: list[str] = field(default_factory=list)   # every input file's sha256 (for the run id)
    anomaly_tolerance: float = 0.05                          # the policy's month-over-month gate (publish)
    connections: dict[str, dict[str, int]] = field(default_factory=dict)
    seconds: float = 0.0
    unmatched_income_records: int = 0  # quarantined VID/VSAA records no counting person owns (issue 9 point 1)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DecisionSummary:
        return _from_dict(cls, data)

    def save(self, layout: WorkLayout) -> None:
        path = layout.decisions / "decision.json"
        path.write_text(json.dumps(asdict(self), indent=2, sort_keys=True) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, layout: WorkLayout) -> DecisionSummary:
        return cls.from_dict(json.loads((layout.decisions / "decision.json").read_text(encoding="utf-8")))


def recipient_of(path: str) -> str:
    """The recipient a published file belongs to, from its path under `<outbox>/<P>` (CONTRACTS §10):
    `dso_electricity`, `traders_gas/<reg no>`, `heat/<reg no>`, `municipalities/<code>`."""
    parts = PurePosixPath(path).parts
    return parts[0] if parts[0].startswith("dso_") else "/".join(parts[:2])


def recipient_kind(recipient: str) -> str:
    """`dso`, `traders_electricity`, `traders_gas`, `heat` or `municipalities`."""
    return "dso" if recipient.startswith("dso_") else recipient.split("/", 1)[0]


@dataclass(frozen=True)
class RecipientFile:
    """One file written for a recipient: its path under `<outbox>/<P>` and its row count."""

    path: str
    rows: int

    @property
    def recipient(self) -> str:
        return recipient_of(self.path)


@dataclass
class PublishedOutbox:
    """What publish hands to deliver and record: the run id and where P's files are."""

    period: str
    run_id: str
    outbox: str            # `<outbox>/<P>`, published
    report: str            # the run report (HTML) in the workdir
    files: list[RecipientFile] = field(default_factory=list)
    recorded: dict[str, int] | None = None  # rows recorded with the publication (a store configured), else None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PublishedOutbox:
        record = _from_dict(cls, data)
        record.files = [item if isinstance(item, RecipientFile) else RecipientFile(**item) for item in record.files]
        return record


@dataclass
class RunResult:
    """A whole month run in one process (`eikis run`): each stage's hand-off record."""

    summaries: dict[str, SourceSummary]
    decision: DecisionSummary
    published: PublishedOutbox
    recorded: dict[str, int] | None = None

    @property
    def period(self) -> str:
        return self.published.period

    @property
    def run_id(self) -> str:
        return self.published.run_id

    @property
    def outbox(self) -> Path:
        return Path(self.published.outbox)

    @property
    def report(self) -> Path:
        return Path(self.published.report)

    @property
    def files(self) -> list[RecipientFile]:
        return self.published.files
