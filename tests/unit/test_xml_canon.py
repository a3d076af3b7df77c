"""The canonical fast path (`xmlcanon`) is sound: whenever it proves a file valid, libxml2 says valid and the texts
are exactly xml2arrow's. Checked differentially on generated documents with random mutations, on chunks, on the
bundled sample and (where present) on the 4 % benchmark files; and the public stages give the same staged
Parquet, quarantine and digests with and without the fast path."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from pipeline.config import Settings, WorkLayout
from pipeline.sources import base, pmlp, sopa, vid, vsaa, xmlcanon, xmlcolumns, xsdstream
from pipeline.sources.base import StageContext
from pipeline.sources.xmlcolumns import ColumnMap
from pipeline.sources.xmlstream import Chunk, ChunkStream, located_lines, plan_chunks
from tests.conftest import ROOT, SAMPLE_INBOX, SAMPLE_PERIOD

BENCH_VID = ROOT / "bench_data" / "inbox-0.04" / "2026-11" / "vid"  # `eikis generate --fraction 0.04`, if made
MAPS = {"vid": vid.COLUMNS, "pmlp": pmlp.COLUMNS, "sopa": sopa.COLUMNS, "vsaa": vsaa.COLUMNS}
ROOT_ATTRIBUTES = {"vid": 'extractDate="2026-11-01"', "pmlp": 'extractDate="2026-11-01"',
                   "sopa": 'extractDate="2026-11-01" period="2026-11"', "vsaa": 'extractDate="2026-11-01"'}
# texts: ordinary letters, Latvian, astral, whitespace, C1 and other characters XML allows but parsers may treat
# specially; `<`, `>` and `&` are escaped when written (so the fast path must decline those records)
TEXT = st.text(alphabet=st.sampled_from(list("aZ09 -.:ĀžŅ€\t\n\x7f\x85\u2028\ufdd0\U0001f600<>&\"'")),
               max_size=12) | st.text(alphabet="ab ā", min_size=395, max_size=405)


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def document(source: str, records: list[list[tuple[str, str]]], head: str | None = None) -> bytes:
    layout = MAPS[source].layout
    head = head if head is not None else (f'<?xml version="1.0" encoding="UTF-8"?>\n<{layout.root} '
                                          f'xmlns="{layout.namespace}" {ROOT_ATTRIBUTES[source]}>\n')
    body = "".join(f"  <{layout.record}>" + "".join(f"<{name}>{escape(text)}</{name}>" for name, text in record)
                   + f"</{layout.record}>\n" for record in records)
    return (head + body + f"</{layout.root}>\n").encode()


@st.composite
def records(draw: st.DrawFn, source: str, minimum: int = 0) -> list[list[tuple[str, str]]]:
    found = xmlcanon.grammar(MAPS[source].layout)
    assert found is not None
    out = []
    for _ in range(draw(st.integers(minimum, max(minimum, 4)))):
        out.append([(leaf, draw(TEXT)) for leaf, required in zip(found.leaves, found.required, strict=True)
                    if required or draw(st.booleans())])
    return out


def mutate(source: str, data: bytes, rng: random.Random) -> bytes:
    """One random change of the kinds that break validity or canonical shape (or neither)."""
    layout = MAPS[source].layout
    leaves = xmlcanon.grammar(layout).leaves  # type: ignore[union-attr]
    leaf = rng.choice(leaves).encode()
    other = rng.choice(leaves).encode()
    tags = [m.start() for m in re.finditer(rb"<", data)]
    at = rng.choice(tags) if tags else 0
    snippets = [b"<", b">", b"&", b"&amp;", b"&#65;", b"&lt;", b"\r", b"\r\n", b"\x00", b"\x01", b"\x0b", b"\x1f",
                b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xef\xbf\xbf", b"\xef\xbf\xbe", b"\xc0\xaf", b"<!-- c -->",
                b"<![CDATA[x]]>", b"<?pi x?>", b"]]>", b"</", b"/>", b" ", b"\t", b"\n", b"\xc2\xa0", b"x",
                b"<Unknown>u</Unknown>", b"<" + leaf + b">t</" + leaf + b">", b"<" + leaf + b"/>",
                b"<" + layout.record.encode() + b">", b"</" + layout.record.encode() + b">",
                b"<" + layout.root.encode() + b">", b'<!DOCTYPE x []>', b" a=\"1\"", b"ns:", b"\xef\xbb\xbf",
                # UTF-8 edges: overlong, beyond U+10FFFF, a lone continuation, cut short, and their valid neighbours
                b"\xe0\x80\xaf", b"\xe0\xa0\x80", b"\xf0\x80\x80\x80", b"\xf0\x90\x80\x80", b"\xf4\x90\x80\x80",
                b"\xf4\x8f\xbf\xbf", b"\xf5\x80\x80\x80", b"\x80", b"\xf0\x9f\x98", b"\xed\x9f\xbf", b"\xee\x80\x80",
                b"\xc1\xbf", b"\xc2\x80", b"\x7f"]
    kind = rng.randrange(16)
    if kind == 0:    # insert a snippet anywhere
        position = rng.randrange(len(data) + 1)
        return data[:position] + rng.choice(snippets) + data[position:]
    if kind == 1:    # insert a snippet right at a tag
        return data[:at] + rng.choice(snippets) + data[at:]
    if kind == 2:    # delete a few bytes
        position = rng.randrange(len(data) + 1)
        return data[:position] + data[position + rng.randrange(1, 12):]
    if kind == 3:    # replace one byte
        position = rng.randrange(len(data)) if data else 0
        return data[:position] + bytes([rng.randrange(256)]) + data[position + 1:]
    if kind == 4:    # truncate
        return data[:rng.randrange(len(data) + 1)]
    if kind == 5:    # content after the root
        return data + rng.choice([b"<" + layout.record.encode() + b"/>", b"x", b"<!-- c -->", b"\n\n",
                                  b"</" + layout.root.encode() + b">"])
    if kind == 6:    # a leaf dropped, duplicated or renamed
        whole = rb"<" + leaf + rb">[^<]*</" + leaf + rb">"
        found = list(re.finditer(whole, data))
        if not found:
            return data
        hit = rng.choice(found)
        change = rng.choice([b"", hit.group() * 2, hit.group().replace(leaf, b"Bonus"),
                             b"<" + leaf + b"/>", b"<" + leaf + b"></" + leaf + b">",
                             hit.group().replace(b"<" + leaf + b">", b"<" + leaf + b' a="1">'),
                             hit.group().replace(b"<" + leaf, b"<v:" + leaf).replace(b"</" + leaf, b"</v:" + leaf),
                             hit.group().replace(b"<" + leaf + b">", b"<" + leaf + b" >")])
        return data[:hit.start()] + change + data[hit.end():]
    if kind == 7:    # two leaves swapped
        return data.replace(b"<" + leaf + b">", b"<@@>").replace(b"</" + leaf + b">", b"</@@>") \
            .replace(b"<" + other + b">", b"<" + leaf + b">").replace(b"</" + other + b">", b"</" + leaf + b">") \
            .replace(b"<@@>", b"<" + other + b">").replace(b"</@@>", b"</" + other + b">")
    if kind == 8:    # the namespace: wrong, prefixed root, or an extra prefix declared
        return rng.choice([data.replace(layout.namespace.encode(), b"urn:other"),
                           data.replace(b'xmlns="', b'xmlns:v="').replace(b"<" + layout.root.encode(),
                                                                         b"<v:" + layout.root.encode(), 1),
                           data.replace(b'xmlns="', b'xmlns:x="urn:x" xmlns="'),
                           data.replace(b'xmlns="', b'xsi:nil="true" xmlns:xsi="http://www.w3.org/2001/'
                                                    b'XMLSchema-instance" xmlns="'),
                           data.replace(b'extractDate="2026-11-01"', b'extractDate="2026-13-01"'),
                           data.replace(b' extractDate="2026-11-01"', b""),
                           data.replace(b'extractDate="2026-11-01"', b'extractDate="2026-11-01" extra="1"')])
    if kind == 9:    # the declaration
        return rng.choice([data.replace(b"UTF-8", b"ISO-8859-1", 1), data.replace(b"UTF-8", b"utf-8", 1),
                           data.replace(b'version="1.0"', b'version="1.1"', 1),
                           data.replace(b'?>', b' standalone="yes"?>', 1), b"\xef\xbb\xbf" + data,
                           b" " + data, data.split(b"\n", 1)[-1]])
    if kind == 10:   # a record's tag written differently
        record = layout.record.encode()
        return data.replace(rng.choice([b"<" + record + b">", b"</" + record + b">"]),
                            rng.choice([b"<" + record + b" >", b"<" + record + b"\n>", b"<" + record + b"/>", b"",
                                        b"</" + record + b" >"]), 1)
    if kind == 11:   # a text with a raw `>` or an entity
        return data.replace(b"</" + leaf + b">", rng.choice([b">", b"&gt;", b"&#x3E;", b"]]>"]) + b"</" + leaf
                            + b">", 1)
    if kind == 12:   # a leaf with a huge text
        return data.replace(b"</" + leaf + b">", b"y" * rng.choice([401, (1 << 20) + 1]) + b"</" + leaf + b">", 1)
    if kind == 13:   # whitespace or text between records / leaves
        return data.replace(rng.choice([b"</" + leaf + b">", b"\n  <"]),
                            rng.choice([b"</" + leaf + b"> ", b"</" + leaf + b">x", b"\n\t<", b"\nx<",
                                        b"\xc2\xa0<"]), 1)
    if kind == 14:   # two mutations
        return mutate(source, mutate(source, data, rng), rng)
    return data


def exact_columns(path: Path, columns: ColumnMap, chunk: Chunk | None = None) -> dict[str, pa.Array]:
    """Today's reader without the fast path: xml2arrow, with libxml2's verdict deciding (with rows per child, also
    the `<record>` and `<child>` levels)."""
    batches = list(xmlcolumns._parsed_columns(path, columns, chunk, None, 100_000))
    names = [name for name, _ in columns.fields] + (["<record>", "<child>"] if columns.row_per_child else [])
    return {name: pa.concat_arrays([b.columns[name] for b in batches]) if batches else
            pa.array([], pa.uint32() if name.startswith("<") else pa.string()) for name in names}


def assert_sound(path: Path, source: str) -> bool:
    columns = MAPS[source]
    proof = xmlcanon.prove(path, columns.layout, columns.fields, lines=True, row_per_child=columns.row_per_child)
    if proof is None:
        assert xmlcanon.prove(path, columns.layout, columns.fields, row_per_child=columns.row_per_child) is None
        return False
    outcome = xsdstream.validate_file(path, columns.layout.schema_file)
    assert outcome.valid, f"canon proved what libxml2 rejects: {outcome.message}"
    exact = exact_columns(path, columns)
    assert proof.columns.keys() == exact.keys()
    assert all(proof.columns[name].equals(exact[name]) for name in exact), "canon's texts are not xml2arrow's"
    assert_lines_exact(proof, path, columns)
    return True


def assert_lines_exact(proof: xmlcanon.Proof, path: Path, columns: ColumnMap, chunk: Chunk | None = None) -> None:
    """The lines a proof counted are the ones the exact engine gives each row (from the byte scan), and the ones
    lxml gives each start tag: the record's, or with rows per child (VSAA) its PersonCode's or its Month's."""
    assert proof.lines is not None and proof.lines.dtype == "int64"
    batches = list(xmlcolumns._parsed_columns(path, columns, chunk, None, 100_000, lines=True))
    exact = np.concatenate([b.lines for b in batches]) if batches else np.zeros(0, dtype=np.int64)
    assert list(proof.lines) == list(exact)
    if columns.row_per_child:
        first_child = np.asarray(proof.columns["<child>"].to_numpy()) == 0
        for element, rows in (("PersonCode", first_child), ("Month", ~first_child)):
            assert list(proof.lines[rows]) == list(located_lines(path, columns.layout, element, chunk))
        return
    assert list(proof.lines) == list(located_lines(path, columns.layout, columns.layout.record, chunk))


