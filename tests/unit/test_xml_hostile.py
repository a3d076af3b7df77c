"""The XML fast path under a hostile provider (issue 28): what a provider can write into an extract must neither
stall a month (no super-linear step before the walk), nor be "proven" on a plan made for other bytes, nor reach the
compiled walk with arguments it cannot handle, nor be read past its end; and a file that changes while it is read
is refused in one line naming it, never a SIGBUS or values of two versions."""

from __future__ import annotations

import ctypes
import hashlib
import mmap
import random
import subprocess
import sys
import time
from typing import Any

import numpy as np
import pytest

from pipeline.errors import SourceError
from pipeline.sources import vid, vsaa, xmlcanon, xmlcolumns, xsdstream
from pipeline.sources.stablemap import FileChanged, stable_map
from pipeline.sources.xmlcanon import _canonscan
from pipeline.sources.xmlstream import ChunkStream, XmlLayout, plan_chunks
from tests.conftest import ROOT
from tests.guarded import GuardedPage
from tests.unit.test_xml_canon import document

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


# ---------------------------------------------------------------- the compiled walk's own guards
def _scan_arguments(layout: XmlLayout, fields: tuple[tuple[str, str], ...], per_child: bool) -> dict[str, Any]:
    found = xmlcanon.grammar(layout)
    assert found is not None
    return {"tags": tuple(found.tags), "allowed": bytearray(found.transitions().astype(np.uint8).tobytes()),
            "max_chars": xmlcanon._limits(found), "attribute_chars": xmlcanon._attribute_limits(found),
            "wanted": tuple(dict.fromkeys(xmlcanon._values(found, fields, per_child) or [])),
            "max_text": 1 << 20, "per_child": per_child}


def _scan(body: bytes, arguments: dict[str, Any]) -> tuple[Any, ...] | None:
    a = arguments
    return _canonscan.scan(body, 0, len(body), a["tags"], bytes(a["allowed"]), a["max_chars"],
                           a["attribute_chars"], a["wanted"], a["max_text"], a["per_child"], True)


VID_BODY = b"  <Income>" + b"".join(f"<{n}>{t}</{n}>".encode() for n, t in RECORD) + b"</Income>\n"
VSAA_BODY = (b'  <Person><PersonCode>23015212068</PersonCode><GivenName>Anna</GivenName><Month period="2026-10">'
             b'417.54</Month><Month period="2026-11">1.5</Month></Person>\n  <Person><PersonCode>1</PersonCode>'
             b'</Person>\n')
BODIES = {"vid": (VID_BODY * 2, vid.LAYOUT, vid.COLUMNS.fields, False),
          "vsaa": (VSAA_BODY, vsaa.LAYOUT, vsaa.COLUMNS.fields, True)}


@pytest.mark.skipif(_canonscan is None, reason="the compiled walk was not built")
@pytest.mark.parametrize("source", list(BODIES))
def test_scan_refuses_an_allowed_table_that_names_a_leafs_end_tag_as_an_event(source):
    """A leaf's end is no event (its start is followed by its own end): named as one after the last leaf, the
    walk read one element past its tag table (AddressSanitizer at _canonscan.c:154)."""
    body, layout, fields, per_child = BODIES[source]
    arguments = _scan_arguments(layout, fields, per_child)
    assert _scan(body, arguments) is not None
    codes = len(arguments["tags"])
    last_leaf_end = codes - 1
    bad = dict(arguments, allowed=bytearray(arguments["allowed"]))
    bad["allowed"][1 * codes + last_leaf_end] = 1  # after </Record>: the last leaf's end
    with pytest.raises(ValueError, match="leaf's end"):
        _scan(body, bad)
    bad = dict(arguments, allowed=bytearray(arguments["allowed"]))
    bad["allowed"][last_leaf_end * codes + 0] = 1  # a leaf's end as the state before <Record>
    with pytest.raises(ValueError, match="leaf's end"):
        _scan(body, bad)


@pytest.mark.skipif(_canonscan is None, reason="the compiled walk was not built")
@pytest.mark.parametrize(("argument", "value"), [("max_chars", -2), ("max_chars", -1000), ("attribute_chars", -3),
                                                 ("max_text", -1)])
def test_scan_refuses_limits_below_their_meaning(argument, value):
    """-1 means "no limit" (and -2 "no attribute"); anything lower silently meant unlimited."""
    body, layout, fields, per_child = BODIES["vsaa"]
    arguments = _scan_arguments(layout, fields, per_child)
    bad = dict(arguments)
    bad[argument] = value if argument == "max_text" else (value,) + arguments[argument][1:]
    with pytest.raises(ValueError, match="limit|max_text"):
        _scan(body, bad)


