"""Canonical extracts: prove XSD validity and extract the record texts in one compiled pass, without a parser.

libxml2's streaming validation and xml2arrow's extraction are a parser's work twice over for every file,
although the producers write every file (VID, PMLP, SOPA, VSAA) in one fixed shape. For a file (or a
record-aligned `Chunk`) in that *canonical* shape this module answers "valid, here are the columns" from one walk
over a memory map; for anything else it answers "cannot prove" (None) and the caller keeps the exact path
(libxml2 + xml2arrow + the lxml locator), so every error, line and record reported for a bad file stays as it
was. It never raises an error of its own. Soundness is the point: whenever this says valid, libxml2 says valid
and the rows are exactly xml2arrow's (tests/unit/test_xml_canon.py and test_vsaa_canon.py check both on
generated mutations).

Canonical shape (the `Grammar` comes from the XSD itself; a schema of any other form gets no fast path):
- head: optional UTF-8 BOM, optional `<?xml version="1.0" [encoding="UTF-8"] [standalone=..]?>`, whitespace, the
  root start tag, unprefixed, with no prefixed attribute other than `xmlns:*`. The head and the tail, with no
  records between, go through libxml2 as a tiny document: that proves the declaration, root, namespace and root
  attributes exactly as the full validation would (records are the root's only content);
- tail: `</Root>` as written in the schema, then whitespace to the end of the file;
- body: records `<Record><Leaf>text</Leaf>...</Record>` with the leaves in schema order (optional ones may be
  absent, none repeated but the last where the schema says `maxOccurs="unbounded"`, as VSAA's `Month`), tags
  written exactly so (no prefix, space or self-closing), only `[ \\t\\n]` outside leaf texts;
- attributes: none, except on a leaf the schema gives exactly one, required, unqualified string attribute
  (VSAA's `<Month period="2026-11">`): written exactly `<Leaf name="value">`, double quotes, no space, no other
  attribute (so no duplicate, prefix or `xmlns`), and a value that needs no normalisation: no `&`, `<`, `>`, `"`,
  TAB, LF or CR (libxml2 turns those three into spaces);
- everywhere: no `&` (entities), no C0 control byte but TAB and LF in texts (so no CR to normalise), valid UTF-8
  without U+FFFE/U+FFFF, every `<` paired with the next `>` (so a `>` in a text, a comment, a CDATA section or a
  PI cannot pass), no text or attribute value longer than 1 MB (libxml2 refuses 10 MB without XML_PARSE_HUGE),
  and the schema's `maxLength` facets (the only facet implemented; a schema with another gets no fast path).

Rows are what xml2arrow makes of the same map (`xmlcolumns.ColumnMap`): one per record, or with `row_per_child`
one per mapped child with its `<record>` and `<child>` indices (VSAA: a row for the PersonCode, one per Month, a
person without Months having only the first). The walk also counts line feeds, so each row comes with the line
of its start tag and a source needs no second scan of the file for lines.

This module derives the grammar from the XSD and checks the head and the tail; the body is walked once by
`_canonscan.scan` (C, `pipeline/sources/_canonscan.c`): every tag compared byte for byte with the ones the
transition table allows next (a leaf's start is followed by its attribute value if it has one, its text and its
own end; a record holds its leaves in order with the required ones present), every text and attribute value
checked byte by byte and copied into its Arrow column (one pass over the bytes instead of numpy's many; figures:
docs/benchmarks.md). Where the extension was not built (no C compiler at install time), every
file takes the exact path, and a warning says so once per process.
"""

from __future__ import annotations

import io
import mmap
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from lxml import etree

from pipeline.errors import SourceError
from pipeline.logs import get_logger
from pipeline.sources import xsdstream
from pipeline.sources.stablemap import stable_map
from pipeline.sources.xmlstream import Chunk, XmlLayout

try:
    from pipeline.sources import _canonscan
except ImportError:  # built by `pip install` where a C compiler is found (setup.py: optional)
    _canonscan = None

log = get_logger("sources")

_XS = "http://www.w3.org/2001/XMLSchema"
_MAX_TEXT = 1 << 20        # a longer text (or whitespace run) is left to libxml2, whose limit is 10 MB