SOUNDNESS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                            HealthCheck.too_slow,
                                                                            HealthCheck.data_too_large])


@pytest.mark.parametrize("source", ["vid", "pmlp", "sopa"])
@SOUNDNESS
@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_a_proof_always_means_libxml2_valid_and_xml2arrow_texts(tmp_path, source, data, seed):
    rng = random.Random(seed)
    original = document(source, data.draw(records(source)))
    mutated = mutate(source, original, rng)
    path = tmp_path / f"{source}.xml"
    path.write_bytes(mutated)
    assert_sound(path, source)


@pytest.mark.parametrize("source", ["vid", "pmlp", "sopa"])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_the_canonical_documents_themselves_are_proven(tmp_path, source, data):
    """Unescaped texts within the facets: exactly what the fast path exists for."""
    plain = st.text(alphabet=st.sampled_from(list("aZ09 -.:ĀžŅ€\t\n\x7f\x85\u2028\ufdd0\U0001f600\"'")), max_size=12)
    found = xmlcanon.grammar(MAPS[source].layout)
    assert found is not None
    body = [[(leaf, data.draw(plain)) for leaf, required in zip(found.leaves, found.required, strict=True)
             if required or data.draw(st.booleans())] for _ in range(data.draw(st.integers(0, 5)))]
    path = tmp_path / f"{source}.xml"
    path.write_bytes(document(source, body))
    assert assert_sound(path, source)


