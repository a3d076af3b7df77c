"""A suite's GX run and the one Data Docs site per source: narrow integers are checked like wide ones, outcomes
carry counts and never values, and every run of a parted source is its own page of the source's one site."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from pipeline.quality.expectations import load_suite, part_pages, split_suite
from pipeline.quality.gx_suite import build_site, gx_frame, outcomes_of, validate


def vid_frame(period_start: list[int]) -> pd.DataFrame:
    rows = len(period_start)
    return pd.DataFrame({
        "document_id": [f"DDZ-{i}" for i in range(rows)], "person_no": np.arange(rows, dtype="int64"),
        "document_type": ["OTHER"] * rows, "amount_cents": np.ones(rows, dtype="int64"),
        "period_start": np.array(period_start, dtype="int32"), "period_end": np.full(rows, 25000, dtype="int32"),
        "submitted_at": pd.Timestamp("2025-01-01")})


def test_narrow_columns_are_widened_exactly_and_others_left_alone():
    frame = vid_frame([24000, 25200])
    wide = gx_frame(frame)
    assert wide["period_start"].dtype == np.dtype("int64") and wide["period_start"].tolist() == [24000, 25200]
    assert wide["document_id"].dtype == frame["document_id"].dtype


def test_an_int32_value_out_of_range_fails_with_a_count_and_no_value(tmp_path):
    rows, _ = split_suite(load_suite("vid"))
    found = outcomes_of(validate(rows, vid_frame([24000, 23999, 25201]), {}))
    between = [o for o in found if o["column"] == "period_start" and o["expectation"].endswith("between")]
    assert between == [{"expectation": "expect_column_values_to_be_between", "column": "period_start",
                        "success": False, "unexpected_count": 2, "observed_value": None}]
    assert "23999" not in repr(found)


def test_no_batch_is_fingerprinted_and_the_outcomes_are_unchanged():
    """GX's md5 over the whole frame (0.75 CPU-s of a national VID part) is switched off in gx_context; a GX upgrade
    that renames its size limit would bring the marker back and fail here."""
    rows, _ = split_suite(load_suite("vid"))
    run = validate(rows, vid_frame([24000, 23999]), {})
    assert "pandas_data_fingerprint" not in run.result.meta["batch_markers"]
    assert "ge_load_time" in run.result.meta["batch_markers"]
    assert [(o["column"], o["success"], o["unexpected_count"]) for o in outcomes_of(run) if not o["success"]] == \
        [("period_start", False, 1)]


def test_one_site_holds_a_page_per_part(tmp_path):
    rows, table = split_suite(load_suite("vid"))
    runs = [validate(rows, vid_frame([24000]), {}, run_name=name) for name in ("part-0000", "part-0001")]
    runs.append(validate(table, pd.DataFrame(index=pd.RangeIndex(2)), {"min_staged_rows": 2}, "whole-table"))
    build_site(tmp_path, [rows, table], runs)
    pages = part_pages(tmp_path)
    assert [page.parts[2] for page in pages] == ["part-0000", "part-0001"]
    assert (tmp_path / "index.html").exists() and "whole-table" in (tmp_path / "index.html").read_text("utf-8")


def normalised_pages(site) -> dict[str, str]:
    """Every file of a site, with what differs between any two GX builds of the same results blanked: the time a
    link was rendered (`?d=…`) and the random ids of collapsible blocks."""
    volatile = re.compile(r"\?d=\d{8}T\d{6}\.\d+Z|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
    return {path.relative_to(site).as_posix(): volatile.sub("…", path.read_text("utf-8", errors="replace"))
            for path in sorted(site.rglob("*")) if path.is_file()}


def test_shared_templates_render_the_same_site_as_gx_own_views(tmp_path):
    from great_expectations.render.view import DefaultJinjaIndexPageView, DefaultJinjaPageView

    from pipeline.quality.gx_views import SharedIndexPageView, SharedPageView

    rows, table = split_suite(load_suite("vid"))
    runs = [validate(rows, vid_frame(starts), {}, run_name=name)
            for name, starts in (("part-0000", [24000]), ("part-0001", [24000, 23999]))]
    runs.append(validate(table, pd.DataFrame(index=pd.RangeIndex(3)), {"min_staged_rows": 3}, "whole-table"))
    build_site(tmp_path / "gx", [rows, table], runs, views=(DefaultJinjaPageView, DefaultJinjaIndexPageView))
    build_site(tmp_path / "first", [rows, table], runs)
    build_site(tmp_path / "again", [rows, table], runs)  # on templates compiled by the build before
    expected = normalised_pages(tmp_path / "gx")
    assert len([name for name in expected if name.endswith(".html")]) == 6
    assert normalised_pages(tmp_path / "first") == expected
    assert normalised_pages(tmp_path / "again") == expected
    assert SharedPageView().env is SharedIndexPageView().env  # one compiled set of templates per process


def not_null_suite(name: str, *columns: str) -> dict:
    return {"name": name, "expectations": [{"type": "expect_column_values_to_not_be_null", "kwargs": {"column": c}}
                                           for c in columns]}


def unexpected(run) -> dict[str, object]:
    return {o["column"]: o["unexpected_count"] for o in outcomes_of(run)}


def test_one_context_per_process_carries_nothing_from_one_run_to_the_next():
    """The suites stay registered, but no frame, metric, result or definition of one run reaches the next: the same
    suite fails then passes then fails on the frames it is given, another source's suite with the same column is
    not marked by the first one's failure, and a changed suite under the same name is the one that runs."""
    from pipeline.quality.gx_context import validation_context

    bad, good = pd.DataFrame({"a": [None, None, 3.0]}), pd.DataFrame({"a": [1.0, 2.0, 3.0]})
    first = validate(not_null_suite("source_a", "a"), bad, {}, run_name="first")
    other = validate(not_null_suite("source_b", "a"), good, {})
    again = validate(not_null_suite("source_a", "a"), good, {})
    worse = validate(not_null_suite("source_a", "a"), pd.DataFrame({"a": [None, 2.0]}), {})
    changed = validate(not_null_suite("source_a", "a", "b"), pd.DataFrame({"a": [1.0], "b": [None]}), {})
    assert (first.result.success, unexpected(first)) == (False, {"a": 2})
    assert (other.result.success, unexpected(other), other.result.suite_name) == (True, {"a": 0}, "source_b")
    assert (again.result.success, unexpected(again)) == (True, {"a": 0})
    assert (worse.result.success, unexpected(worse)) == (False, {"a": 1})
    assert (changed.result.success, unexpected(changed)) == (False, {"a": 0, "b": 1})
    assert [run.key.run_id.run_name for run in (first, again)] == ["first", "__none__"]  # each its own key
    with validation_context() as shared:
        assert shared.context.validation_results_store.list_keys() == []
        assert list(shared.context.validation_definitions.all()) == []
