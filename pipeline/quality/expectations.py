"""Great Expectations suites (one JSON file per source under `expectations/`) run on each staged table.

Before the suite, the quarantine gate: a source stops the run only when its quarantined records exceed BOTH the
share and the absolute count of its tolerance in the policy (`quarantine_tolerance`, per source, with a default),
so one bad code in a small month does not stop it and a handful in a national month neither; the message names the
source, the count, the share and the quarantine file. `EIKIS_QUARANTINE_TOLERANCE` (settings) overrides the share
for every source. The suite's row-count expectation takes `min_staged_rows` at run time, the same limit expressed
on the staged table, so the tolerance lives in the policy and not in the suite. Results never carry offending
values (they may be personal codes): only expectation names and counts. Each source gets its own Data Docs site under
`<workdir>/<P>/data_docs/<source>/`, and an index page links them, so parallel Airflow tasks never share a store.
A source staged as several parts has one site too, built once after its parts are validated, with one result page
per part (named by the part) that the index links as well.
"""

from __future__ import annotations

import html
import json
import os
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from pipeline.config import Settings, WorkLayout, private_files
from pipeline.errors import ValidationFailed
from pipeline.filework import map_files, replace_text
from pipeline.handoff import SourceSummary
from pipeline.logs import get_logger
from pipeline.policy import DEFAULT_TOLERANCE, Policy, QuarantineTolerance
from pipeline.quality.gx_context import validation_context
from pipeline.quality.gx_suite import SuiteRun, build_site, outcomes_of, validate
from pipeline.quality.offline_docs import make_offline

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
    parts: int = 1

    def save(self, layout: WorkLayout) -> None:
        path = layout.summaries / f"{self.source}.validation.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        replace_text(path, json.dumps(asdict(self), indent=2, sort_keys=True))  # other sources' `write_index`


WHOLE_TABLE_RUN = "whole-table"  # the run name of a parted source's table-wide expectations; parts are named
PART_PAGES = "validations/*/part-*/*/*.html"  # where a parted source's site keeps each part's result page
TABLE_WIDE = frozenset({"expect_table_row_count_to_be_between", "expect_column_values_to_be_unique",
                        "expect_compound_columns_to_be_unique"})


def split_suite(suite: dict) -> tuple[dict, dict]:
    """Row-wise expectations (valid on any slice of the table) and table-wide ones (need the whole table)."""
    row_wise = [e for e in suite["expectations"] if e["type"] not in TABLE_WIDE]
    table_wide = [e for e in suite["expectations"] if e["type"] in TABLE_WIDE]
    return ({**suite, "name": f"{suite['name']}_rows", "expectations": row_wise},
            {**suite, "name": f"{suite['name']}_table", "expectations": table_wide})


def run_suite(suite_json: dict, frame: pd.DataFrame, docs_dir: Path | None,
              parameters: dict[str, object]) -> list[dict[str, object]]:
    """Run one suite on one DataFrame (and build its Data Docs site); outcomes carry counts, never values."""
    run = validate(suite_json, frame, parameters)
    if docs_dir is not None:
        build_site(docs_dir, [suite_json], [run])
    return outcomes_of(run)


def _validate_part(task: tuple[dict, Path]) -> SuiteRun:
    """A worker's share: one part's row-wise result, handed back to the parent for the source's one site."""
    suite_json, part = task
    frame = pq.read_table(part, columns=suite_columns(suite_json)).to_pandas()
    return validate(suite_json, frame, {}, run_name=part.stem)


def _merge(per_part: list[list[dict[str, object]]]) -> list[dict[str, object]]:
    """Per expectation over all parts: success only if every part passed, unexpected counts summed."""
    merged: dict[tuple[str, str], dict[str, object]] = {}
    for part in per_part:
        for item in part:
            key = (str(item["expectation"]), str(item["column"]))
            seen = merged.setdefault(key, {**item, "unexpected_count": 0, "success": True})
            seen["success"] = bool(seen["success"]) and bool(item["success"])
            seen["unexpected_count"] = int(seen["unexpected_count"] or 0) + int(item["unexpected_count"] or 0)
    return list(merged.values())