@settings(SOUNDNESS, max_examples=200)
@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_a_proven_chunk_is_valid_in_its_wrapper_with_the_same_texts(tmp_path, data, seed):
    rng = random.Random(seed)
    rows = data.draw(records("vid", minimum=3))  # drawn so, not filtered: filtering long texts ran out of data
    path = tmp_path / "vid.xml"
    original = document("vid", rows)
    path.write_bytes(original)
    chunks = plan_chunks(path, vid.LAYOUT, 2)
    assume(chunks)
    path.write_bytes(mutate("vid", original, rng) if rng.random() < 0.8 else original)
    for chunk in chunks:
        if chunk.end > path.stat().st_size:
            continue
        proof = xmlcanon.prove(path, vid.LAYOUT, vid.COLUMNS.fields, chunk)
        if proof is None:
            continue
        with ChunkStream(path, chunk) as stream:
            assert xsdstream.validate_stream(stream, vid.LAYOUT.schema_file).valid
        exact = exact_columns(path, vid.COLUMNS, chunk)
        assert all(proof.columns[name].equals(exact[name]) for name in exact)
        assert_lines_exact(xmlcanon.prove(path, vid.LAYOUT, vid.COLUMNS.fields, chunk, lines=True), path,
                           vid.COLUMNS, chunk)


