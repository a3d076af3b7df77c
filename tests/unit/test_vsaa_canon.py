"""VSAA's canonical fast path is sound: a record whose last leaf repeats (`Month*`) with one required attribute
(`period`) is proven only when libxml2 says valid, and then yields exactly xml2arrow's rows, `<record>` and
`<child>` levels (the exact path), batch for batch. Checked differentially on generated extracts with random
mutations, attribute mutations among them, and on the 4 % benchmark files where present."""

from __future__ import annotations

import random
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.sources import vid, vsaa, xmlcanon, xmlcolumns, xsdstream
from pipeline.sources.xmlstream import plan_chunks
from tests.conftest import ROOT
from tests.unit.test_xml_canon import SOUNDNESS, assert_sound, document, escape, mutate

BENCH_VSAA = ROOT / "bench_data" / "inbox-0.04" / "2026-11" / "vsaa"
# attribute values: what canonical files hold, and what XML normalises (TAB, LF, CR), escapes or forbids there
PERIOD = st.sampled_from(["2026-11", "", " 2026-11 ", "2026-1ā", "\U0001f600"]) | st.text(
    alphabet=st.sampled_from(list("09-aĀ \t\n\r'\"&<>\x7f\x85\u2028")), max_size=8)
AMOUNT = st.sampled_from(["417.54", "", "0", " 1.5 ", "-3.00", "1\n2", "ā"]) | st.text(
    alphabet=st.sampled_from(list("09.-aĀ \t\n\"'<>&\x85")), max_size=8)
NAME = st.none() | st.sampled_from(["Anna", "Krūmiņa", "", "a b"])


