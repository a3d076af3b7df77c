"""Canonical extracts: prove XSD validity and extract the record texts in a few numpy passes, without a parser.

libxml2's streaming validation (≈ 3.4 CPU-s) and xml2arrow's extraction (≈ 2 CPU-s) cost ≈ 5 CPU-s per national
VID file, although the producers write every file in one fixed shape. For a file (or a record-aligned `Chunk`)
in that *canonical* shape this module answers "valid, here are the columns" from vectorised passes over a memory
map; for anything else it answers "cannot prove" (None) and the caller keeps the exact path (libxml2 +
xml2arrow + the lxml locator), so every error, line and record reported for a bad file stays as it was. It never
raises an error of its own. Soundness is the point: whenever this says valid, libxml2 says valid and the texts
are exactly xml2arrow's (tests/unit/test_xml_canon.py checks both on generated mutations).

Canonical shape (the `Grammar` comes from the XSD itself; a schema of any other form gets no fast path):
- head: optional UTF-8 BOM, optional `<?xml version="1.0" [encoding="UTF-8"] [standalone=..]?>`, whitespace, the
  root start tag, unprefixed, with no prefixed attribute other than `xmlns:*`. The head and the tail, with no
  records between, go through libxml2 as a tiny document: that proves the declaration, root, namespace and root
  attributes exactly as the full validation would (records are the root's only content);
- tail: `</Root>` as written in the schema, then whitespace to the end of the file;
- body: records `<Record><Leaf>text</Leaf>...</Record>` with the leaves in schema order (optional ones may be
  absent, none repeated), tags written exactly so (no attribute, prefix, space or self-closing), only
  `[ \\t\\n]` outside leaf texts;
- everywhere: no `&` (entities), no C0 control byte but TAB and LF (so no CR to normalise), valid UTF-8 without
  U+FFFE/U+FFFF, every `<` paired with the next `>` (so a `>` in a text, a comment, a CDATA section or a PI
  cannot pass), no text longer than 1 MB (libxml2 refuses 10 MB without XML_PARSE_HUGE), and the schema's
  `maxLength` facets (the only facet implemented; a schema with another gets no fast path).

Every `<` then starts a tag, so the tags are found with one vectorised compare, identified exactly by their
length and 8-byte windows at both ends (and the middle, for tags up to 24 bytes), and their sequence checked by
a transition table: a leaf's start is followed by its end, a record holds its leaves in order with the required
ones present. The texts are cut out of the map by `take` on an Arrow array whose offsets are the text segments.
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
import pyarrow.compute as pc
from lxml import etree

from pipeline.logs import get_logger
from pipeline.sources import xsdstream
from pipeline.sources.xmlstream import Chunk, XmlLayout

log = get_logger("sources")

_XS = "http://www.w3.org/2001/XMLSchema"
_BLOCK = 32 << 20          # bytes per vectorised pass: bounds the index arrays (≈ 20 bytes per tag per array)
_MAX_TEXT = 1 << 20        # a longer text (or whitespace run) is left to libxml2, whose limit is 10 MB
_MAX_TAG = 24              # windows at 0, 8 and -8 cover every byte of a tag up to this length
_ALL = np.uint64(0xFFFF_FFFF_FFFF_FFFF)


@dataclass(frozen=True)
class Grammar:
    """A root holding `record*`, each record a sequence of simple string leaves (min 0/1, max 1), from the XSD.

    Tag codes: 0 `<Record>`, 1 `</Record>`, 2 + 2k `<Leaf_k>`, 3 + 2k `</Leaf_k>`."""

    root: str
    record: str
    leaves: tuple[str, ...]
    required: tuple[bool, ...]
    max_chars: tuple[int | None, ...]

    @property
    def tags(self) -> list[bytes]:
        names = [self.record, *self.leaves]
        return [f"<{'/' if close else ''}{name}>".encode() for name in names for close in (False, True)]

    def transitions(self) -> np.ndarray:
        """allowed[a * K + b]: event b may follow event a, where events are the tag codes without leaf ends."""
        size = 2 + 2 * len(self.leaves)
        allowed = np.zeros((size, size), dtype=bool)
        allowed[1, 0] = True  # </Record> <Record>
        for here in range(-1, len(self.leaves)):  # -1: just after <Record>
            code = 0 if here < 0 else 2 + 2 * here
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
    leaves, required, max_chars = [], [], []
    for leaf in _children(sequence):
        if not _xs(leaf, "element") or _children(leaf):
            raise _Unsupported("a record child that is not a typed leaf element")
        _attributes(leaf, {"name", "type", "minOccurs", "maxOccurs"})
        type_name = _resolve(leaf, leaf.get("type"))
        if type_name not in text_types or leaf.get("minOccurs", "1") not in ("0", "1") \
                or leaf.get("maxOccurs", "1") != "1":
            raise _Unsupported(f"leaf {leaf.get('name')}")
        leaves.append(str(leaf.get("name")))
        required.append(leaf.get("minOccurs", "1") == "1")
        max_chars.append(text_types[type_name])
    found = Grammar(layout.root, layout.record, tuple(leaves), tuple(required), tuple(max_chars))
    tags = found.tags
    if len(set(tags)) != len(tags) or max(map(len, tags)) > _MAX_TAG or not all(t.isascii() for t in tags):
        raise _Unsupported("leaf names repeat or are too long")
    return found


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


# ---------------------------------------------------------------- the tag table
@dataclass(frozen=True)
class _TagTable:
    """What each tag code looks like through the windows, and a perfect hash from a tag's last window to its
    only candidate code (then compared exactly)."""

    length: np.ndarray     # bytes, per code
    first: np.ndarray      # the first min(length, 8) bytes as a little-endian u64
    last: np.ndarray       # the last min(length, 8) bytes, in the high bytes of a u64
    middle: np.ndarray     # bytes 8..15 (tags longer than 16 bytes), else 0
    slots: np.ndarray      # hash slot -> code, -1 for none
    multiplier: np.uint64
    shift: np.uint64
    short: bool            # some tag is shorter than 8 bytes: windows need masks
    long: bool             # some tag is longer than 16 bytes: the middle window is compared too


_FIRST_MASK = np.array([(1 << (8 * n)) - 1 for n in range(9)], dtype=np.uint64)
_LAST_MASK = np.array([((1 << 64) - 1) ^ ((1 << (8 * (8 - n))) - 1) for n in range(9)], dtype=np.uint64)
_HASH_BITS = 10


@cache
def _tag_table(found: Grammar) -> _TagTable:
    tags = found.tags
    length = np.array([len(t) for t in tags], dtype=np.int64)
    first = np.array([int.from_bytes(t[:8], "little") for t in tags], dtype=np.uint64)
    last = np.array([int.from_bytes(t[-8:].rjust(8, b"\0"), "little") for t in tags], dtype=np.uint64)
    middle = np.array([int.from_bytes(t[8:16], "little") if len(t) > 16 else 0 for t in tags], dtype=np.uint64)
    shift = np.uint64(64 - _HASH_BITS)
    keys = last + length.astype(np.uint64)
    for attempt in range(1000):
        multiplier = np.uint64((0x9E3779B97F4A7C15 + 2 * attempt) % (1 << 64))
        with np.errstate(over="ignore"):
            slot_of = (keys * multiplier) >> shift
        if len(set(slot_of.tolist())) == len(tags):
            break
    else:  # pragma: no cover - 24 keys in 1024 slots
        raise RuntimeError("no perfect hash for the tag table")
    slots = np.full(1 << _HASH_BITS, -1, dtype=np.int8)
    slots[slot_of] = np.arange(len(tags), dtype=np.int8)
    return _TagTable(length, first, last, middle, slots, multiplier, shift, bool(length.min() < 8),
                     bool(length.max() > 16))


# ---------------------------------------------------------------- the proof
@dataclass
class Proof:
    """A file (or chunk) proven valid, with its records' mapped texts ("" where a leaf is absent or empty)."""

    records: int
    columns: dict[str, pa.Array]