@pytest.mark.skipif(_canonscan is None, reason="the compiled walk was not built")
@pytest.mark.parametrize("source", list(BODIES))
def test_no_sub_range_of_a_body_is_read_past_its_end(source):
    """Every sub-range [start, end) of a canonical body (and of fixed-seed mutations of it), placed to end right
    before a no-access page: a read past `end` faults (AddressSanitizer cannot see one past a mapped file)."""
    body, layout, fields, per_child = BODIES[source]
    arguments = _scan_arguments(layout, fields, per_child)
    rng = random.Random(28)
    variants = [body] + [_mutated(body, rng) for _ in range(6)]
    proven = 0
    with GuardedPage(max(len(v) for v in variants)) as page:
        for variant in variants:
            for end in range(len(variant) + 1):
                buffer = page.ending_at_guard(variant[:end])
                for start in range(end + 1):
                    walked = _canonscan.scan(buffer, start, end, arguments["tags"], bytes(arguments["allowed"]),
                                             arguments["max_chars"], arguments["attribute_chars"],
                                             arguments["wanted"], arguments["max_text"], per_child, True)
                    proven += walked is not None and walked[0] > 0
        whole = _canonscan.scan(page.ending_at_guard(body), 0, len(body), arguments["tags"],
                                bytes(arguments["allowed"]), arguments["max_chars"], arguments["attribute_chars"],
                                arguments["wanted"], arguments["max_text"], per_child, True)
    assert whole is not None and whole[:2] == _scan(body, arguments)[:2] and whole[0] == 2
    assert proven > 2  # the whole bodies, and the ranges holding whole records, were proven


def _mutated(body: bytes, rng: random.Random) -> bytes:
    """One byte replaced, inserted or deleted, or the body cut."""
    at = rng.randrange(len(body))
    return rng.choice([body[:at] + bytes([rng.randrange(256)]) + body[at + 1:],
                       body[:at] + rng.choice([b"<", b">", b'"', b"\xc3", b"\xf0\x9f", b"</"]) + body[at:],
                       body[:at] + body[at + 1:], body[:at]])


# ---------------------------------------------------------------- a file that changes while it is read
READ_WHILE_CUT = r"""
import hashlib, os, sys
from pathlib import Path
from pipeline.errors import SourceError
from pipeline.sources import vid, xmlcolumns

path = Path(sys.argv[1])


class CutOnFirstUse:
    '''The provider's timing made exact: the file is cut to half the moment the reader first hands its bytes on
    (to the digest), that is while they are mapped or held.'''

    def __init__(self):
        self.sha256, self.cut = hashlib.sha256(), False

    def update(self, data):
        if not self.cut:
            os.truncate(path, path.stat().st_size // 2)
            self.cut = True
        self.sha256.update(data)


digest = CutOnFirstUse()
try:
    batches = list(xmlcolumns.read_columns(path, vid.COLUMNS, digest=digest))
except SourceError as error:
    print(error)
    sys.exit(1)
print(sum(batch.rows for batch in batches), {batch.reader for batch in batches}.pop(), digest.sha256.hexdigest())
"""


