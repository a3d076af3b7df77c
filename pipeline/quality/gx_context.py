"""The Great Expectations contexts: one per process for validation, a fresh one per Data Docs site.

Validation used to make a context per suite run; now a process (and the worker processes it forks, which inherit
it) keeps one, and each suite is built and added to it once. What is NOT kept from one run to the next, so that
nothing of one table can reach another's result: the pandas data source is replaced at every run, which gives
GX a new execution engine, and with it an empty batch cache (GX 1.24's engine keeps every frame it loaded, by
batch id) and an empty metric cache (its resolved metrics, which for a column check include a mask as long as the
frame); the run's validation definition and its stored result are removed once the result is taken. A changed
suite under the same name (another `EIKIS_EXPECTATIONS_DIR`) replaces the registered one. GX objects are not
thread-safe, so the context is used under one lock. GX is imported by the first validation of the process, in the
main thread (no background import: a worker forked meanwhile would inherit it half-imported).

A Data Docs site is built in its own (cheap) context so that the site's stores hold exactly one source's
suites and results, which is what GX renders. Written for the pinned great-expectations==1.24.1.

GX fingerprints every pandas batch it loads (an md5 over `pandas.util.hash_pandas_object` of the whole frame, kept
only as a batch marker on the result page), except frames of 1 GB or more. On a national VID part that is half
of its validation, for a marker nobody reads: `new_context` sets the engine's size limit to 0,
so no batch is fingerprinted (tests/unit/test_gx_suite.py fails if a GX upgrade brings the marker back).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.logs import get_logger

log = get_logger("quality.gx_context")

SITE = "eikis"
DATA_SOURCE = "eikis"


def new_context(docs_dir: Path | None, views: tuple[type, type] | None = None) -> Any:
    """An ephemeral GX context (in-memory stores), with a filesystem Data Docs site when `docs_dir` is given whose
    pages are rendered by `views` (page view, index view; default: GX's views on the process's shared templates)."""
    import great_expectations as gx  # imported here: seconds, and only validation needs it
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )
    from great_expectations.execution_engine import pandas_execution_engine

    pandas_execution_engine.HASH_THRESHOLD = 0  # no batch fingerprints (see the module's docstring)

    from pipeline.quality.gx_views import SharedIndexPageView, SharedPageView, view_config  # lazy: imports GX

    sites = {}
    if docs_dir is not None:
        page_view, index_view = views or (SharedPageView, SharedIndexPageView)
        page = {"view": view_config(page_view)}
        sites[SITE] = {
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir.resolve())},
            "site_section_builders": {"expectations": page, "validations": page, "profiling": page},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder", "show_how_to_buttons": False,
                                   "view": view_config(index_view)},
        }
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        data_docs_sites=sites,
        progress_bars=ProgressBarsConfig(globally=False),
    )
    return gx.get_context(mode="ephemeral", project_config=config)


@dataclass
class ValidationContext:
    """The process's validation context and the suites registered in it (by name: the suite's JSON and object)."""

    context: Any
    suites: dict[str, tuple[str, Any]] = field(default_factory=dict)

    def suite(self, suite_json: dict) -> Any:
        """The registered GX suite for this JSON: built and added once, replaced if the JSON under its name changed."""
        # lazy: Great Expectations takes seconds to import; only validation and Data Docs need it
        import great_expectations as gx

        name, text = suite_json["name"], json.dumps(suite_json, sort_keys=True)
        known = self.suites.get(name)
        if known is not None and known[0] == text:
            return known[1]
        if known is not None:
            self.context.suites.delete(name)
        suite = self.context.suites.add(gx.ExpectationSuite(**suite_json))
        self.suites[name] = (text, suite)
        return suite

    def run(self, suite_json: dict, **run_arguments: Any) -> tuple[Any, Any]:
        """Run the suite (`ValidationDefinition.run` with these arguments) on a new data source, so on a new execution
        engine without caches; returns the key GX stored the result under and the result. Neither the run's
        validation definition nor its result stays in the context."""
        # lazy: Great Expectations takes seconds to import; only validation and Data Docs need it
        import great_expectations as gx

        name = suite_json["name"]
        batch = (
            self.context.data_sources.add_or_update_pandas(DATA_SOURCE)
            .add_dataframe_asset(name)
            .add_batch_definition_whole_dataframe("staged")
        )
        definition = self.context.validation_definitions.add(
            gx.ValidationDefinition(name=name, data=batch, suite=self.suite(suite_json)))
        store = self.context.validation_results_store
        try:
            result = definition.run(**run_arguments)
            (key,) = store.list_keys()
        finally:
            self.context.validation_definitions.delete(name)
            for stored in store.list_keys():
                store.remove_key(stored)
        return key, result


_LOCK = threading.RLock()
_SHARED: ValidationContext | None = None


def _shared() -> ValidationContext:
    global _SHARED
    if _SHARED is None:
        _SHARED = ValidationContext(new_context(None))
    return _SHARED


@contextmanager
def validation_context() -> Iterator[ValidationContext]:
    """The process's validation context, held for one run at a time."""
    with _LOCK:
        yield _shared()


def prepare_validation() -> None:
    """Import GX and make this process's validation context now: worker processes forked after this (a run's
    sources ingested at once) inherit both instead of each importing GX anew."""
    with validation_context():
        pass
