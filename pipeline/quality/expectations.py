"""Great Expectations suites (one JSON file per source under `expectations/`) run on each staged table.

A suite's row-count expectation takes `min_staged_rows` at run time: staged rows must be at least
`(1 - tolerance) × records read`, which is the quarantined-share limit expressed on the staged table, so the
tolerance lives in settings and not in the suite. Results never carry offending values (they may be personal
codes): only expectation names and counts. Each source gets its own Data Docs site under
`<workdir>/<P>/data_docs/<source>/`, and an index page links them, so parallel Airflow tasks never share a store.
"""

from __future__ import annotations

import html
import json
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pyarrow.parquet as pq

from pipeline.config import Settings, WorkLayout
from pipeline.errors import ValidationFailed
from pipeline.ingest import SourceSummary
from pipeline.logs import get_logger

log = get_logger("quality.expectations")


def suites_dir() -> Path:
    """`expectations/` at the project root, or `EIKIS_EXPECTATIONS_DIR`."""
    configured = os.environ.get("EIKIS_EXPECTATIONS_DIR")
    return Path(configured) if configured else Path(__file__).resolve().parents[2] / "expectations"


def load_suite(source: str) -> dict:
    path = suites_dir() / f"{source}.json"
    return json.loads(path.read_text(encoding="utf-8"))


def suite_columns(suite: dict) -> list[str]:
    """The staged columns a suite reads, so only those are loaded."""
    columns: list[str] = []
    for expectation in suite["expectations"]:
        kwargs = expectation["kwargs"]
        for key in ("column", "column_A", "column_B"):
            if key in kwargs and kwargs[key] not in columns:
                columns.append(kwargs[key])
        for column in kwargs.get("column_list", []):
            if column not in columns:
                columns.append(column)
    return columns


@dataclass
class ValidationSummary:
    source: str
    success: bool
    evaluated: int
    failed: list[dict[str, object]] = field(default_factory=list)
    min_staged_rows: int = 0

    def save(self, layout: WorkLayout) -> None:
        path = layout.summaries / f"{self.source}.validation.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=2, sort_keys=True), encoding="utf-8")


def validate_source(source: str, period: str, workdir: Path, settings: Settings) -> ValidationSummary:
    """Run the source's suite on its staged table; raise ValidationFailed naming every failed expectation."""
    import great_expectations as gx  # imported here: ≈3 s, and only validation needs it
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    layout = WorkLayout(Path(workdir), period)
    ingest = SourceSummary.load(layout, source)
    suite_json = load_suite(source)
    columns = suite_columns(suite_json)
    frame = pq.read_table(layout.staged(source), columns=columns).to_pandas()
    min_rows = max(1, math.ceil(ingest.records * (1 - settings.quarantine_tolerance)))
    if source == "sopa" and not ingest.files:
        min_rows = 0

    sites = {}
    if settings.data_docs:
        sites["eikis"] = {
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                              "base_directory": str((layout.data_docs / source).resolve())},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        }
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        data_docs_sites=sites,
        progress_bars=ProgressBarsConfig(globally=False),
    )
    context = gx.get_context(mode="ephemeral", project_config=config)
    suite = context.suites.add(gx.ExpectationSuite(**suite_json))
    batch = (
        context.data_sources.add_or_update_pandas("eikis")
        .add_dataframe_asset(source)
        .add_batch_definition_whole_dataframe("staged")
    )
    definition = context.validation_definitions.add(gx.ValidationDefinition(name=source, data=batch, suite=suite))
    actions = [gx.checkpoint.UpdateDataDocsAction(name="data_docs")] if settings.data_docs else []
    checkpoint = context.checkpoints.add(
        gx.Checkpoint(
            name=f"{source}_checkpoint",
            validation_definitions=[definition],
            actions=actions,
            result_format={"result_format": "SUMMARY", "partial_unexpected_count": 0},
        )
    )
    result = checkpoint.run(batch_parameters={"dataframe": frame},
                            expectation_parameters={"min_staged_rows": min_rows})
    failed: list[dict[str, object]] = []
    evaluated = 0
    for validation in result.run_results.values():
        for outcome in validation.results:
            evaluated += 1
            if not outcome.success:
                config = outcome.expectation_config
                column = config.kwargs.get("column") or config.kwargs.get("column_list") or ""
                failed.append({
                    "expectation": config.type,
                    "column": column,
                    "unexpected_count": outcome.result.get("unexpected_count"),
                    "observed_value": _safe_observed(outcome.result.get("observed_value")),
                })
    summary = ValidationSummary(source=source, success=not failed, evaluated=evaluated, failed=failed,
                                min_staged_rows=min_rows)
    summary.save(layout)
    if settings.data_docs:
        write_index(layout)
    log.info("%s: %d expectations, %d failed", source, evaluated, len(failed))
    if failed:
        names = "; ".join(f"{f['expectation']}({f['column']}) unexpected={f['unexpected_count']}"
                          if f["column"] else f"{f['expectation']} observed={f['observed_value']}" for f in failed)
        raise ValidationFailed(f"suite {source} failed: {names}", file=suites_dir() / f"{source}.json")
    return summary


def _safe_observed(value: object) -> object:
    """Only numbers (row counts) are kept; anything else could be data."""
    return value if isinstance(value, int | float) else None


def write_index(layout: WorkLayout) -> Path:
    """`data_docs/index.html`: one line per validated source with its status and a link to its GX site."""
    rows = []
    for path in sorted(layout.summaries.glob("*.validation.json")):
        summary = json.loads(path.read_text(encoding="utf-8"))
        source = html.escape(summary["source"])
        status = "passed" if summary["success"] else f"FAILED ({len(summary['failed'])})"
        rows.append(f'<tr><td><a href="{source}/index.html">{source}</a></td><td>{status}</td>'
                    f'<td>{summary["evaluated"]}</td><td>{summary["min_staged_rows"]}</td></tr>')
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>EIKIS data quality "
        f"{html.escape(layout.period)}</title></head><body><h1>EIKIS data quality, {html.escape(layout.period)}</h1>"
        "<table border='1' cellpadding='4'><tr><th>source</th><th>suite</th><th>expectations</th>"
        "<th>min staged rows</th></tr>" + "".join(rows) + "</table></body></html>\n"
    )
    layout.data_docs.mkdir(parents=True, exist_ok=True)
    target = layout.data_docs / "index.html"
    temporary = target.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_text(page, encoding="utf-8")
    temporary.replace(target)
    return target