def test_truncation_at_every_position_is_never_proven_unless_only_trailing_whitespace_went(tmp_path):
    original = document("pmlp", [[("PersonCode", "1"), ("GivenName", "Ā"), ("Surname", "b"), ("Status", "ACTIVE"),
                                  ("Vital", "ALIVE"), ("AddressKind", "DECLARED"), ("AddressCode", "1")]] * 2)
    path = tmp_path / "cut.xml"
    for size in range(len(original)):
        path.write_bytes(original[:size])
        proven = assert_sound(path, "pmlp")
        assert proven == (size == len(original) - 1), size  # only the final line feed may go


def test_only_schemas_of_the_canonical_form_get_a_grammar():
    assert xmlcanon.grammar(vid.LAYOUT) is not None
    assert xmlcanon.grammar(pmlp.LAYOUT).max_chars == (400,) * 8  # type: ignore[union-attr]
    assert xmlcanon.grammar(sopa.LAYOUT) is not None
    assert xmlcanon.grammar(vsaa.LAYOUT).attributes == (None, None, None, "period")  # type: ignore[union-attr]


@pytest.mark.parametrize(("source", "pattern"), [("vid", "vid/*.xml"), ("pmlp", "pmlp/*.xml"),
                                                 ("sopa", "sopa/*.xml"), ("vsaa", "vsaa/*.xml")])
