"""Streaming, hardened reading of the untrusted XML extracts (PMLP, VID, VSAA, SOPA).

Memory stays flat whatever the file size: each record element is handed out and then cleared. The parser never
loads a DTD, resolves an entity or touches the network, and any DOCTYPE is rejected outright, so XXE and entity
expansion bombs cannot work. Structure is validated against the project's XSD while streaming.

lxml's streaming validation has two blind spots this module closes: a truncated document raises nothing once a
schema is attached (and lxml 6.2 even closes the root itself), and schema errors carry line 0. So the reader does
not take the parser's word for the end: `require_document_end` checks the file's own last bytes for the root's end
tag, and a schema error is reported at the last record read.
"""

from __future__ import annotations

import copy
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

from pipeline.errors import SourceError
from pipeline.schemas import load_schema
from pipeline.sources.stablemap import identity, require_same

# libxml2 quotes offending values in facet errors; a value may be a personal code, so it is withheld.
_VALUE_QUOTE = re.compile(r"value '[^']*'")


@dataclass(frozen=True)
class XmlLayout:
    """Where the records are in one extract: its namespace, root and record element, and its XSD."""

    namespace: str
    root: str
    record: str
    schema_file: str

    def qualified(self, local: str) -> str:
        return f"{{{self.namespace}}}{local}"


@dataclass
class XmlRecord:
    """One record element with its position, valid only until the iterator moves on."""

    number: int
    line: int
    element: etree._Element

    def child_texts(self) -> dict[str, str]:
        """Child local names -> text (empty string for an empty element); the last one wins if repeated."""
        return {etree.QName(child).localname: (child.text or "") for child in self.element}


def iter_records(path: Path, layout: XmlLayout, chunk: Chunk | None = None,
                 digest: Any | None = None) -> Iterator[XmlRecord]:
    """Yield each record of an extract (or of one chunk of it); raise SourceError naming file, line and reason
    for a whole-file problem. Record numbers and lines are always those of the whole file. A `digest`
    (hashlib object) is fed every byte of a whole-file parse, so the file's sha256 costs no second read."""
    record_tag = layout.qualified(layout.record)
    root_tag = layout.qualified(layout.root)
    _reject_doctype_in_prolog(path)  # (a file that cannot be read is reported here, in one line)
    before = identity(path)  # the records and the tail are read apart: both of one version, or refused
    number = chunk.records_before if chunk else 0
    line_shift = chunk.line_shift if chunk else 0
    last_line = 1
    root_closed = False
    checked_prolog = False
    source: Path | io.RawIOBase = path
    if chunk:
        source = ChunkStream(path, chunk)
    elif digest is not None:
        source = HashingReader(path, digest)
    parser = _iterparse(source, layout, events=("end",), tag=(record_tag, root_tag))
    try:
        for _, element in parser:
            if not checked_prolog:
                _reject_doctype(element, path)
                checked_prolog = True
            if element.tag == root_tag:
                root_closed = True
                continue
            number += 1
            last_line = (element.sourceline or last_line) + line_shift
            yield XmlRecord(number=number, line=last_line, element=element)
            element.clear(keep_tail=False)
            while element.getprevious() is not None:
                del element.getparent()[0]
    except etree.XMLSyntaxError as exc:
        require_same(path, before)
        if exc.lineno:
            raise SourceError(_describe(exc), file=path, line=exc.lineno + line_shift) from None
        record, line, message = _locate_schema_error(path, layout)
        raise SourceError(_describe(message or exc), file=path, line=line, record=record) from None
    except OSError as exc:
        raise SourceError(f"cannot read file: {exc.strerror or exc}", file=path) from None
    require_same(path, before)
    if not checked_prolog and (parser.root is None or parser.root.tag != root_tag):
        found = parser.root.tag if parser.root is not None else "nothing"
        raise SourceError(f"root element is {found}, expected {root_tag}", file=path, line=1)
    if not root_closed:
        raise_truncated(path, layout, last_line)
    if not chunk:  # a chunk is judged inside its wrapper; the planner only splits a file that ends properly
        require_document_end(path, layout, last_line)
    if chunk and number - chunk.records_before != chunk.records:
        raise ChunkMismatch(f"{path}: chunk at byte {chunk.start} held {number - chunk.records_before} records, "
                            f"the byte scan counted {chunk.records}")


def _iterparse(source: Path | io.RawIOBase, layout: XmlLayout, *, events: tuple[str, ...],
               tag: object) -> etree.iterparse:
    return etree.iterparse(
        str(source) if isinstance(source, Path) else source,
        events=events,
        tag=tag,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        schema=load_schema(layout.schema_file),
    )


_ROOT_START = re.compile(rb"<[A-Za-z_]")
_TAIL_BYTES = 64 << 10