@dataclass(frozen=True)
class Grammar:
    """A root holding `record*`, each record a sequence of string leaves (min 0/1, max 1; the last one may repeat
    without bound), each leaf with at most one required, unqualified attribute, from the XSD.

    Tag codes: 0 `<Record>`, 1 `</Record>`, 2 + 2k `<Leaf_k>`, 3 + 2k `</Leaf_k>`; a leaf with an attribute has
    the start tag `<Leaf_k attribute="`, its value then `">` being checked by the walk."""

    root: str
    record: str
    leaves: tuple[str, ...]
    required: tuple[bool, ...]
    max_chars: tuple[int | None, ...]
    attributes: tuple[str | None, ...]  # per leaf, the name of its one (required) attribute
    attribute_max_chars: tuple[int | None, ...]
    last_repeats: bool = False  # VSAA's `Month*`

    @property
    def tags(self) -> list[bytes]:
        tags = [b"<" + self.record.encode() + b">", b"</" + self.record.encode() + b">"]
        for leaf, attribute in zip(self.leaves, self.attributes, strict=True):
            start = f'<{leaf} {attribute}="' if attribute else f"<{leaf}>"
            tags += [start.encode(), f"</{leaf}>".encode()]
        return tags

    def repeats(self, leaf: int) -> bool:
        return self.last_repeats and leaf == len(self.leaves) - 1

    def transitions(self) -> np.ndarray:
        """allowed[a * K + b]: event b may follow event a, where events are the tag codes without leaf ends."""
        size = 2 + 2 * len(self.leaves)
        allowed = np.zeros((size, size), dtype=bool)
        allowed[1, 0] = True  # </Record> <Record>
        for here in range(-1, len(self.leaves)):  # -1: just after <Record>
            code = 0 if here < 0 else 2 + 2 * here
            allowed[code, code] = here >= 0 and self.repeats(here)
            for after in range(here + 1, len(self.leaves) + 1):
                allowed[code, 1 if after == len(self.leaves) else 2 + 2 * after] = True
                if after < len(self.leaves) and self.required[after]:
                    break
        return allowed.ravel()


@cache
def grammar(layout: XmlLayout) -> Grammar | None:
    """The canonical grammar of a layout's XSD, or None where the schema has another shape."""
    text = resources.files("pipeline.schemas").joinpath(layout.schema_file).read_bytes()
    try:
        return _grammar(etree.fromstring(text), layout)
    except _Unsupported as exc:
        log.debug("%s: no canonical fast path (%s)", layout.schema_file, exc)
        return None


class _Unsupported(Exception):
    pass


def _xs(element: etree._Element, local: str) -> bool:
    return element.tag == f"{{{_XS}}}{local}"


def _children(element: etree._Element) -> list[etree._Element]:
    return [c for c in element if isinstance(c.tag, str) and not _xs(c, "annotation")]


def _attributes(element: etree._Element, allowed: set[str], **exact: str) -> None:
    extra = set(element.attrib) - allowed - set(exact)
    wrong = {k: element.get(k) for k, v in exact.items() if element.get(k) != v}
    if extra or wrong:
        raise _Unsupported(f"{etree.QName(element).localname} with {sorted(extra) or wrong}")


def _only(element: etree._Element, local: str) -> etree._Element:
    children = _children(element)
    if len(children) != 1 or not _xs(children[0], local):
        raise _Unsupported(f"{etree.QName(element).localname} does not hold exactly one {local}")
    return children[0]