def test_the_bundled_sample_takes_the_fast_path_with_the_same_texts(source, pattern):
    files = sorted((SAMPLE_INBOX / SAMPLE_PERIOD).glob(pattern))
    assert files and all(assert_sound(path, source) for path in files)
    batches = list(xmlcolumns.read_columns(files[0], MAPS[source]))
    assert batches and {batch.reader for batch in batches} == {"canon"}


@pytest.mark.skipif(not BENCH_VID.is_dir(), reason="the 4 % benchmark month is not generated here")
def test_the_4_percent_vid_files_take_the_fast_path_with_the_same_texts():
    for path in sorted(BENCH_VID.glob("*.xml")):
        assert assert_sound(path, "vid"), path


def _stage(module: object, tmp_path: Path, files: list[Path], name: str, workers: int = 1) -> tuple[list, str]:
    settings_ = Settings(pseudonym_secret=b"k", workers=workers, data_docs=False)
    ctx = StageContext(SAMPLE_PERIOD, WorkLayout(tmp_path / name, SAMPLE_PERIOD), settings_, files[0].parent,
                       address_status=pd.Series({"101000065": "EKS", "101000066": "DEL"}))
    result = module.stage(files, ctx)  # type: ignore[attr-defined]
    tables = [pq.read_table(part) for part in result.parts]
    return tables, json.dumps([result.quarantine.rows, result.records_per_file, result.digests], sort_keys=True,
                              default=str)


@pytest.mark.parametrize(("module", "chunked"), [(vid, False), (pmlp, False), (sopa, False), (vsaa, False),
                                                (vid, True), (pmlp, True), (vsaa, True)])
def test_staging_the_sample_is_identical_with_and_without_the_fast_path(tmp_path, monkeypatch, module, chunked):
    files = sorted((SAMPLE_INBOX / SAMPLE_PERIOD / module.SOURCE).glob("*.xml"))
    if chunked:  # every file split in record-aligned chunks, each proven on its own
        monkeypatch.setattr(base, "SPLIT_ABOVE_BYTES", 1000)
        monkeypatch.setattr(base, "CHUNK_BYTES", 20_000)
    fast = _stage(module, tmp_path, files, "fast", workers=2 if chunked else 1)
    if chunked:  # VID keeps a part per chunk; PMLP gathers its chunks into one part
        assert module is pmlp or any(part.name.endswith("-001.parquet")
                                     for part in (tmp_path / "fast").rglob("part-*.parquet"))
        chunks = plan_chunks(files[0], module.LAYOUT, 3)
        assert len(chunks) > 1 and all(xmlcanon.prove(files[0], module.LAYOUT, module.COLUMNS.fields, c,
                                                      row_per_child=module.COLUMNS.row_per_child) for c in chunks)
    monkeypatch.setattr(xmlcanon, "prove", lambda *args, **kwargs: None)
    exact = _stage(module, tmp_path, files, "exact", workers=2 if chunked else 1)
    assert fast[1] == exact[1] and json.loads(fast[1])[0], "same quarantine (not empty), counts and digests"
    assert len(fast[0]) == len(exact[0]) and all(a.equals(b) for a, b in zip(fast[0], exact[0], strict=True))