def raise_truncated(path: Path, layout: XmlLayout, line: int) -> None:
    raise SourceError(f"premature end of data: root element {layout.root} never closed (truncated file?)",
                      file=path, line=line)


def require_document_end(path: Path, layout: XmlLayout, line: int) -> None:
    """Refuse a file whose last markup is not the root element's end tag.

    Why the reader checks the bytes itself: whether a parser reports a cut-off document depends on its version
    (lxml 6.2's `iterparse` with a schema yields the cut record and closes the root silently), and a truncated
    extract must never pass as a shorter, valid month. Reads only the file's tail."""
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, io.SEEK_END)
            handle.seek(max(0, size - _TAIL_BYTES))
            tail = handle.read()
    except OSError as exc:
        raise SourceError(f"cannot read file: {exc.strerror or exc}", file=path) from None
    tail = tail[: _end_of_markup(tail)]
    end_tag = re.compile(rb"</(?:[A-Za-z_][\w.-]*:)?" + re.escape(layout.root.encode()) + rb"\s*>")
    if not end_tag.fullmatch(tail, tail.rfind(b"</") if b"</" in tail else len(tail)):
        raise_truncated(path, layout, line)


def _end_of_markup(tail: bytes) -> int:
    """Where the tail's last markup ends once what XML allows after the root element (whitespace, comments,
    processing instructions) is set aside; plain searches from the end, linear whatever a provider puts there."""
    end = len(tail)
    while True:
        while end and tail[end - 1] in b" \t\r\n":
            end -= 1
        opener = b"<!--" if tail.endswith(b"-->", 0, end) else b"<?" if tail.endswith(b"?>", 0, end) else None
        start = tail.rfind(opener, 0, end) if opener else -1
        if start < 0:
            return end
        end = start


def _reject_doctype_in_prolog(path: Path) -> None:
    """Refuse any document type declaration before parsing starts: the contracts need none, and DTDs are how
    external entities and expansion bombs get in. Only the prolog (before the root element) can hold one."""
    try:
        with path.open("rb") as handle:
            head = handle.read(1 << 20)
    except OSError as exc:
        raise SourceError(f"cannot read file: {exc.strerror or exc}", file=path) from None
    match = _ROOT_START.search(head)
    prolog = head[: match.start()] if match else head
    if b"<!DOCTYPE" in prolog or b"<!ENTITY" in prolog:
        raise SourceError("DOCTYPE declarations are not allowed in EIKIS extracts", file=path, line=1)


def _reject_doctype(element: etree._Element, path: Path) -> None:
    """Second line of defence (e.g. a prolog in an encoding the byte scan cannot read)."""
    docinfo = element.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise SourceError("DOCTYPE declarations are not allowed in EIKIS extracts", file=path, line=1)


def _locate_schema_error(path: Path, layout: XmlLayout) -> tuple[int | None, int, str | None]:
    """Find the first record that breaks the schema, exactly (libxml2's streaming validation reports no line).

    Runs only after a failure: walks the file again without the schema, validating each record on its own
    inside a copy of the root element.
    """
    schema = load_schema(layout.schema_file)
    root_copy: etree._Element | None = None
    number = 0
    walker = etree.iterparse(str(path), events=("start", "end"), resolve_entities=False, no_network=True,
                             load_dtd=False, huge_tree=False)
    try:
        for event, element in walker:
            if event == "start":
                if root_copy is None:
                    root_copy = etree.Element(element.tag, dict(element.attrib), nsmap=element.nsmap)
                    if not schema.validate(root_copy):
                        return None, element.sourceline or 1, schema.error_log.last_error.message
                continue
            if element.tag != layout.qualified(layout.record):
                continue
            number += 1
            probe = copy.copy(root_copy)
            probe.append(copy.deepcopy(element))
            if not schema.validate(probe):
                return number, element.sourceline or 1, schema.error_log.last_error.message
            element.clear(keep_tail=False)
    except etree.XMLSyntaxError as exc:
        return number + 1, exc.lineno or 1, str(exc)
    return None, 1, None


def _describe(exc: etree.XMLSyntaxError | str) -> str:
    message = exc if isinstance(exc, str) else str(exc.msg if getattr(exc, "msg", None) else exc)
    if "(<string>" in message or "(file:" in message:
        message = message.split(" (")[0]
    message = _VALUE_QUOTE.sub("value <withheld>", message)
    kind = "XSD violation" if "Element '" in message or "attribute" in message.lower() else "malformed XML"
    return f"{kind}: {message}"


# ---------------------------------------------------------------- splitting one large extract
class ChunkMismatch(Exception):
    """A chunk held a different number of records than the byte scan expected (e.g. a record tag inside a
    comment); the caller parses the file whole instead."""


