"""The XML fast path under a hostile provider (issue 28): what a provider can write into an extract must neither
stall a month (no super-linear step before the walk), nor be "proven" on a plan made for other bytes, nor reach the
compiled walk with arguments it cannot handle."""

from __future__ import annotations

import time

import pytest

from pipeline.sources import vid, xmlcanon, xmlcolumns, xsdstream
from pipeline.sources.xmlstream import ChunkStream, plan_chunks
from tests.unit.test_xml_canon import document

pytestmark = pytest.mark.skipif(not xmlcolumns.available(), reason="xml2arrow or libxml2's C API not available")

RECORD = [("DocumentId", "D-1"), ("PersonCode", "01019010001"), ("DocumentType", "EMPLOYER_NOTICE"),
          ("PeriodStart", "2024-03"), ("PeriodEnd", "2024-03"), ("AmountEUR", "1.00"),
          ("SubmittedAt", "2024-04-15T10:00:00")]


def hostile_root(run: int) -> bytes:
    """A VID extract whose root start tag holds one run of `run` bytes with no `=` and no space."""
    layout = vid.LAYOUT
    head = (f'<?xml version="1.0" encoding="UTF-8"?>\n<{layout.root} xmlns="{layout.namespace}" '
            f'extractDate="2026-11-01" {"a" * run}>\n')
    return document("vid", [RECORD], head=head)


def test_a_64_kb_run_without_equals_in_the_root_tag_costs_milliseconds_not_seconds(tmp_path):
    """`_frame` looked for attribute names with `([^\\s=]+)\\s*=`, which backtracks quadratically over such a
    run: ≈ 22 CPU-s for one 65 KB file, again for every chunk of a split one."""
    path = tmp_path / "hostile.xml"
    path.write_bytes(hostile_root((1 << 16) - 300))  # the head is looked for in the first 64 KB
    started = time.process_time()
    proof = xmlcanon.prove(path, vid.LAYOUT, vid.COLUMNS.fields)
    spent = time.process_time() - started
    assert proof is None  # libxml2 refuses the attribute without a value: not provable
    assert spent < 2.0, f"{spent:.1f} CPU-s for one hostile root tag"


def test_a_chunk_planned_on_other_bytes_is_not_proven_when_its_header_ends_inside_the_root_tag(tmp_path):
    """A plan made on one version of a file, read on another whose root start tag is longer: the chunk's
    `header_end` lies inside the root tag, so the chunk's wrapper (header + body + end tag) is not even
    well-formed and libxml2 refuses it; the walk must not prove it (with 0 records planned, no count would
    catch it)."""
    layout = vid.LAYOUT
    rows = [[(name, f"D-{n}-" + "x" * 40 if name == "DocumentId" else text) for name, text in RECORD]
            for n in range(6)]
    path = tmp_path / "vid.xml"
    path.write_bytes(document("vid", rows))
    chunks = plan_chunks(path, layout, 3)
    assert chunks and len(chunks) == 3
    # the same length, the same record offsets after the first record, but a root tag 30 bytes longer
    padding = ' xmlns:p="urn:padding:ppppppp"'
    rows[0][0] = ("DocumentId", "D-0-" + "x" * (40 - len(padding)))
    head = (f'<?xml version="1.0" encoding="UTF-8"?>\n<{layout.root} xmlns="{layout.namespace}" '
            f'extractDate="2026-11-01"{padding}>\n')
    rewritten = document("vid", rows, head=head)
    assert len(rewritten) == path.stat().st_size
    path.write_bytes(rewritten)
    root_end = rewritten.index(b">", rewritten.index(b"<IncomeExtract")) + 1
    assert chunks[0].header_end < root_end
    for chunk in chunks[1:]:  # the first chunk's wrapper is the file's own prefix; the others cut the root tag
        with ChunkStream(path, chunk) as stream:
            assert not xsdstream.validate_stream(stream, layout.schema_file).valid
    for chunk in chunks:
        assert xmlcanon.prove(path, layout, vid.COLUMNS.fields, chunk) is None, chunk