_WS = rb"[ \t\n]"
_DECLARATION = (rb"<\?xml" + _WS + rb"+version" + _WS + rb"*=" + _WS + rb"*(?:\"1\.0\"|'1\.0')"
                + rb"(?:" + _WS + rb"+encoding" + _WS + rb"*=" + _WS + rb"*(?:\"[Uu][Tt][Ff]-8\"|'[Uu][Tt][Ff]-8'))?"
                + rb"(?:" + _WS + rb"+standalone" + _WS + rb"*=" + _WS + rb"*(?:\"(?:yes|no)\"|'(?:yes|no)'))?"
                + _WS + rb"*\?>")
_QUOTED = re.compile(rb"\"[^\"]*\"|'[^']*'")
_ATTRIBUTE_NAME = re.compile(rb"([^\s=]+)\s*=")


def prove(path: Path, layout: XmlLayout, fields: Sequence[tuple[str, str]], chunk: Chunk | None = None,
          digest: Any | None = None) -> Proof | None:
    """The mapped texts (column, leaf name) of every record, if the file (or chunk) is canonical and so provably
    valid; None if it cannot be proven (the caller then takes the exact path). Never raises. A `digest` is fed
    the whole file from the same map, only when the proof succeeds (so the exact path can still feed it)."""
    found = grammar(layout)
    if found is None or any(leaf not in found.leaves for _, leaf in fields):
        return None
    try:
        with path.open("rb") as handle:  # prefaulted: every page is read anyway, faulting them one by one cost
            data = mmap.mmap(handle.fileno(), 0, flags=mmap.MAP_SHARED | _POPULATE, prot=mmap.PROT_READ)
    except (OSError, ValueError):  # unreadable or empty: the exact path reports it
        return None
    try:
        proof = _prove(data, layout, found, fields, chunk, path)
    except Exception:  # noqa: BLE001 - never an error of its own: the exact path decides
        log.debug("%s: canonical proof failed unexpectedly", path, exc_info=True)
        return None
    if proof is not None and digest is not None:
        digest.update(data)  # hashlib releases the GIL for the whole map
    return proof