def tolerance_for(source: str, policy: Policy | None, settings: Settings) -> QuarantineTolerance:
    """The policy's tolerance for the source; the settings' share, when set, overrides the policy's."""
    tolerance = policy.quarantine_tolerance(source) if policy is not None else DEFAULT_TOLERANCE
    if settings.quarantine_tolerance is None:
        return tolerance
    return QuarantineTolerance(Decimal(str(settings.quarantine_tolerance)), tolerance.min_records)


def quarantine_gate(ingest: SourceSummary, layout: WorkLayout, tolerance: QuarantineTolerance,
                    settings: Settings) -> None:
    """Stop the run when the source's quarantine passes both limits of its tolerance; the failure is recorded in
    the validation summary and the Data Docs index like a failed suite."""
    quarantined, records = ingest.quarantined_total, ingest.records
    if not tolerance.exceeded(quarantined=quarantined, records=records):
        return
    ValidationSummary(source=ingest.source, success=False, evaluated=1, failed=[
        {"expectation": "quarantine_tolerance", "column": "", "unexpected_count": quarantined,
         "observed_value": records}], min_staged_rows=records - tolerance.most_quarantined(records)).save(layout)
    if settings.data_docs:
        write_index(layout)
    raise ValidationFailed(
        f"{ingest.source}: {quarantined} of {records} records quarantined ({100 * quarantined / records:.1f} %), "
        f"more than both {(tolerance.share * 100).normalize():f} % and {tolerance.min_records} records allowed by "
        "the policy's quarantine_tolerance; reasons and record numbers are in this file",
        file=layout.quarantined(ingest.source))


def validate_source(source: str, period: str, workdir: Path, settings: Settings,
                    policy: Policy | None = None) -> ValidationSummary:
    """Run the source's suite on its staged table; raise ValidationFailed naming every failed expectation.

    A source staged as several parts (one per input file) is validated part by part in worker processes for its
    row-wise expectations, and once, on only the columns they need, for its table-wide ones: memory stays
    bounded at national scale and both cores work. Summaries and Data Docs are created owner-only.
    """
    layout = WorkLayout(Path(workdir), period)
    with private_files():
        return _validate(source, layout, settings, policy)


def _validate(source: str, layout: WorkLayout, settings: Settings, policy: Policy | None) -> ValidationSummary:
    ingest = SourceSummary.load(layout, source)
    suite_json = load_suite(source)
    tolerance = tolerance_for(source, policy, settings)
    quarantine_gate(ingest, layout, tolerance, settings)
    min_rows = max(1, ingest.records - tolerance.most_quarantined(ingest.records))
    if source == "sopa" and not ingest.files:
        min_rows = 0
    parameters = {"min_staged_rows": min_rows}
    docs = layout.data_docs / source if settings.data_docs else None
    parts = sorted(layout.staged(source).glob("*.parquet"))
    if len(parts) <= 1:
        frame = pq.read_table(layout.staged(source), columns=suite_columns(suite_json)).to_pandas()
        suites, runs = [suite_json], [validate(suite_json, frame, parameters)]
        found = outcomes_of(runs[0])
    else:
        row_wise, table_wide = split_suite(suite_json)
        with validation_context() as context:  # GX and the suite ready before the workers fork: they inherit both
            context.suite(row_wise)
        runs = map_files(_validate_part, [(row_wise, part) for part in parts], settings.workers)
        columns = suite_columns(table_wide)
        if columns:
            frame = pq.read_table(layout.staged(source), columns=columns).to_pandas()
        else:  # only the row count is checked: a frame of the staged row count, without reading any column
            rows = sum(pq.ParquetFile(part).metadata.num_rows for part in parts)
            frame = pd.DataFrame(index=pd.RangeIndex(rows))
        runs.append(validate(table_wide, frame, parameters, run_name=WHOLE_TABLE_RUN))
        suites = [row_wise, table_wide]
        found = _merge([outcomes_of(run) for run in runs[:-1]]) + outcomes_of(runs[-1])
    failed = [
        {key: item[key] for key in ("expectation", "column", "unexpected_count", "observed_value")}
        for item in found if not item["success"]
    ]
    if docs is not None:
        build_site(docs, suites, runs)  # one site per source: each part's result is a page of it
        make_offline(docs)
    summary = ValidationSummary(source=source, success=not failed, evaluated=len(found), failed=failed,
                                min_staged_rows=min_rows, parts=len(parts))
    summary.save(layout)
    if settings.data_docs:
        write_index(layout)
    log.info("%s: %d expectations over %d part(s), %d failed", source, len(found), len(parts), len(failed))
    if failed:
        names = "; ".join(f"{f['expectation']}({f['column']}) unexpected={f['unexpected_count']}"
                          if f["column"] else f"{f['expectation']} observed={f['observed_value']} "
                          f"(at least {min_rows} staged rows needed)" for f in failed)
        raise ValidationFailed(f"{source}: data-quality suite failed: {names}", file=layout.staged(source))
    return summary


