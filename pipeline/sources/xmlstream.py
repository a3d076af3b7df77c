"""Streaming, hardened reading of the untrusted XML extracts (PMLP, VID, VSAA, SOPA).

Memory stays flat whatever the file size: each record element is handed out and then cleared. The parser never
loads a DTD, resolves an entity or touches the network, and any DOCTYPE is rejected outright, so XXE and entity
expansion bombs cannot work. Structure is validated against the project's XSD while streaming.

lxml's streaming validation has two blind spots this module closes: a truncated document raises nothing once a
schema is attached, and schema errors carry line 0. So the reader insists on seeing the root element close, and
reports a schema error at the last record it read.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

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


@dataclass
class XmlRecord:
    """One record element with its position, valid only until the iterator moves on."""

    number: int
    line: int
    element: etree._Element

    def child_texts(self) -> dict[str, str]:
        """Child local names -> text (empty string for an empty element); the last one wins if repeated."""
        return {etree.QName(child).localname: (child.text or "") for child in self.element}


def root_attributes(path: Path, layout: XmlLayout) -> dict[str, str]:
    """The root element's attributes (e.g. `extractDate`), read without parsing the whole file."""
    for _, element in _iterparse(path, layout, events=("start",), tag=None):
        return dict(element.attrib)
    return {}


def iter_records(path: Path, layout: XmlLayout) -> Iterator[XmlRecord]:
    """Yield each record of an extract; raise SourceError naming file, line and reason for a whole-file problem."""
    record_tag = layout.qualified(layout.record)
    root_tag = layout.qualified(layout.root)
    _reject_doctype_in_prolog(path)
    number = 0
    last_line = 1
    root_closed = False
    checked_prolog = False
    parser = _iterparse(path, layout, events=("end",), tag=(record_tag, root_tag))
    try:
        for _, element in parser:
            if not checked_prolog:
                _reject_doctype(element, path)
                checked_prolog = True
            if element.tag == root_tag:
                root_closed = True
                continue
            number += 1
            last_line = element.sourceline or last_line
            yield XmlRecord(number=number, line=last_line, element=element)
            element.clear(keep_tail=False)
            while element.getprevious() is not None:
                del element.getparent()[0]
    except etree.XMLSyntaxError as exc:
        if exc.lineno:
            raise SourceError(_describe(exc), file=path, line=exc.lineno) from None
        record, line, message = _locate_schema_error(path, layout)
        raise SourceError(_describe(message or exc), file=path, line=line, record=record) from None
    except OSError as exc:
        raise SourceError(f"cannot read file: {exc.strerror or exc}", file=path) from None
    if not checked_prolog and (parser.root is None or parser.root.tag != root_tag):
        found = parser.root.tag if parser.root is not None else "nothing"
        raise SourceError(f"root element is {found}, expected {root_tag}", file=path, line=1)
    if not root_closed:
        raise SourceError(
            f"premature end of data: root element {layout.root} never closed (truncated file?)",
            file=path,
            line=last_line,
        )


def _iterparse(path: Path, layout: XmlLayout, *, events: tuple[str, ...], tag: object) -> etree.iterparse:
    return etree.iterparse(
        str(path),
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