@pytest.mark.parametrize("canonical", [True, False])
def test_a_file_cut_while_it_is_read_gives_one_line_naming_it_never_sigbus(tmp_path, canonical):
    """Before: the reader mapped the file, and the first read of a page past the new end killed the worker with
    SIGBUS (exit 135, no line). Now a file that is not the run's sealed copy is read into memory first: the
    canonical walk answers for the bytes it read (values and digest of one version), and the exact path, which
    reads the file again, refuses it in one line naming it."""
    rows = [[(name, f"D-{n}" if name == "DocumentId" else text) for name, text in RECORD] for n in range(3000)]
    data = document("vid", rows)
    if not canonical:  # valid, but the fast path declines a comment: libxml2 and xml2arrow read it
        data = data.replace(b"<Income>", b"<!-- c --><Income>", 1)
    path = tmp_path / "income_01.xml"
    path.write_bytes(data)
    assert len(data) > 64 * mmap.PAGESIZE
    done = subprocess.run([sys.executable, "-c", READ_WHILE_CUT, str(path)], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode >= 0, f"killed by signal {-done.returncode}: {done.stderr[-500:]}"
    assert path.stat().st_size == len(data) // 2  # the cut happened
    if canonical:
        assert done.returncode == 0, done.stdout + done.stderr[-500:]
        assert done.stdout.split() == ["3000", "canon", hashlib.sha256(data).hexdigest()]
    else:
        assert done.returncode == 1, done.stdout + done.stderr[-500:]
        assert done.stdout.count("\n") == 1 and done.stdout.startswith(f"{path}: ")
        assert "changed while it was read" in done.stdout


def test_only_a_sealed_file_is_mapped_as_it_is_any_other_is_read_into_memory(tmp_path):
    """The run's private copy (owner-only, read-only) is mapped at no cost; a file anyone may write is not."""
    path = tmp_path / "income_01.xml"
    path.write_bytes(document("vid", [RECORD]))
    with stable_map(path) as stable:
        assert not stable.sealed and stable.data[:5] == b"<?xml"
    path.chmod(0o400)
    with stable_map(path) as stable:
        assert stable.sealed and stable.unchanged()
    path.chmod(0o600)
    with stable_map(path) as stable:
        path.write_bytes(document("vid", [RECORD, RECORD]))
        assert not stable.unchanged()
        with pytest.raises(FileChanged, match="changed while it was read"):
            stable.require_unchanged()


@pytest.mark.skipif(_canonscan is None, reason="the compiled walk was not built")
@pytest.mark.parametrize("source", list(BODIES))
def test_a_body_in_an_allocation_of_its_own_size_is_not_read_past_its_end(source):
    """The heap's view of the same guarantee: under AddressSanitizer with PYTHONMALLOC=malloc (the sanitizer job)
    a ctypes array is one allocation of exactly the body's size, so a read past it is reported (a `bytes` would
    hide one byte: it ends in a NUL). Elsewhere: the same answers as from the body's bytes."""
    body, layout, fields, per_child = BODIES[source]
    arguments = _scan_arguments(layout, fields, per_child)
    for end in range(len(body) + 1):
        exact = (ctypes.c_char * end).from_buffer_copy(body[:end])
        walked = _canonscan.scan(exact, 0, end, arguments["tags"], bytes(arguments["allowed"]),
                                 arguments["max_chars"], arguments["attribute_chars"], arguments["wanted"],
                                 arguments["max_text"], per_child, True)
        assert walked == _scan(body[:end], arguments)


def test_a_file_rewritten_between_validation_and_extraction_is_refused_in_one_line(tmp_path):
    """The exact path reads a file twice, libxml2 validating and xml2arrow copying: rewritten in between (same
    size, another amount), the values copied are not the ones validated. The reader compares the file before and
    after and refuses it, however far the two had got."""
    rows = [[(name, f"D-{n}" if name == "DocumentId" else text) for name, text in RECORD] for n in range(50)]
    data = document("vid", rows).replace(b"<Income>", b"<!-- c --><Income>", 1)  # not canonical: the exact path
    path = tmp_path / "income_01.xml"
    path.write_bytes(data)
    batches = xmlcolumns.read_columns(path, vid.COLUMNS, batch_rows=10)
    first = next(batches)
    assert first.reader == "xml2arrow"
    path.write_bytes(data.replace(b"<AmountEUR>1.00<", b"<AmountEUR>9.00<"))  # in place: the same inode and size
    with pytest.raises(SourceError) as caught:
        list(batches)
    assert str(caught.value) == (f"{path}: changed while it was read (truncated, rewritten or replaced); the provider "
                                 "must deliver it whole and leave it unchanged, then run again")


def test_the_runs_private_inbox_copy_is_sealed_so_the_readers_map_it_as_it_is(tmp_path):
    """The two halves of the guarantee meet: the flow kernel's private copy (pipeline/inbox.py) is what
    `stablemap` maps without a copy in memory; the provider's own file is not."""
    from pipeline.inbox import private_copies

    inbox = tmp_path / "inbox"
    (inbox / "2026-11" / "vid").mkdir(parents=True)
    provided = inbox / "2026-11" / "vid" / "income_01.xml"
    provided.write_bytes(document("vid", [RECORD]))
    [copy] = private_copies(inbox, "2026-11", [provided], tmp_path / "work" / "2026-11" / "inbox")
    with stable_map(copy.path) as ours, stable_map(provided) as theirs:
        assert ours.sealed and not theirs.sealed
        assert ours.data[:] == theirs.data[:]
    assert {batch.reader for batch in xmlcolumns.read_columns(copy.path, vid.COLUMNS)} == {"canon"}
