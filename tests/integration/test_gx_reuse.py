"""One GX context serves every source of a run (and the next run in the same process): a source whose suite fails
stops with its own expectations named, and the sources validated after it, in the same process, pass on their own
tables and their own suites; a worker forked after a validation inherits GX whole."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.config import Settings
from pipeline.errors import ValidationFailed
from pipeline.ingest import ingest_source
from pipeline.policy import load_policy
from pipeline.quality.expectations import suites_dir, validate_source
from tests.builders import InboxBuilder
from tests.conftest import MINIMAL_POLICY

P = "2025-01"
SETTINGS = Settings(pseudonym_secret=b"test-secret", workers=1, data_docs=True)


def staged(root: Path) -> Path:
    builder = InboxBuilder(P)
    builder.standard_tree()
    house = builder.house(101000021, "Ozoli")
    for serial in range(5):
        builder.person(serial, house)
    builder.write(root / "inbox")
    for source in ("aris", "pmlp"):
        ingest_source(source, P, root / "inbox", root / "work", SETTINGS)
    return root / "work"


def test_a_failing_suite_of_one_source_does_not_mark_the_next_one(tmp_path, monkeypatch):
    workdir, policy = staged(tmp_path), load_policy(MINIMAL_POLICY, P)
    strict = tmp_path / "expectations"
    shutil.copytree(suites_dir(), strict)
    aris = json.loads((strict / "aris.json").read_text("utf-8"))
    aris["expectations"].append({"type": "expect_column_values_to_be_null", "kwargs": {"column": "aris_code"}})
    (strict / "aris.json").write_text(json.dumps(aris), "utf-8")

    monkeypatch.setenv("EIKIS_EXPECTATIONS_DIR", str(strict))
    with pytest.raises(ValidationFailed, match=r"aris: data-quality suite failed: expect_column_values_to_be_null"
                                               r"\(aris_code\) unexpected=\d+$"):
        validate_source("aris", P, workdir, SETTINGS, policy)
    pmlp = validate_source("pmlp", P, workdir, SETTINGS, policy)
    assert pmlp.success and pmlp.failed == []

    monkeypatch.delenv("EIKIS_EXPECTATIONS_DIR")  # the project's aris suite again, under the same name
    aris_again = validate_source("aris", P, workdir, SETTINGS, policy)
    assert aris_again.success and aris_again.evaluated == len(aris["expectations"]) - 1
    index = (workdir / P / "data_docs" / "index.html").read_text("utf-8")
    assert "FAILED" not in index and index.count("✔ passed") == 2


FORK_AFTER_A_VALIDATION = """
import sys
from concurrent.futures import ProcessPoolExecutor
import pandas as pd
from pipeline.quality import gx_context
from pipeline.quality.gx_suite import outcomes_of, validate

SUITE = {"name": "s", "expectations": [{"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "a"}}]}

def in_worker(_):
    inherited = gx_context._SHARED is not None and "great_expectations" in sys.modules
    run = validate(SUITE, pd.DataFrame({"a": [1.0, None]}), {})
    return inherited, outcomes_of(run)[0]["unexpected_count"]

validate(SUITE, pd.DataFrame({"a": [1.0]}), {})  # GX imported here, in the main thread, before any fork
with ProcessPoolExecutor(1) as pool:
    print(*pool.submit(in_worker, 0).result(timeout=120))
"""


def test_a_worker_forked_after_a_validation_inherits_gx_whole(tmp_path):
    """GX is imported in the main thread by the first validation (no background warm-up, so no fork hook): a
    worker forked afterwards inherits the context and validates at once."""
    done = subprocess.run([sys.executable, "-c", FORK_AFTER_A_VALIDATION], capture_output=True, text=True, timeout=300,
                          cwd=Path(__file__).resolve().parents[2], check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[-2:] == ["True", "1"]