_POPULATE = getattr(mmap, "MAP_POPULATE", 0)  # Linux


def _prove(data: mmap.mmap, layout: XmlLayout, found: Grammar, fields: Sequence[tuple[str, str]],
           chunk: Chunk | None, path: Path) -> Proof | None:
    framing = _frame(data, found, chunk)
    if framing is None:
        return _cannot(path, "head or tail")
    head_end, body_start, body_end, tail = framing
    if not _head_and_tail_valid(data[:head_end] + tail, layout.schema_file):
        return _cannot(path, "head and tail are not valid on their own")
    whole = np.frombuffer(data, dtype=np.uint8)
    windows = np.lib.stride_tricks.as_strided(whole, (len(whole) - 7, 8), (1, 1), writeable=False)
    windows = windows.view("<u8")[:, 0]
    blocks = []
    bounds = _block_bounds(data, found, body_start, body_end)
    for start, end in zip(bounds, bounds[1:], strict=False):
        block = _Block(data, whole, windows, found, start, end).prove(fields)
        if block is None:
            return _cannot(path, f"bytes {start}..{end}")
        blocks.append(block)
    records = sum(b.records for b in blocks)
    columns = {name: pa.concat_arrays([b.columns[name] for b in blocks]) if blocks else pa.array([], pa.string())
               for name, _ in fields}
    return Proof(records, columns)


def _cannot(path: Path, why: str) -> None:
    log.debug("%s: not canonical (%s): exact path", path, why)
    return None


def _frame(data: mmap.mmap, found: Grammar, chunk: Chunk | None) -> tuple[int, int, int, bytes] | None:
    """(end of the root start tag, body start, body end, tail bytes) of a canonical head and tail."""
    root = re.escape(found.root.encode())
    head = re.compile(rb"(?:\xef\xbb\xbf)?(?:" + _DECLARATION + rb")?" + _WS + rb"*<" + root
                      + rb"((?:" + _WS + rb"[^<>&]*)?)>").match(data[: 1 << 16])
    if head is None or head.group(1).endswith(b"/"):
        return None
    names = _ATTRIBUTE_NAME.findall(_QUOTED.sub(b"", head.group(1)))
    if any(b":" in name and not name.startswith(b"xmlns:") for name in names):
        return None  # xsi:type and friends could change what the records are checked against
    closing = b"</" + found.root.encode() + b">"
    if chunk is not None:
        between = data[head.end(): chunk.header_end]
        if chunk.root_name != found.root.encode() or between.strip(b" \t\n") or chunk.start < chunk.header_end:
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


