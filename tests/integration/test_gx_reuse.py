"""One GX context serves every source of a run (and the next run in the same process): a source whose suite fails
stops with its own expectations named, and the sources validated after it, in the same process, pass on their own
tables and their own suites."""

from __future__ import annotations

import json
import shutil
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
