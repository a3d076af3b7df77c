"""The licence inventory (scripts/licences.py): EIKIS is EUPL-1.2 and every runtime dependency's licence fits."""

from __future__ import annotations

import importlib.metadata as metadata
import importlib.util
import sys
from email.message import Message
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("licences", ROOT / "scripts" / "licences.py")
licences = sys.modules.setdefault("licences", importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(licences)


def fields(**values: str | list[str]) -> Message:
    """Package metadata as importlib.metadata returns it (an email message)."""
    message = Message()
    for key, value in values.items():
        for item in value if isinstance(value, list) else [value]:
            message[key.replace("_", "-")] = item
    return message


def test_eikis_is_eupl_1_2_with_the_official_text():
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("EUROPEAN UNION PUBLIC LICENCE v. 1.2\nEUPL © the European Union 2007, 2016")
    assert "15.Applicable Law" in text and "Compatible Licences" in text
    assert metadata.metadata("eikis")["License-Expression"] == "EUPL-1.2"


def test_the_committed_inventory_is_current_and_every_runtime_licence_fits(capsys):
    assert licences.main(["--check"]) == 0, capsys.readouterr().err
    table = (ROOT / "docs" / "licences.md").read_text(encoding="utf-8")
    for name in ("apache-airflow", "pandas", "lxml", "psycopg2", "fastapi"):
        assert f"\n| {name} | " in table, name
    for dev_only in ("pytest", "ruff", "hypothesis", "import-linter", "playwright"):
        assert f"\n| {dev_only} | " not in table, dev_only


def test_a_stale_inventory_fails_the_check(tmp_path, monkeypatch, capsys):
    stale = tmp_path / "licences.md"
    stale.write_text((ROOT / "docs" / "licences.md").read_text(encoding="utf-8").replace("| pandas |", "| pandaz |"))
    monkeypatch.setattr(licences, "INVENTORY", stale)
    assert licences.main(["--check"]) == 1
    assert "docs/licences.md is stale" in capsys.readouterr().err


def test_the_runtime_closure_follows_the_airflow_extra_but_not_dev():
    closure = licences.runtime_closure()
    assert {"apache-airflow", "apache-airflow-task-sdk", "lxml", "greenlet"} <= set(closure)
    assert "pytest" not in closure and "ruff" not in closure and "eikis" not in closure
    assert set(closure) <= licences.locked_names()


@pytest.mark.parametrize(("metadata_fields", "expected"), [
    ({"License_Expression": "MIT"}, ("MIT", "permissive")),
    ({"License": "BSD 2-Clause License"}, ("BSD-2-Clause", "permissive")),
    ({"License": "UNKNOWN", "Classifier": ["License :: OSI Approved :: ISC License (ISCL)"]}, ("ISC", "permissive")),
    ({"License_Expression": "LGPL-3.0-or-later WITH Classpath-exception-2.0"},
     ("LGPL-3.0-or-later WITH Classpath-exception-2.0", "weak copyleft")),
    ({"License_Expression": "SSPL-1.0 OR Apache-2.0"}, ("SSPL-1.0 OR Apache-2.0", "permissive")),
    ({"License_Expression": "MIT AND (MPL-2.0 OR GPL-3.0-or-later)"},
     ("MIT AND (MPL-2.0 OR GPL-3.0-or-later)", "weak copyleft")),
])
def test_a_licence_is_read_from_the_metadata_and_classed(metadata_fields, expected):
    licence = licences.licence_of("some-lib", "1.0", fields(**metadata_fields))
    assert (licence.expression, licence.verdict) == expected and licence.problem is None


def test_an_incompatible_licence_fails_with_one_line_naming_the_distribution():
    for expression in ("SSPL-1.0", "MIT AND BUSL-1.1", "LicenseRef-Proprietary"):
        licence = licences.licence_of("closed-lib", "2.0", fields(License_Expression=expression))
        assert licence.problem == f"closed-lib 2.0: licence {expression} is not compatible with EUPL-1.2"


def test_an_unknown_licence_fails_until_it_is_reviewed():
    vague = fields(License="BSD", Classifier=["License :: OSI Approved :: BSD License"])
    assert licences.licence_of("vague-lib", "3.1", vague).problem == (
        "vague-lib 3.1: unknown licence (BSD); add it to REVIEWED")
    assert licences.licence_of("none-lib", "1", fields()).problem == (
        "none-lib 1: unknown licence (no licence metadata); add it to REVIEWED")
    assert licences.licence_of("jinja2", "3.1.6", vague).verdict == "permissive"   # reviewed entry


def test_a_runtime_dependency_missing_from_the_lock_is_reported():
    licence = licences.licence_of("stray", "0.1", fields(License_Expression="MIT"))
    assert list(licences.problems([licence], {"pandas"})) == [
        "stray 0.1: installed as a runtime dependency but not in requirements.lock"]


def test_the_images_runtime_lock_holds_every_runtime_distribution_this_inventory_lists():
    runtime_lock = licences.locked_names(ROOT / "requirements-runtime.lock")
    assert set(licences.runtime_closure()) <= runtime_lock
    assert runtime_lock <= licences.locked_names() and "pytest" not in runtime_lock