@dataclass(frozen=True)
class Chunk:
    """A byte range of one extract holding whole records. It is parsed on its own, inside the file's own prolog
    and root start tag (so the XSD still applies), and its numbers are shifted to the whole file's."""

    start: int
    end: int
    header_end: int        # the prolog and root start tag are bytes [0, header_end)
    root_name: bytes       # the root tag as written (maybe prefixed), to close the wrapper
    records_before: int
    records: int
    line_shift: int        # add to a line inside the wrapper to get the line in the file


class HashingReader(io.RawIOBase):
    """A file read through a hash: the parser's reads feed the digest."""

    def __init__(self, path: Path, digest: Any) -> None:
        self.handle = path.open("rb")
        self.digest = digest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        count = self.handle.readinto(buffer)
        if count:
            self.digest.update(memoryview(buffer)[:count])
        return count or 0

    def close(self) -> None:
        self.handle.close()
        super().close()


class ChunkStream(io.RawIOBase):
    """The bytes of a chunk, wrapped: header + file[start:end] + closing root tag."""

    def __init__(self, path: Path, chunk: Chunk) -> None:
        self.handle = path.open("rb")
        self.pieces = [("file", 0, chunk.header_end), ("file", chunk.start, chunk.end),
                       ("bytes", b"</" + chunk.root_name + b">\n", 0)]
        self.index, self.offset = 0, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        while self.index < len(self.pieces):
            kind, first, second = self.pieces[self.index]
            if kind == "bytes":
                data = first[self.offset:self.offset + len(buffer)]
            else:
                remaining = second - first - self.offset
                self.handle.seek(first + self.offset)
                data = self.handle.read(min(len(buffer), remaining)) if remaining > 0 else b""
            if data:
                buffer[: len(data)] = data
                self.offset += len(data)
                return len(data)
            self.index, self.offset = self.index + 1, 0
        return 0

    def close(self) -> None:
        self.handle.close()
        super().close()


_SCAN_BLOCK = 8 << 20


def plan_chunks(path: Path, layout: XmlLayout, count: int) -> list[Chunk] | None:
    """Split an extract into about `count` chunks at record start tags; None when it should be parsed whole
    (small, unusual layout, or not cleanly closed, so that the whole-file parse reports the problem)."""
    size = path.stat().st_size
    if count <= 1:
        return None
    record = layout.record.encode()
    with path.open("rb") as handle:
        head = handle.read(1 << 20)
        first = re.search(rb"<" + record + rb"[\s>]", head)
        handle.seek(max(0, size - 65536))
        tail_start = max(0, size - 65536)
        tail = handle.read()
    roots = list(re.finditer(rb"<([A-Za-z_][\w.:-]*)[\s>]", head[: first.start()])) if first else []
    closing = tail.rfind(b"</")
    if not first or not roots or closing < 0:
        return None
    root_name = roots[-1].group(1)
    if not tail[closing:].startswith(b"</" + root_name) or tail[closing:].split(b">", 1)[-1].strip():
        return None
    body_start, body_end = first.start(), tail_start + closing
    bounds = [body_start]
    with path.open("rb") as handle:
        for k in range(1, count):
            target = body_start + (body_end - body_start) * k // count
            handle.seek(target)
            window = handle.read(4 << 20)
            found = re.search(rb"<" + record + rb"[\s>]", window)
            if found and target + found.start() > bounds[-1] and target + found.start() < body_end:
                bounds.append(target + found.start())
    bounds.append(body_end)
    if len(bounds) < 3:
        return None
    lines, records = _scan(path, bounds, record)
    header_lines = head[:body_start].count(b"\n")
    chunks, records_before = [], 0
    for index in range(len(bounds) - 1):
        chunks.append(Chunk(start=bounds[index], end=bounds[index + 1], header_end=body_start, root_name=root_name,
                            records_before=records_before, records=records[index],
                            line_shift=lines[index] - header_lines))
        records_before += records[index]
    return chunks


def _scan(path: Path, bounds: list[int], record: bytes) -> tuple[list[int], list[int]]:
    """Newlines before each boundary, and record start tags between boundaries, in one sequential read."""
    tags = (b"<" + record + b">", b"<" + record + b" ", b"<" + record + b"\n", b"<" + record + b"\t")
    lines_before, counts = [], []
    newlines = 0
    with path.open("rb") as handle:
        handle.seek(0)
        newlines = handle.read(bounds[0]).count(b"\n")
        for start, end in zip(bounds, bounds[1:], strict=False):
            lines_before.append(newlines)
            handle.seek(start)
            remaining, found, carry = end - start, 0, b""
            while remaining > 0:
                block = handle.read(min(_SCAN_BLOCK, remaining))
                remaining -= len(block)
                joined = carry + block
                found += sum(joined.count(tag) for tag in tags)
                newlines += block.count(b"\n")
                carry = joined[-(len(record) + 1):]
                found -= sum(carry.count(tag) for tag in tags)
            found += sum(carry.count(tag) for tag in tags)
            counts.append(found)
    return lines_before, counts