def _grammar(schema: etree._Element, layout: XmlLayout) -> Grammar:
    _attributes(schema, {"attributeFormDefault"}, targetNamespace=layout.namespace, elementFormDefault="qualified")
    text_types: dict[str, int | None] = {f"{{{_XS}}}string": None}
    elements = []
    for child in _children(schema):
        if _xs(child, "simpleType"):
            _attributes(child, {"name"})
            text_types[f"{{{layout.namespace}}}{child.get('name')}"] = _max_length(child)
        elif _xs(child, "element"):
            elements.append(child)
        else:
            raise _Unsupported(f"top-level {etree.QName(child).localname}")
    if len(elements) != 1:
        raise _Unsupported("not exactly one top-level element")
    root = elements[0]
    _attributes(root, set(), name=layout.root)
    root_type = _only(root, "complexType")
    _attributes(root_type, set())
    parts = _children(root_type)
    if not parts or not _xs(parts[0], "sequence") or not all(_xs(p, "attribute") for p in parts[1:]):
        raise _Unsupported("root content is not a sequence followed by attributes")
    _attributes(parts[0], set())
    record = _only(parts[0], "element")
    _attributes(record, set(), name=layout.record, minOccurs="0", maxOccurs="unbounded")
    record_type = _only(record, "complexType")
    _attributes(record_type, set())
    sequence = _only(record_type, "sequence")
    _attributes(sequence, set())
    leaves = [_leaf(leaf, text_types) for leaf in _children(sequence)]
    if any(leaf.repeats for leaf in leaves[:-1]):
        raise _Unsupported("a repeated leaf that is not the record's last")
    if any(leaf.attribute for leaf in leaves) and schema.get("attributeFormDefault", "unqualified") != "unqualified":
        raise _Unsupported("qualified attributes")  # they would be written with a prefix
    found = Grammar(layout.root, layout.record, tuple(leaf.name for leaf in leaves),
                    tuple(leaf.required for leaf in leaves), tuple(leaf.max_chars for leaf in leaves),
                    tuple(leaf.attribute for leaf in leaves), tuple(leaf.attribute_max_chars for leaf in leaves),
                    bool(leaves) and leaves[-1].repeats)
    tags = found.tags
    names = [*found.leaves, *(a for a in found.attributes if a)]
    if len(set(tags)) != len(tags) or not all(t.isascii() for t in tags) \
            or not all(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", name) for name in names):
        raise _Unsupported("leaf names repeat, or a name is not plain ASCII")
    return found


@dataclass(frozen=True)
class _Leaf:
    name: str
    required: bool
    repeats: bool
    max_chars: int | None
    attribute: str | None = None
    attribute_max_chars: int | None = None


def _leaf(leaf: etree._Element, text_types: dict[str, int | None]) -> _Leaf:
    """A record child: `<xs:element name type [minOccurs] [maxOccurs]/>` of a string type, or (VSAA's `Month`) a
    string extended by one required attribute of a string type."""
    if not _xs(leaf, "element"):
        raise _Unsupported("a record child that is not an element")
    name = str(leaf.get("name"))
    occurs = (leaf.get("minOccurs", "1"), leaf.get("maxOccurs", "1"))
    if occurs[0] not in ("0", "1") or occurs[1] not in ("1", "unbounded"):
        raise _Unsupported(f"leaf {name} occurs {occurs}")
    if not _children(leaf):
        _attributes(leaf, {"name", "type", "minOccurs", "maxOccurs"})
        return _Leaf(name, occurs[0] == "1", occurs[1] == "unbounded", _text_type(leaf, leaf.get("type"), text_types))
    _attributes(leaf, {"name", "minOccurs", "maxOccurs"})
    content = _only(_only(leaf, "complexType"), "simpleContent")
    for element in (content.getparent(), content):
        _attributes(element, set())
    extension = _only(content, "extension")
    _attributes(extension, {"base"})
    attribute = _only(extension, "attribute")
    _attributes(attribute, {"name", "type"}, use="required")
    return _Leaf(name, occurs[0] == "1", occurs[1] == "unbounded", _text_type(extension, extension.get("base"),
                 text_types), str(attribute.get("name")), _text_type(attribute, attribute.get("type"), text_types))


def _text_type(element: etree._Element, qname: str | None, text_types: dict[str, int | None]) -> int | None:
    """The maxLength of a string type the schema names (None: unlimited)."""
    type_name = _resolve(element, qname)
    if type_name not in text_types:
        raise _Unsupported(f"type {qname}")
    return text_types[type_name]


def _resolve(element: etree._Element, qname: str | None) -> str:
    if not qname:
        raise _Unsupported("an untyped leaf")
    prefix, _, local = qname.rpartition(":")
    namespace = element.nsmap.get(prefix or None)
    if namespace is None:
        raise _Unsupported(f"unknown prefix in {qname}")
    return f"{{{namespace}}}{local}"


def _max_length(simple: etree._Element) -> int | None:
    restriction = _only(simple, "restriction")
    _attributes(restriction, {"base"})
    if _resolve(restriction, restriction.get("base")) != f"{{{_XS}}}string":
        raise _Unsupported("a simple type not derived from xs:string")
    facets = _children(restriction)
    if not facets:
        return None
    if len(facets) != 1 or not _xs(facets[0], "maxLength"):
        raise _Unsupported("a facet other than maxLength")
    _attributes(facets[0], {"value"})
    return int(str(facets[0].get("value")))


# ---------------------------------------------------------------- the proof
@dataclass
class Proof:
    """A file (or chunk) proven valid, with its mapped texts ("" where a leaf is absent or empty): one row per
    record, or with `row_per_child` one per mapped child plus the columns `<record>` and `<child>` (uint32) as
    xml2arrow gives them (see `xmlcolumns.ColumnMap.row_per_child`)."""

    records: int
    columns: dict[str, pa.Array]
    lines: np.ndarray | None = None  # the line of each row's start tag (record's or child's), if `prove` was asked
    rows: int = -1  # the number of rows: `records` unless rows are children

    def __post_init__(self) -> None:
        if self.rows < 0:
            self.rows = self.records


_WS = rb"[ \t\n]"
_DECLARATION = (rb"<\?xml" + _WS + rb"+version" + _WS + rb"*=" + _WS + rb"*(?:\"1\.0\"|'1\.0')"
                + rb"(?:" + _WS + rb"+encoding" + _WS + rb"*=" + _WS + rb"*(?:\"[Uu][Tt][Ff]-8\"|'[Uu][Tt][Ff]-8'))?"
                + rb"(?:" + _WS + rb"+standalone" + _WS + rb"*=" + _WS + rb"*(?:\"(?:yes|no)\"|'(?:yes|no)'))?"
                + _WS + rb"*\?>")
_QUOTED = re.compile(rb"\"[^\"]*\"|'[^']*'")
_HEAD_BYTES = 1 << 16  # the declaration and the root start tag are looked for in the first 64 KB
# An attribute name starts after whitespace (or, once quoted values are cut out, after the `=` of the one before):
# anchored so, a run of bytes without `=` is tried once, not from each of its bytes (unanchored, one 64 KB run in
# a root tag backtracks quadratically, again per chunk).
_ATTRIBUTE_NAME = re.compile(rb"(?<![^\s=])([^\s=]+)\s*=")


def prove(path: Path, layout: XmlLayout, fields: Sequence[tuple[str, str]], chunk: Chunk | None = None,
          digest: Any | None = None, lines: bool = False, row_per_child: bool = False) -> Proof | None:
    """The mapped texts (column, `Leaf` or `Leaf/@attribute`) of every record (or, with `row_per_child`, of every
    mapped child), if the file (or chunk) is canonical and so provably valid; None if it cannot be proven (the
    caller then takes the exact path). Never raises. A `digest` is fed the whole file from the same map, only
    when the proof succeeds (so the exact path can still feed it). With `lines`, the proof also gives each row's
    line (a record's as `xmlcolumns.record_lines` would, a child's as `start_tag_lines` would), counted by the
    same walk: a second pass over the file only for them cost PMLP more than the walk itself."""
    found = grammar(layout)
    if found is None or _values(found, fields, row_per_child) is None or not _compiled():
        return None
    try:
        ranges = None if chunk is None else [(0, max(_HEAD_BYTES, chunk.header_end)), (chunk.start, chunk.end)]
        with stable_map(path, ranges=ranges) as stable:  # the run's private copy as it is, else a copy in memory
            proof = _prove(stable.data, layout, found, fields, chunk, path, lines, row_per_child)
            if proof is None or not stable.unchanged():  # changed: the exact path reads it again and reports
                return None
            if digest is not None:
                digest.update(stable.data)  # hashlib releases the GIL for the whole map
            return proof
    except (OSError, ValueError, SourceError):  # unreadable, empty or changing: the exact path reports it
        return None
    except Exception:  # noqa: BLE001 - never an error of its own: the exact path decides
        log.debug("%s: canonical proof failed unexpectedly", path, exc_info=True)
        return None


@cache
def _compiled() -> bool:
    """Whether the body walk was built; if not, said once per process (every file is still read, only slower)."""
    if _canonscan is None:
        log.warning("pipeline.sources._canonscan was not built (no C compiler when the project was installed): "
                    "canonical XML files take the exact, slower path; reinstall with gcc to get the fast one")
    return _canonscan is not None


_TEXT, _ATTRIBUTE = 0, 1  # the parts of a leaf the walk copies out


def _values(found: Grammar, fields: Sequence[tuple[str, str]], row_per_child: bool) -> list[tuple[int, int]] | None:
    """(leaf index, part) of each field, or None for a path the walk does not read as xml2arrow does: one row per
    record takes only plain leaves that cannot repeat (the walk would join several texts into one row)."""
    values = []
    for _, path in fields:
        leaf, at, attribute = path.partition("/@")
        if leaf not in found.leaves:
            return None
        index = found.leaves.index(leaf)
        if (at and attribute != found.attributes[index]) \
                or (not row_per_child and (at or found.repeats(index))):
            return None
        values.append((index, _ATTRIBUTE if at else _TEXT))
    return values


def _prove(data: mmap.mmap, layout: XmlLayout, found: Grammar, fields: Sequence[tuple[str, str]],
           chunk: Chunk | None, path: Path, lines: bool = False, row_per_child: bool = False) -> Proof | None:
    framing = _frame(data, found, chunk)
    if framing is None:
        return _cannot(path, "head or tail")
    head_end, body_start, body_end, tail = framing
    if not _head_and_tail_valid(data[:head_end] + tail, layout.schema_file):
        return _cannot(path, "head and tail are not valid on their own")
    values = _values(found, fields, row_per_child) or []
    wanted = tuple(dict.fromkeys(values))
    walked = walk_body(data, body_start, body_end, found, wanted, row_per_child, lines)
    if walked is None:
        return _cannot(path, f"body bytes {body_start}..{body_end}")
    records, rows, texts, levels = walked[:4]
    by_value = {value: pa.StringArray.from_buffers(rows, pa.py_buffer(offsets), pa.py_buffer(chars))
                for value, (offsets, chars) in zip(wanted, texts, strict=True)}
    columns = {name: by_value[value] for (name, _), value in zip(fields, values, strict=True)}
    if levels is not None:
        for name, numbers in zip(("<record>", "<child>"), levels, strict=True):
            columns[name] = pa.Array.from_buffers(pa.uint32(), rows, [None, pa.py_buffer(numbers)])
    row_lines = _first_line(data, chunk, body_start) + np.frombuffer(walked[4], np.int64) if lines else None
    return Proof(records, columns, row_lines, rows)


def walk_body(data: Any, start: int, end: int, found: Grammar, wanted: tuple[tuple[int, int], ...],
              row_per_child: bool = False, lines: bool = False) -> tuple[Any, ...] | None:
    """The compiled walk of `data[start:end]` under a grammar's tables (see `_canonscan.c` for the answer): the
    one call of the extension, shared by `prove` and the tests that scan against a no-access page."""
    return _canonscan.scan(data, start, end, tuple(found.tags), _transitions(found), _limits(found),
                           _attribute_limits(found), wanted, _MAX_TEXT, row_per_child, lines)


def _first_line(data: mmap.mmap, chunk: Chunk | None, body_start: int) -> int:
    """The line the body starts on, as `xmlcolumns.start_tag_lines` numbers it (a chunk's lines are the whole
    file's: its wrapper's header lines plus the chunk's shift)."""
    if chunk is not None:
        return 1 + chunk.line_shift + data[: chunk.header_end].count(b"\n")
    return 1 + data[:body_start].count(b"\n")


def _cannot(path: Path, why: str) -> None:
    log.debug("%s: not canonical (%s): exact path", path, why)
    return None


def _frame(data: mmap.mmap, found: Grammar, chunk: Chunk | None) -> tuple[int, int, int, bytes] | None:
    """(end of the root start tag, body start, body end, tail bytes) of a canonical head and tail."""
    root = re.escape(found.root.encode())
    head = re.compile(rb"(?:\xef\xbb\xbf)?(?:" + _DECLARATION + rb")?" + _WS + rb"*<" + root
                      + rb"((?:" + _WS + rb"[^<>&]*)?)>").match(data[:_HEAD_BYTES])
    if head is None or head.group(1).endswith(b"/"):
        return None
    names = _ATTRIBUTE_NAME.findall(_QUOTED.sub(b"", head.group(1)))
    if any(b":" in name and not name.startswith(b"xmlns:") for name in names):
        return None  # xsi:type and friends could change what the records are checked against
    closing = b"</" + found.root.encode() + b">"
    if chunk is not None:
        # the chunk is read inside data[:header_end]: a header that ends before the root start tag does is a
        # plan made on other bytes (the wrapper cuts the tag, libxml2 refuses it), whatever records it promised
        between = data[head.end(): chunk.header_end]
        if chunk.root_name != found.root.encode() or chunk.header_end < head.end() or between.strip(b" \t\n") \
                or chunk.start < chunk.header_end:
            return None
        return head.end(), chunk.start, chunk.end, closing + b"\n"
    end = len(data)
    while end > 0 and data[end - 1] in b" \t\n":
        end -= 1
    if end - len(closing) < head.end() or data[end - len(closing): end] != closing:
        return None
    return head.end(), head.end(), end - len(closing), bytes(data[end - len(closing):])


def _head_and_tail_valid(document: bytes, schema_file: str) -> bool:
    """libxml2 on the head and tail alone: the declaration, the root and its attributes, exactly as it would
    check them in the whole file."""
    return xsdstream.validate_stream(io.BytesIO(document), schema_file).valid


@cache
def _transitions(found: Grammar) -> bytes:
    return found.transitions().astype(np.uint8).tobytes()


@cache
def _limits(found: Grammar) -> tuple[int, ...]:
    return tuple(-1 if limit is None else limit for limit in found.max_chars)


_NO_ATTRIBUTE = -2  # the walk's NO_ATTRIBUTE: a plain start tag


@cache
def _attribute_limits(found: Grammar) -> tuple[int, ...]:
    return tuple(_NO_ATTRIBUTE if name is None else -1 if limit is None else limit
                 for name, limit in zip(found.attributes, found.attribute_max_chars, strict=True))
