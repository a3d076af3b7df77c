"""The Great Expectations calls: run one suite on one DataFrame, and build one Data Docs site from many results.

Validation and Data Docs are separate steps so that a source staged as many parts is validated part by part in
worker processes and its site is built once, in the parent, with every part's result as its own validation page:
a GX site build compiles some fifty Jinja templates and copies 4 MB of static assets, so one build per part cost
more than the validation itself. The templates are compiled once per process (`gx_views`), so every site after the
first costs mostly the asset copy and the rendering. Written for the pinned great-expectations==1.24.1, through its
public API plus the context's `validation_results_store` (where a checkpoint's validation puts its result before the
Data Docs action renders it).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipeline.quality.gx_context import SITE, new_context, validation_context

RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": 0}


@dataclass
class SuiteRun:
    """One suite's result on one frame, with the key GX stored it under (what its Data Docs page is named by).
    Both are GX objects that pickle, so a worker process can hand them to the parent."""

    key: Any     # great_expectations ValidationResultIdentifier
    result: Any  # great_expectations ExpectationSuiteValidationResult


def gx_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame as GX should see it: integer and float columns narrower than 64 bits widened (exactly).

    GX 1.24's `expect_column_values_to_be_between` compares a column vectorised only when its dtype equals `int`
    or `float` (int64/float64); any other dtype (e.g. the int32 periods of VID) is compared value by value through
    a Python function, about a million calls per part. The values, and so every outcome, are the same.
    """
    narrow = {
        column: np.dtype("int64") if dtype.kind in "iu" else np.dtype("float64")
        for column, dtype in frame.dtypes.items()
        if isinstance(dtype, np.dtype) and ((dtype.kind in "iu" and dtype.itemsize < 8 and dtype != np.uint64)
                                            or (dtype.kind == "f" and dtype.itemsize < 8))
    }
    return frame.astype(narrow) if narrow else frame


def validate(suite_json: dict, frame: pd.DataFrame, parameters: dict[str, object],
             run_name: str | None = None) -> SuiteRun:
    """Run one suite on one DataFrame; `run_name` (e.g. the part) names the run on its Data Docs page."""
    with validation_context() as context:
        # lazy: Great Expectations takes seconds to import; only validation and Data Docs need it
        from great_expectations.core.run_identifier import RunIdentifier

        key, result = context.run(suite_json, batch_parameters={"dataframe": gx_frame(frame)},
                                  expectation_parameters=parameters, result_format=RESULT_FORMAT,
                                  run_id=RunIdentifier(run_name=run_name, run_time=dt.datetime.now(dt.UTC)))
    return SuiteRun(key=key, result=result)


def outcomes_of(run: SuiteRun) -> list[dict[str, object]]:
    """Each expectation's outcome: its name, column, success and counts; never a value (it may be a person's)."""
    found = []
    for outcome in run.result.results:
        config = outcome.expectation_config
        found.append({
            "expectation": config.type,
            "column": config.kwargs.get("column") or config.kwargs.get("column_list") or "",
            "success": bool(outcome.success),
            "unexpected_count": outcome.result.get("unexpected_count"),
            "observed_value": _safe_observed(outcome.result.get("observed_value")),
        })
    return found


def _safe_observed(value: object) -> object:
    """Only numbers (row counts) are kept; anything else could be data."""
    return value if isinstance(value, int | float) else None


def build_site(docs_dir: Path, suites: list[dict], runs: list[SuiteRun],
               views: tuple[type, type] | None = None) -> None:
    """One GX Data Docs site under `docs_dir`: a page per suite and per run, and an index listing the runs."""
    # lazy: Great Expectations takes seconds to import; only validation and Data Docs need it
    import great_expectations as gx

    context = new_context(docs_dir, views)
    for suite_json in suites:
        context.suites.add(gx.ExpectationSuite(**suite_json))
    for run in runs:
        context.validation_results_store.set(run.key, run.result)
    context.build_data_docs(site_names=[SITE])
