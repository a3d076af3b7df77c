"""xsdstream calls lxml's bundled libxml2 through hand-written ctypes layouts (issue 27 point 6): at first use the
loaded build must validate known-good and known-bad documents exactly as expected through those layouts, or stop
with a clear error; a build whose layouts differ must never give a silent wrong verdict, line or message. A part
of the exact engine that is missing (libxml2's API, xml2arrow) stops the readers' import in one line (issue 21.4):
there is no slower reader to fall back on."""

from __future__ import annotations

import ctypes
import io
import subprocess
import sys

import pytest

from pipeline.errors import EikisError
from pipeline.sources import xsdstream
from tests.conftest import ROOT


def relabelled(**names: str) -> type[ctypes.Structure]:
    """`xmlError` as another build might lay it out: the same sizes (so nothing reads a wrong pointer), but some
    int fields in other places."""
    fields = [(names.get(name, name), kind) for name, kind in xsdstream._XmlError._fields_]
    return type("OtherXmlError", (ctypes.Structure,), {"_fields_": fields})


def test_the_pinned_build_passes_the_self_test_and_validates():
    xsdstream._self_test(xsdstream._loaded(), xsdstream._XmlError)
    assert xsdstream._libxml2() is xsdstream._loaded()
    bad = b'<Root xmlns="urn:eikis:self-test">\n<Leaf>x</Leaf>\n</Root>\n'
    assert not xsdstream._run(xsdstream._loaded(), xsdstream._compile(xsdstream._loaded(),
                              xsdstream._SELF_TEST_SCHEMA, "t"), xsdstream._reading(io.BytesIO(bad), []),
                              xsdstream._XmlError).valid


@pytest.mark.parametrize("layout", [
    {"domain": "code", "code": "domain"},   # a schema error would pass as a parse error, and back
    {"level": "int2", "int2": "level"},     # every error would be below "error" level: lines and messages lost
    {"line": "int1", "int1": "line"},       # every line would be wrong
], ids=["domain-code", "level", "line"])
def test_a_build_with_other_layouts_fails_the_self_test_with_a_clear_error(layout):
    with pytest.raises(xsdstream.LayoutMismatch, match=r"lxml .* fails the start-up self-test of its ctypes "
                                                       r"layouts .*install the lxml of requirements.lock") as caught:
        xsdstream._self_test(xsdstream._loaded(), relabelled(**layout))
    assert isinstance(caught.value, EikisError) and "\n" not in str(caught.value)  # the CLI's one line


def test_the_self_test_runs_at_first_use_before_any_validation(monkeypatch):
    """With other layouts, the first call that would validate stops, and every one after it."""
    monkeypatch.setattr(xsdstream, "_XmlError", relabelled(line="int1", int1="line"))
    xsdstream._libxml2.cache_clear()
    try:
        with pytest.raises(xsdstream.LayoutMismatch):
            xsdstream._libxml2()
        with pytest.raises(xsdstream.LayoutMismatch):
            xsdstream.validate_stream(io.BytesIO(b"<x/>"), "vid_income_v1.xsd")
    finally:
        monkeypatch.undo()
        xsdstream._libxml2.cache_clear()
    assert xsdstream._libxml2() is xsdstream._loaded()


def test_a_libxml2_without_the_streaming_api_stops_at_start_up(monkeypatch):
    monkeypatch.setitem(xsdstream._SIGNATURES, "xmlSchemaValidateStreamV2", (None, []))
    xsdstream._loaded.cache_clear()
    try:
        with pytest.raises(xsdstream.EngineMissing, match=r"^lxml .* does not export libxml2's streaming XSD "
                                                          r"validation .*install the lxml of requirements.lock"):
            xsdstream._loaded()
    finally:
        monkeypatch.undo()
        xsdstream._loaded.cache_clear()
    assert xsdstream._loaded() is not None


def test_a_missing_xml2arrow_is_one_line_before_anything_is_read(tmp_path):
    """Hidden from a fresh interpreter, xml2arrow makes `eikis ingest` stop in one line naming it, at start-up."""
    hide = "import sys; sys.modules['xml2arrow'] = None; from pipeline.cli import main; sys.exit(main(sys.argv[1:]))"
    done = subprocess.run([sys.executable, "-c", hide, "ingest", "--period", "2026-11", "--inbox", str(tmp_path),
                           "--workdir", str(tmp_path / "work")], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={"EIKIS_DEV_MODE": "1", "PATH": ""})
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr[-800:]
    assert done.stderr.splitlines()[-1] == ("eikis: error: xml2arrow is not importable: install the pinned "
                                            "requirements (pip install -r requirements.lock)")