def test_without_the_compiled_walk_every_file_takes_the_exact_path_with_the_same_texts(monkeypatch, caplog):
    path = sorted((SAMPLE_INBOX / SAMPLE_PERIOD / "vid").glob("*.xml"))[0]
    fast = list(xmlcolumns.read_columns(path, vid.COLUMNS))
    monkeypatch.setattr(xmlcanon, "_canonscan", None)
    xmlcanon._compiled.cache_clear()
    try:
        exact = list(xmlcolumns.read_columns(path, vid.COLUMNS))
    finally:
        xmlcanon._compiled.cache_clear()
    assert {b.reader for b in fast} == {"canon"} and {b.reader for b in exact} == {"xml2arrow"}
    assert "was not built" in caplog.text
    assert [{n: a.to_pylist() for n, a in b.columns.items()} for b in fast] == \
        [{n: a.to_pylist() for n, a in b.columns.items()} for b in exact]


VALID_BUT_NOT_CANONICAL = {
    "comment": (b"<DocumentType>", b"<!-- c --><DocumentType>"),
    "cdata": (b">D-1<", b"><![CDATA[D-1]]><"),
    "entity": (b">D-1<", b">D&amp;1<"),
    "carriage return": (b"</Income>\n", b"</Income>\r\n"),
    "space in a tag": (b"<DocumentType>", b"<DocumentType >"),
    "prefixed record": (b"<Income><DocumentId>D-0</DocumentId><PersonCode>01019010001</PersonCode>",
                        b'<v:Income xmlns:v="urn:eikis:vid:income:v1"><DocumentId>D-0</DocumentId>'
                        b"<v:PersonCode>01019010001</v:PersonCode>"),
    "self-closing leaf": (b"<PeriodEnd>2024-03</PeriodEnd>", b"<PeriodEnd/>"),
    "`>` in a text": (b">D-1<", b">D>1<"),
    "schema location": (b'extractDate=', b'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
                                         b'xsi:schemaLocation="urn:x x.xsd" extractDate='),
}


@pytest.mark.parametrize("change", list(VALID_BUT_NOT_CANONICAL))
def test_a_valid_file_outside_the_canonical_shape_takes_the_exact_path_with_the_same_texts(tmp_path, change):
    rows = [[("DocumentId", f"D-{n}"), ("PersonCode", "01019010001"), ("DocumentType", "EMPLOYER_NOTICE"),
             ("PeriodStart", "2024-03"), ("PeriodEnd", "2024-03"), ("AmountEUR", "1.00"),
             ("SubmittedAt", "2024-04-15T10:00:00")] for n in range(3)]
    path = tmp_path / "valid.xml"
    canonical = document("vid", rows)
    path.write_bytes(canonical)
    fast = list(xmlcolumns.read_columns(path, vid.COLUMNS))
    old, new = VALID_BUT_NOT_CANONICAL[change]
    assert old in canonical
    changed = canonical.replace(old, new, 1)
    path.write_bytes(changed.replace(b"</Income>", b"</v:Income>", 1) if change == "prefixed record" else changed)
    assert xsdstream.validate_file(path, vid.LAYOUT.schema_file).valid
    assert xmlcanon.prove(path, vid.LAYOUT, vid.COLUMNS.fields) is None
    exact = list(xmlcolumns.read_columns(path, vid.COLUMNS))
    assert {b.reader for b in fast} == {"canon"} and {b.reader for b in exact} == {"xml2arrow"}
    texts = [{name: array.to_pylist() for name, array in b.columns.items()} for b in exact]
    expected = [{name: array.to_pylist() for name, array in b.columns.items()} for b in fast]
    if change == "entity":
        expected[0]["document_id"][1] = "D&1"
    if change == "`>` in a text":
        expected[0]["document_id"][1] = "D>1"
    if change == "self-closing leaf":
        expected[0]["period_end"][0] = ""
    assert texts == expected