def validate_frame(source: str, frame: pd.DataFrame, records: int, settings: Settings,
                   docs_dir: Path | None = None) -> list[dict[str, object]]:
    """Run a source's suite on an in-memory table kept from `records` input rows (a flow that stages nothing to
    Parquet, e.g. ALDIS's contract lists), with the default quarantine tolerance on the row count; raise
    ValidationFailed naming every failed expectation (counts only). Returns the outcomes."""
    min_rows = max(0, records - tolerance_for(source, None, settings).most_quarantined(records))
    found = run_suite(load_suite(source), frame, docs_dir if settings.data_docs else None,
                         {"min_staged_rows": min_rows})
    failed = [item for item in found if not item["success"]]
    log.info("%s: %d expectations, %d failed", source, len(found), len(failed))
    if failed:
        names = "; ".join(f"{f['expectation']}({f['column']}) unexpected={f['unexpected_count']}" if f["column"]
                          else f"{f['expectation']} observed={f['observed_value']} (at least {min_rows} of {records} "
                          "rows needed)" for f in failed)
        raise ValidationFailed(f"{source}: data-quality suite failed: {names}", file=suites_dir() / f"{source}.json")
    return found


INDEX_STYLE = ("body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:980px;color:#1f2933}"
               "table{border-collapse:collapse}th,td{border-bottom:1px solid #d9e2ec;padding:4px 10px;"
               "text-align:left;vertical-align:top}th{background:#f0f4f8;max-width:22em}")


def part_pages(site: Path) -> list[Path]:
    """The result page of each part of a source validated part by part, relative to its site, in part order."""
    return sorted((page.relative_to(site) for page in site.glob(PART_PAGES)), key=lambda page: page.parts[2])


def write_index(layout: WorkLayout) -> Path:
    """`data_docs/index.html`: one line per validated source with its status and a link to its GX site."""
    rows = []
    for path in sorted(layout.summaries.glob("*.validation.json")):
        summary = json.loads(path.read_text(encoding="utf-8"))
        source = html.escape(summary["source"])
        status = "✔ passed" if summary["success"] else f"✘ FAILED ({len(summary['failed'])})"
        part_links = " ".join(f'<a href="{source}/{html.escape(page.as_posix())}">{html.escape(page.parts[2])}</a>'
                              for page in part_pages(layout.data_docs / summary["source"]))
        rows.append(f'<tr><td><a href="{source}/index.html">{source}</a> {part_links}</td><td>{status}</td>'
                    f'<td>{summary["evaluated"]}</td><td>{summary["min_staged_rows"]}</td></tr>')
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>EIKIS data quality "
        f"{html.escape(layout.period)}</title><style>{INDEX_STYLE}</style></head><body>"
        f"<h1>EIKIS data quality, {html.escape(layout.period)}</h1>"
        "<p>One row per source: its Great Expectations suite's result, and a link to the source's Data Docs "
        "(validation results with a pass/fail mark per expectation; they open without internet).</p>"
        "<table><tr><th>source (Data Docs)</th><th>suite result</th><th>expectations evaluated</th>"
        "<th>min staged rows: the row-count expectation's threshold (records read minus the most the policy's "
        "quarantine tolerance allows)</th></tr>" + "".join(rows) + "</table></body></html>\n"
    )
    layout.data_docs.mkdir(parents=True, exist_ok=True)
    return replace_text(layout.data_docs / "index.html", page)