def escape_attribute(value: str) -> str:
    """As a writer must: `&`, `<` and `"` escaped; TAB, LF and CR left raw (a parser turns them into spaces)."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")


Person = tuple[str, str | None, str | None, list[tuple[str, str]]]


@st.composite
def persons(draw: st.DrawFn) -> list[Person]:
    return [(draw(st.sampled_from(["23015212068", "", "230152-12068", "1"])), draw(NAME), draw(NAME),
             draw(st.lists(st.tuples(PERIOD, AMOUNT), max_size=4))) for _ in range(draw(st.integers(0, 4)))]


def extract(people: list[Person]) -> bytes:
    body = ""
    for code, given_name, surname, months in people:
        body += f"  <Person><PersonCode>{escape(code)}</PersonCode>"
        body += "" if given_name is None else f"<GivenName>{escape(given_name)}</GivenName>"
        body += "" if surname is None else f"<Surname>{escape(surname)}</Surname>"
        body += "".join(f'<Month period="{escape_attribute(period)}">{escape(amount)}</Month>'
                        for period, amount in months) + "</Person>\n"
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<BenefitsExtract xmlns="{vsaa.LAYOUT.namespace}" '
            f'extractDate="2026-11-01">\n{body}</BenefitsExtract>\n').encode()


ATTRIBUTE_CHANGES = [  # (what, how): every way a Month's start tag can leave `<Month period="...">`
    (rb'<Month period="[^"]*">', lambda tag: b"<Month>"),                                       # missing
    (rb'<Month period="[^"]*">', lambda tag: tag[:-1] + b' extra="1">'),                        # extra, after
    (rb'<Month period="[^"]*">', lambda tag: tag.replace(b"<Month ", b'<Month extra="1" ')),    # extra, before
    (rb'<Month period="[^"]*">', lambda tag: tag.replace(b'"', b"'")),                          # single quotes
    (rb'<Month period="[^"]*">', lambda tag: tag.replace(b"=", b" = ")),                        # spaces around =
    (rb'<Month period="[^"]*">', lambda tag: tag.replace(b"=", b"= ")),
    (rb'<Month period="[^"]*">', lambda tag: tag.replace(b"<Month ", b"<Month  ")),
    (rb'<Month period="[^"]*">', lambda tag: tag.replace(b"<Month ", b"<Month\n")),
    (rb'<Month period="[^"]*">', lambda tag: tag[:-1] + b" >"),
    (rb'<Month period="[^"]*">', lambda tag: tag[:-1] + b"/>"),                                 # self-closing
    (rb'<Month period="[^"]*">', lambda tag: tag[:-2] + b'&amp;">'),                            # entities
    (rb'<Month period="[^"]*">', lambda tag: tag[:-2] + b'&#65;">'),
    (rb'<Month period="[^"]*">', lambda tag: tag[:-2] + b'&quot;">'),
    (rb'<Month period="[^"]*">', lambda tag: tag[:-2] + b'&#9;">'),
    (rb'<Month period="[^"]*">', lambda tag: tag[:-2] + b'&bogus;">'),
    (rb'<Month period="[^"]*">', lambda tag: tag[:-2] + rng_byte() + b'">'),                    # raw bytes
    (rb'<Month period="[^"]*">', lambda tag: tag[:-1] + b' period="2026-01">'),                 # duplicated
    (rb'<Month period="[^"]*">', lambda tag: tag.replace(b"period", b"v:period")),              # prefixed
    (rb'<Month period="[^"]*">', lambda tag: tag.replace(b"<Month ", b'<Month xmlns:v="urn:eikis:vsaa:benefits:v1" ')
     .replace(b"period", b"v:period")),
    (rb'<Month period="[^"]*">', lambda tag: tag.replace(b"<Month ", b'<Month xml:lang="lv" ')),
    (rb'<Month period="[^"]*">', lambda tag: tag.replace(b"<Month ", b'<Month xsi:nil="true" xmlns:xsi='
                                                         b'"http://www.w3.org/2001/XMLSchema-instance" ')),
    (rb'<Month period="[^"]*">', lambda tag: tag.replace(b"<Month ", b'<Month xmlns="urn:eikis:vsaa:benefits:v1" ')),
    (rb'<Month period="[^"]*">', lambda tag: tag.replace(b"period", b"Period")),               # renamed
    (rb'<Month period="[^"]*">', lambda tag: tag.replace(b"<Month", b"<GivenName")),           # a leaf with it
    (rb"<Surname>", lambda tag: b'<Surname period="2026-11">'),
    (rb'<Month period="[^"]*">[^<]*</Month>', lambda month: month * 2),                         # order, count
    (rb'<Month period="[^"]*">[^<]*</Month>', lambda month: b""),
    (rb'<Month period="[^"]*">[^<]*</Month>', lambda month: b"<GivenName>x</GivenName>" + month),
    (rb"<PersonCode>[^<]*</PersonCode>", lambda code: code + b'<Month period="2026-11">1</Month><Surname>x</Surname>'),
    (rb"<PersonCode>[^<]*</PersonCode>", lambda code: b""),
    (rb"<PersonCode>[^<]*</PersonCode>", lambda code: code * 2),
    (rb"</Month>", lambda end: b"</month>"),
]
_RNG = random.Random()


def rng_byte() -> bytes:
    return _RNG.choice([b"<", b">", b"'", b"\t", b"\n", b"\r", b"\r\n", b"\x00", b"\x01", b"\xff", b"\xc3",
                        b"\xed\xa0\x80", b"\xef\xbf\xbe", b"\xc2\x85", b"\xe2\x80\xa8", b" ", b"]]>"])


def mutate_vsaa(data: bytes, rng: random.Random) -> bytes:
    """A change of a Month's attribute or of the record's children (half the time), else the generic ones."""
    if rng.random() < 0.5:
        return mutate("vsaa", data, rng)
    _RNG.seed(rng.random())
    pattern, change = rng.choice(ATTRIBUTE_CHANGES)
    found = list(re.finditer(pattern, data))
    if not found:
        return data
    hit = rng.choice(found)
    return data[:hit.start()] + change(hit.group()) + data[hit.end():]


@SOUNDNESS
@given(people=persons(), seed=st.integers(0, 2**32 - 1))
def test_a_vsaa_proof_always_means_libxml2_valid_and_xml2arrow_rows(tmp_path, people, seed):
    rng = random.Random(seed)
    path = tmp_path / "vsaa.xml"
    path.write_bytes(mutate_vsaa(extract(people), rng))
    assert_sound(path, "vsaa")


@settings(SOUNDNESS, max_examples=100)
@given(data=st.data())
def test_canonical_vsaa_extracts_are_proven_and_cut_in_xml2arrows_batches(tmp_path, data):
    """Texts and periods that need no escaping or normalisation, persons with and without Months or names: the
    fast path proves them, and `read_columns` cuts the same batches with the same `first` as the exact path."""
    plain = st.text(alphabet=st.sampled_from(list("09-.aĀ '\x7f\x85\u2028\U0001f600")), max_size=8)
    people = data.draw(st.lists(st.tuples(plain, NAME, NAME, st.lists(st.tuples(plain, plain), max_size=4)),
                                max_size=6))
    path = tmp_path / "vsaa.xml"
    path.write_bytes(extract(people))
    assert assert_sound(path, "vsaa")
    batch_rows = data.draw(st.integers(1, 7))
    fast = list(xmlcolumns.read_columns(path, vsaa.COLUMNS, batch_rows=batch_rows))
    exact = list(xmlcolumns._parsed_columns(path, vsaa.COLUMNS, None, None, batch_rows))
    assert {batch.reader for batch in fast} <= {"canon"}
    assert [(b.first, {n: a.to_pylist() for n, a in b.columns.items()}) for b in fast] == \
        [(b.first, {n: a.to_pylist() for n, a in b.columns.items()}) for b in exact]


@pytest.mark.parametrize("change", range(len(ATTRIBUTE_CHANGES)))
def test_every_attribute_change_is_declined_or_gives_the_exact_rows(tmp_path, change):
    """Each listed change once on a plain extract: where libxml2 still says valid (an extra namespace declaration,
    say), the fast path must decline or agree; it must never prove an invalid file."""
    people: list[Person] = [("23015212068", "Anna", "Krūmiņa", [("2026-10", "417.54"), ("2026-11", "1")])]
    original = extract(people)
    pattern, how = ATTRIBUTE_CHANGES[change]
    hit = re.search(pattern, original)
    assert hit
    _RNG.seed(change)
    path = tmp_path / "vsaa.xml"
    path.write_bytes(original[:hit.start()] + how(hit.group()) + original[hit.end():])
    if assert_sound(path, "vsaa"):
        assert xsdstream.validate_file(path, vsaa.LAYOUT.schema_file).valid


def test_an_attribute_needing_normalisation_is_left_to_libxml2_which_reads_it_differently(tmp_path):
    """Why TAB, LF and CR in an attribute are declined: the parser turns them into spaces, so the bytes are not the
    value (and an escaped `&#9;` stays a TAB)."""
    path = tmp_path / "vsaa.xml"
    path.write_bytes(extract([("23015212068", None, None, [("2026\t11", "1")])]))
    assert xmlcanon.prove(path, vsaa.LAYOUT, vsaa.COLUMNS.fields, row_per_child=True) is None
    assert xsdstream.validate_file(path, vsaa.LAYOUT.schema_file).valid
    batches = list(xmlcolumns.read_columns(path, vsaa.COLUMNS))
    assert {b.reader for b in batches} == {"xml2arrow"}
    assert batches[0].columns["period"].to_pylist() == ["", "2026 11"]


def test_a_person_without_months_and_an_empty_extract_read_as_the_exact_path_reads_them(tmp_path):
    path = tmp_path / "vsaa.xml"
    path.write_bytes(extract([("1", None, None, []), ("2", "A", None, [("", "")]), ("3", None, "B", [])]))
    proof = xmlcanon.prove(path, vsaa.LAYOUT, vsaa.COLUMNS.fields, row_per_child=True)
    assert proof is not None and proof.records == 3
    assert {n: a.to_pylist() for n, a in proof.columns.items()} == {
        "code": ["1", "2", "", "3"], "period": ["", "", "", ""], "amount": ["", "", "", ""],
        "<record>": [0, 1, 1, 2], "<child>": [0, 0, 1, 0]}
    assert assert_sound(path, "vsaa")
    path.write_bytes(extract([]))
    assert assert_sound(path, "vsaa")


def test_one_row_per_record_never_takes_a_repeated_leaf_or_an_attribute():
    """One row per record has one value per field; the walk would join several Months' texts into it, so such a
    map (and any attribute in it, or an attribute the schema does not declare) is declined."""
    grammar = xmlcanon.grammar(vsaa.LAYOUT)
    assert grammar is not None
    for fields in ((("amount", "Month"),), (("period", "Month/@period"),), (("code", "PersonCode/@x"),)):
        assert xmlcanon._values(grammar, fields, row_per_child=False) is None
    assert xmlcanon._values(grammar, (("period", "Month/@other"),), row_per_child=True) is None
    assert xmlcanon._values(grammar, (("code", "PersonCode"),), row_per_child=False) == [(0, 0)]


@pytest.mark.skipif(not BENCH_VSAA.is_dir(), reason="the 4 % benchmark month is not generated here")
def test_the_4_percent_vsaa_files_take_the_fast_path_with_the_same_rows():
    for path in sorted(BENCH_VSAA.glob("*.xml")):
        assert assert_sound(path, "vsaa"), path



@settings(SOUNDNESS, max_examples=60)
@given(data=st.data())
def test_the_proof_gives_the_lines_the_byte_scan_gives_whole_and_in_chunks(tmp_path, data):
    """Month lines (and VID record lines) from the walk's line feeds equal `start_tag_lines`, with line feeds in
    texts and between tags, in a whole file and in each record-aligned chunk."""
    text = st.text(alphabet=st.sampled_from(list("09a\n ")), max_size=4)
    period = st.text(alphabet="09a ", max_size=4)  # a line feed in an attribute value is never canonical
    people = data.draw(st.lists(st.tuples(text, NAME, NAME, st.lists(st.tuples(period, text), max_size=3)),
                                min_size=3, max_size=8))
    gap = data.draw(st.sampled_from([b"", b"\n", b"\n\n  "]))
    path = tmp_path / "vsaa.xml"
    path.write_bytes(extract(people).replace(b"><", b">" + gap + b"<").replace(b"\t", b""))
    for chunk in [None, *plan_chunks(path, vsaa.LAYOUT, 3)]:
        proof = xmlcanon.prove(path, vsaa.LAYOUT, vsaa.COLUMNS.fields, chunk, None, lines=True, row_per_child=True)
        assert proof is not None
        months = proof.lines[np.asarray(proof.columns["<child>"].to_numpy()) != 0]
        assert months.tolist() == xmlcolumns.start_tag_lines(path, "Month", chunk).tolist()  # type: ignore[union-attr]
        persons = proof.lines[np.asarray(proof.columns["<child>"].to_numpy()) == 0]
        assert persons.tolist() == xmlcolumns.start_tag_lines(path, "PersonCode", chunk).tolist()  # type: ignore


def test_one_row_per_record_gives_the_record_lines(tmp_path):
    path = tmp_path / "vid.xml"
    record = [("DocumentId", "D\n1"), ("PersonCode", "01019010001"), ("DocumentType", "X"), ("PeriodStart", "a"),
              ("PeriodEnd", "b"), ("AmountEUR", "1"), ("SubmittedAt", "c")]
    path.write_bytes(document("vid", [record] * 5).replace(b"<PersonCode>", b"\n<PersonCode>"))
    proof = xmlcanon.prove(path, vid.LAYOUT, vid.COLUMNS.fields, lines=True)
    assert proof is not None
    assert proof.lines.tolist() == xmlcolumns.start_tag_lines(path, "Income", None).tolist()  # type: ignore
    assert proof.lines.tolist() == [3, 6, 9, 12, 15]