def _block_bounds(data: mmap.mmap, found: Grammar, start: int, end: int) -> list[int]:
    """Record-aligned block bounds over [start, end): each inner bound is a `<Record>` (in a canonical body every
    `<` starts a tag, so the literal is one; elsewhere the block's own checks fail)."""
    opening = f"<{found.record}>".encode()
    bounds = [start]
    for target in range(start + _BLOCK, end, _BLOCK):
        at = data.find(opening, max(target, bounds[-1] + 1), end)
        if at < 0:
            break
        bounds.append(at)
    bounds.append(end)
    return bounds


@dataclass
class _BlockColumns:
    records: int
    columns: dict[str, pa.Array]


class _Block:
    """Bytes [start, end) of a body that must be whitespace and whole records."""

    def __init__(self, data: mmap.mmap, whole: np.ndarray, windows: np.ndarray, found: Grammar, start: int,
                 end: int) -> None:
        self.data, self.whole, self.windows, self.found = data, whole, windows, found
        self.start, self.end = start, end
        self.bytes = whole[start:end]

    def prove(self, fields: Sequence[tuple[str, str]]) -> _BlockColumns | None:
        if not self._plain_bytes():
            return None
        view = self.bytes
        opens = np.flatnonzero(view == 60) + self.start   # `<`
        closes = np.flatnonzero(view == 62) + self.start  # `>`
        if len(opens) != len(closes):
            return None
        if not len(opens):
            return _BlockColumns(0, {name: pa.array([], pa.string()) for name, _ in fields}) \
                if _all_whitespace(view) else None
        if not ((closes > opens).all() and (opens[1:] > closes[:-1]).all()):
            return None  # a `<` or `>` outside a tag
        if closes[0] < 7 or opens[-1] + 16 >= len(self.whole):
            return None  # a window would leave the file
        codes = self._codes(opens, closes)
        if codes is None or not self._sequence(codes):
            return None
        segments = self._segments(opens, closes)
        lengths = np.diff(segments)[::2]  # the text before tag i, and after the last one
        leaf_starts = np.flatnonzero(~(codes & 1).view(bool) & (codes >= 2))
        if lengths.max(initial=0) > _MAX_TEXT or not self._whitespace_between(segments, lengths, leaf_starts):
            return None
        texts = pa.StringArray.from_buffers(len(segments) - 1, pa.py_buffer((segments - self.start).astype(np.int32)),
                                            pa.py_buffer(view))  # blocks are far below 2 GB
        if not self._facets(texts, codes, leaf_starts, lengths):
            return None
        return self._columns(texts, codes, fields)

    def _plain_bytes(self) -> bool:
        """No entity, no C0 control byte but TAB/LF, no U+FFFE/U+FFFF, valid UTF-8."""
        view = self.bytes
        if self.data.find(b"&", self.start, self.end) >= 0:
            return False
        controls = view[np.flatnonzero(view < 32)]  # mostly line feeds: one compare over the block, then few
        if np.count_nonzero(controls == 10) + np.count_nonzero(controls == 9) != len(controls):
            return False
        lead = np.flatnonzero(view == 0xEF) + self.start  # U+FFFE/U+FFFF: EF BF BE/BF (never at the file's end)
        if len(lead) and ((self.whole[lead + 1] == 0xBF) & (self.whole[lead + 2] >= 0xBE)).any():
            return False
        whole = pa.LargeStringArray.from_buffers(1, pa.py_buffer(np.array([0, len(view)], dtype=np.int64)),
                                                 pa.py_buffer(view))
        try:
            whole.validate(full=True)
        except pa.ArrowInvalid:
            return False
        return True

    def _codes(self, opens: np.ndarray, closes: np.ndarray) -> np.ndarray | None:
        """Each tag's code, found by a perfect hash of its last window and confirmed on every byte."""
        table = _tag_table(self.found)
        length = closes - opens + 1
        first = self.windows[opens]
        last = self.windows[closes - 7]
        if table.short:
            clipped = np.minimum(length, 8)
            first &= _FIRST_MASK[clipped]
            last &= _LAST_MASK[clipped]
        elif length.min() < 8:
            return None
        with np.errstate(over="ignore"):
            slot = ((last + length.astype(np.uint64)) * table.multiplier) >> table.shift
        codes = table.slots[slot.astype(np.intp)]
        if codes.min() < 0:
            return None
        index = codes.astype(np.intp)
        exact = (length == table.length[index]) & (first == table.first[index]) & (last == table.last[index])
        if not exact.all():
            return None
        if table.long:
            long_tags = np.flatnonzero(length > 16)
            if not (self.windows[opens[long_tags] + 8] == table.middle[index[long_tags]]).all():
                return None
        return codes

    def _sequence(self, codes: np.ndarray) -> bool:
        """Whole records with their leaves in schema order: a leaf start is followed by its own end (and every
        leaf end is one of those), and the starts follow the transition table."""
        odd = (codes & 1).view(bool)
        leaf_end = odd & (codes >= 3)
        leaf_start = np.flatnonzero(~odd & (codes >= 2))
        if len(leaf_start) != np.count_nonzero(leaf_end):
            return False
        if len(leaf_start) and (leaf_start[-1] + 1 >= len(codes)
                                or (codes[leaf_start + 1] != codes[leaf_start] + 1).any()):
            return False
        events = codes[~leaf_end]
        if events[0] != 0 or events[-1] != 1:
            return False
        size = np.int16(2 + 2 * len(self.found.leaves))
        return bool(_transitions(self.found)[events[:-1].astype(np.int16) * size + events[1:]].all())

    def _segments(self, opens: np.ndarray, closes: np.ndarray) -> np.ndarray:
        """Offsets alternating text, tag, text, ..., text, then an empty element: text i ends at tag i."""
        segments = np.empty(2 * len(opens) + 3, dtype=np.int64)
        segments[0] = self.start
        segments[1:-2:2] = opens
        segments[2:-2:2] = closes + 1
        segments[-2:] = self.end
        return segments

    def _whitespace_between(self, segments: np.ndarray, lengths: np.ndarray, leaf_starts: np.ndarray) -> bool:
        """Every text that is not a leaf's is only spaces, tabs and line feeds."""
        outside = np.ones(len(lengths), dtype=bool)
        outside[leaf_starts + 1] = False
        chosen = np.flatnonzero(outside & (lengths > 0))
        sizes = lengths[chosen]
        if not len(sizes):
            return True
        before = np.cumsum(sizes) - sizes
        positions = np.arange(int(sizes.sum())) + np.repeat(segments[2 * chosen] - before, sizes)
        return _all_whitespace(self.whole[positions])

    def _facets(self, texts: pa.Array, codes: np.ndarray, leaf_starts: np.ndarray, lengths: np.ndarray) -> bool:
        """`maxLength` in characters, counted only where a text has more bytes than the limit."""
        if all(limit is None for limit in self.found.max_chars):
            return True
        limits = np.array([np.iinfo(np.int64).max, np.iinfo(np.int64).max]
                          + [limit if limit is not None else np.iinfo(np.int64).max
                             for limit in self.found.max_chars for _ in (0, 1)], dtype=np.int64)
        limit = limits[codes[leaf_starts]]
        over = np.flatnonzero(lengths[leaf_starts + 1] > limit)
        if not len(over):
            return True
        counted = pc.utf8_length(texts.take(pa.array(2 * (leaf_starts[over] + 1)))).to_numpy()
        return bool((counted <= limit[over]).all())

    def _columns(self, texts: pa.Array, codes: np.ndarray, fields: Sequence[tuple[str, str]]) -> _BlockColumns:
        """Each mapped leaf's texts in record order; an absent optional leaf reads "" (as xml2arrow's null)."""
        starts = codes == 0
        records = int(np.count_nonzero(starts))
        record_of: np.ndarray | None = None
        empty = len(texts) - 1
        columns = {}
        for name, leaf in fields:
            position = self.found.leaves.index(leaf)
            tags = np.flatnonzero(codes == 2 + 2 * position)
            wanted = 2 * (tags + 1)
            if len(tags) != records:
                record_of = np.cumsum(starts) - 1 if record_of is None else record_of
                scattered = np.full(records, empty, dtype=np.int64)
                scattered[record_of[tags]] = wanted
                wanted = scattered
            columns[name] = texts.take(pa.array(wanted))
        return _BlockColumns(records, columns)


def _all_whitespace(values: np.ndarray) -> bool:
    return bool(np.count_nonzero((values == 32) | (values == 10) | (values == 9)) == len(values))


@cache
def _transitions(found: Grammar) -> np.ndarray:
    return found.transitions()
