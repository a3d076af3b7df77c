"""xsdstream calls lxml's bundled libxml2 through hand-written ctypes layouts (issue 27 point 6): at first use the
loaded build must validate known-good and known-bad documents exactly as expected through those layouts, or stop
with a clear error; a build whose layouts differ must never give a silent wrong verdict, line or message."""

from __future__ import annotations

import ctypes
import io

import pytest

from pipeline.errors import EikisError
from pipeline.sources import xsdstream

pytestmark = pytest.mark.skipif(xsdstream._loaded() is None, reason="lxml's libxml2 lacks the streaming API")


def relabelled(**names: str) -> type[ctypes.Structure]:
    """`xmlError` as another build might lay it out: the same sizes (so nothing reads a wrong pointer), but some
    int fields in other places."""
    fields = [(names.get(name, name), kind) for name, kind in xsdstream._XmlError._fields_]
    return type("OtherXmlError", (ctypes.Structure,), {"_fields_": fields})


def test_the_pinned_build_passes_the_self_test_and_validates():
    xsdstream._self_test(xsdstream._loaded(), xsdstream._XmlError)
    assert xsdstream.available()
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
    """With other layouts, the first call that would validate stops: `available()` raises, it never says True."""
    monkeypatch.setattr(xsdstream, "_XmlError", relabelled(line="int1", int1="line"))
    xsdstream._libxml2.cache_clear()
    try:
        with pytest.raises(xsdstream.LayoutMismatch):
            xsdstream.available()
        with pytest.raises(xsdstream.LayoutMismatch):
            xsdstream.validate_stream(io.BytesIO(b"<x/>"), "vid_income_v1.xsd")
    finally:
        monkeypatch.undo()
        xsdstream._libxml2.cache_clear()
    assert xsdstream.available()
