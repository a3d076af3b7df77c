"""What every reader of the untrusted XML extracts (PMLP, VID, VSAA, SOPA) shares around the one engine
(`pipeline.sources.xmlcolumns`): an extract's layout; the checks made on its bytes, whatever a parser says (no
DOCTYPE in the prolog, so no DTD, entity or external subset reaches a parser; the root's end tag really at the
end, since a parser may close a cut file silently); the plan that splits a large extract into record-aligned
chunks; and the two exact locators lxml still serves, neither of them a way to read records: the record, line and
reason of a file's first XSD error, and the lines of start tags where the byte scan cannot give them.
"""

from __future__ import annotations

import copy
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
from lxml import etree

from pipeline.errors import SourceError
from pipeline.schemas import load_schema

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


_ROOT_START = re.compile(rb"<[A-Za-z_]")
_TAIL_BYTES = 64 << 10


def truncated(path: Path, layout: XmlLayout, line: int) -> SourceError:
    return SourceError(f"premature end of data: root element {layout.root} never closed (truncated file?)",
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
        raise truncated(path, layout, line)


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


def _iterparse(source: str | io.RawIOBase | BinaryIO, **options: Any) -> etree.iterparse:
    """lxml as the locators open it: no DTD loaded, no entity resolved, no network, libxml2's size limits."""
    return etree.iterparse(source, resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                           **options)


def _locate_schema_error(path: Path, layout: XmlLayout) -> tuple[int | None, int, str | None]:
    """Find the first record that breaks the schema, exactly (libxml2's streaming validation reports no line).

    Runs only after a failure: walks the file again without the schema, validating each record on its own
    inside a copy of the root element.
    """
    schema = load_schema(layout.schema_file)
    root_copy: etree._Element | None = None
    number = 0
    try:
        for event, element in _iterparse(str(path), events=("start", "end")):
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


def located_lines(path: Path, layout: XmlLayout, element: str, chunk: Chunk | None) -> np.ndarray:
    """The line of every `element` start tag in the file (or chunk), in order, as libxml2 numbers it: the exact
    locator for a body the byte scan (`xmlcolumns.start_tag_lines`) cannot read, one with a comment, a CDATA
    section or a processing instruction. Memory stays flat (each record is dropped once passed); a parse error
    ends the list quietly, since the engine reports the file's problem."""
    wanted, record = layout.qualified(element), layout.qualified(layout.record)
    shift = chunk.line_shift if chunk else 0
    lines: list[int] = []
    with ChunkStream(path, chunk) if chunk else path.open("rb") as source:
        try:
            for _, node in _iterparse(source, events=("end",), tag=(wanted, record)):
                if node.tag == wanted:
                    lines.append((node.sourceline or 1) + shift)
                if node.tag == record:
                    node.clear(keep_tail=False)
                    while node.getprevious() is not None:
                        del node.getparent()[0]
        except etree.XMLSyntaxError:
            pass
    return np.array(lines, dtype=np.int64)


def _describe(message: str) -> str:
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
