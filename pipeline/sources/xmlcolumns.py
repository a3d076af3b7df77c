"""The one reader of the untrusted XML extracts (VID, VSAA, PMLP, SOPA): `read_columns`, records straight into Arrow.

Every file goes one way. A file in the producers' canonical shape is proven valid and read by the compiled walk
(`pipeline.sources.xmlcanon`, sealed behind this interface: it answers "valid, here are the columns" or "cannot
prove", never an error). Any other file, and every file the walk declines, is read by the one exact engine, two
compiled readers sharing the work, each on its own core:

- `xml2arrow` (Rust quick-xml, MIT) extracts the mapped child texts into Arrow string columns in batches;
- libxml2 (`pipeline.sources.xsdstream`) validates the same bytes against the XSD without building a tree.

xml2arrow alone would be unsafe: it ignores unknown elements and namespaces, accepts a file cut after a whole
record, and accepts content after the root. So the XSD verdict decides: the batches a caller has consumed are
only good if iteration ends without an error, and a failure names the file, line and record of the first problem
(found by the exact lxml locator of `xmlstream`, which runs only then). A DOCTYPE is refused before either parser
opens the file; neither resolves an entity (xml2arrow knows only the five predefined ones and raises on any other)
or touches the network. Both parts are required: without xml2arrow, importing this module stops with
`EngineMissing` (and `xsdstream` does the same without libxml2's streaming API), so a run never starts on a
slower or different reader.
"""

from __future__ import annotations

import mmap
import re
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.errors import SourceError
from pipeline.logs import get_logger
from pipeline.sources import xmlcanon, xsdstream
from pipeline.sources.stablemap import FileChanged, identity, require_same, stable_map
from pipeline.sources.xmlstream import (
    Chunk,
    ChunkMismatch,
    ChunkStream,
    XmlLayout,
    _describe,
    _locate_schema_error,
    _reject_doctype_in_prolog,
    located_lines,
    require_document_end,
    truncated,
)

try:
    from xml2arrow import XmlToArrowParser
except ImportError:  # the one exact engine has no slower stand-in: stop at start-up, in one line
    raise xsdstream.EngineMissing("xml2arrow is not importable: install the pinned requirements "
                                  "(pip install -r requirements.lock)") from None

log = get_logger("sources")


@dataclass(frozen=True)
class ColumnMap:
    """Which texts of a record become which columns: (column, path below the record element), where the path is
    a child (`PersonCode`), an attribute (`@period`) or a grandchild (`Month/@period`). Fields not listed (names,
    for instance) are read past and never leave the parser."""

    layout: XmlLayout
    fields: tuple[tuple[str, str], ...]
    row_per_child: bool = False
    """For records that repeat a child (VSAA's `Month`): every mapped child of a record becomes its own row (a
    row holds only that child's fields), in document order, with the columns `<record>` (the record's index in
    this read) and `<child>` (the row's index within its record). Unmapped children (names) make no row, so
    every record needs a required mapped child (VSAA's `PersonCode`) for the records to be counted."""

    def yaml(self) -> str:
        base = f"/{self.layout.root}/{self.layout.record}"
        lines = ["parser_options:", "  trim_text: false", "tables:", "  - name: records",
                 f"    xml_path: /{self.layout.root}", "    levels: []", "    fields:"]
        if self.row_per_child:  # the root's table only numbers the records; the record's table makes the rows
            lines[-2:] = ["    levels: [record]", "    fields: []", "  - name: rows", f"    xml_path: {base}",
                          "    levels: [record, child]", "    fields:"]
        for column, path in self.fields:
            lines.append(f"      - {{name: {column}, xml_path: {base}/{path}, data_type: Utf8, nullable: true}}")
        return "\n".join(lines) + "\n"


@cache
def _parser(columns: ColumnMap) -> Any:
    with tempfile.TemporaryDirectory(prefix="eikis-x2a-") as folder:
        config = Path(folder) / "map.yaml"
        config.write_text(columns.yaml(), encoding="utf-8")
        return XmlToArrowParser(str(config))


@dataclass
class ColumnBatch:
    """Consecutive records as Arrow string columns (a missing or empty element is ""), numbered as in the file."""

    columns: dict[str, pa.Array]
    first: int  # the whole-file number of the first record in this batch (of record index 0: `row_per_child`)
    reader: str = "xml2arrow"  # or "canon": proven canonical by `xmlcanon`, no parser ran
    lines: np.ndarray | None = None  # with `lines=True`: the line of each row's start tag

    @property
    def rows(self) -> int:
        return len(next(iter(self.columns.values())))


def read_columns(path: Path, columns: ColumnMap, chunk: Chunk | None = None, digest: Any | None = None,
                 batch_rows: int = 100_000, lines: bool = False) -> Iterator[ColumnBatch]:
    """Yield the records of an extract (or of one chunk of it) in batches; raise SourceError naming the file,
    line and reason for a whole-file problem, at the latest when the last batch has been taken. A `digest` is fed
    every byte of a whole-file read. With `lines`, every batch holds the line of each row's start tag: the
    record's, or with rows per child the child's (VSAA: its PersonCode's or its Month's).

    A file in the producers' canonical shape is proven valid and read by `xmlcanon` before anything is yielded
    (batches say `reader="canon"`, their lines counted by the same walk); any other file takes the exact engine,
    libxml2 and xml2arrow together, its lines found (`row_lines_of`) before it is parsed."""
    _reject_doctype_in_prolog(path)  # also turns an unreadable file into a SourceError before anything else
    proof = xmlcanon.prove(path, columns.layout, columns.fields, chunk, None if chunk else digest, lines,
                           columns.row_per_child)
    if proof is None:
        yield from _parsed_columns(path, columns, chunk, digest, batch_rows, lines)
        return
    log.debug("%s: canonical, proven without a parser", path)
    if chunk and proof.records != chunk.records:
        raise ChunkMismatch(f"{path}: chunk at byte {chunk.start} held {proof.records} records, "
                            f"the byte scan counted {chunk.records}")
    first = chunk.records_before + 1 if chunk else 1
    for offset in range(0, proof.rows, batch_rows):
        yield ColumnBatch({name: array.slice(offset, batch_rows) for name, array in proof.columns.items()},
                          first if columns.row_per_child else first + offset, reader="canon",
                          lines=None if proof.lines is None else proof.lines[offset:offset + batch_rows])


def _parsed_columns(path: Path, columns: ColumnMap, chunk: Chunk | None, digest: Any | None,
                    batch_rows: int, lines: bool = False) -> Iterator[ColumnBatch]:
    """The exact engine: xml2arrow extracts while libxml2 validates on a thread, and the XSD verdict decides."""
    log.debug("%s: libxml2 + xml2arrow", path)
    layout = columns.layout
    before = identity(path)  # both read the file: values validated by one must be the ones the other copied
    row_lines = row_lines_of(path, columns, chunk) if lines else None
    verdict: dict[str, Any] = {}
    checker = threading.Thread(target=_validate, args=(path, layout, chunk, digest, verdict), daemon=True)
    checker.start()
    number = chunk.records_before if chunk else 0
    rows = 0
    source = ChunkStream(path, chunk) if chunk else path
    try:
        for _name, batch in _parser(columns).parse_batches(source, max_rows_per_batch=batch_rows):
            arrays = {name: pc.fill_null(batch.column(name), "") for name, _ in columns.fields}
            found = None if row_lines is None else row_lines[rows:rows + batch.num_rows]
            rows += batch.num_rows
            if found is not None and len(found) < batch.num_rows:
                raise _LinesDisagree  # judged below, once the XSD verdict is in
            if columns.row_per_child:  # records counted up to the last one with a row
                arrays.update({level: batch.column(level) for level in ("<record>", "<child>")})
                first = (chunk.records_before if chunk else 0) + 1
                yield ColumnBatch(arrays, first, lines=found)
                number = first + arrays["<record>"][-1].as_py() if batch.num_rows else number
                continue
            yield ColumnBatch(arrays, number + 1, lines=found)
            number += batch.num_rows
    except Exception as exc:  # xml2arrow's own errors; the XSD verdict names the problem better
        checker.join()
        require_same(path, before)
        _raise_if_invalid(path, layout, chunk, verdict)
        if isinstance(exc, _LinesDisagree):
            raise _lines_disagree(path, row_lines, rows) from None
        if isinstance(exc, OSError):
            raise SourceError(f"cannot read file: {exc.strerror or exc}", file=path) from None
        raise SourceError(f"malformed XML: the extractor stopped ({type(exc).__name__})", file=path) from None
    finally:
        checker.join()
        if isinstance(source, ChunkStream):
            source.close()
    require_same(path, before)
    _raise_if_invalid(path, layout, chunk, verdict)
    if not chunk:  # a chunk is judged inside its wrapper; the planner only splits a file that ends properly
        require_document_end(path, layout, number)
    if chunk and number - chunk.records_before != chunk.records:
        raise ChunkMismatch(f"{path}: chunk at byte {chunk.start} held {number - chunk.records_before} records, "
                            f"the byte scan counted {chunk.records}")
    if row_lines is not None and rows != len(row_lines):
        raise _lines_disagree(path, row_lines, rows)


class _LinesDisagree(Exception):
    pass


def _lines_disagree(path: Path, row_lines: np.ndarray | None, rows: int) -> SourceError:
    """A valid file whose start tags, as scanned, are not the rows read: never staged with lines of other rows."""
    tags = 0 if row_lines is None else len(row_lines)
    return SourceError(f"{rows} rows read but {tags} start tags found for them: the lines cannot be told; "
                       "report this file to the EIKIS maintainers", file=path)


def _validate(path: Path, layout: XmlLayout, chunk: Chunk | None, digest: Any | None,
              verdict: dict[str, Any]) -> None:
    try:
        if chunk:
            with ChunkStream(path, chunk) as stream:
                verdict["outcome"] = xsdstream.validate_stream(stream, layout.schema_file)
        else:
            verdict["outcome"] = xsdstream.validate_file(path, layout.schema_file, digest)
    except FileChanged as exc:
        verdict["changed"] = exc
    except (OSError, ValueError) as exc:
        verdict["outcome"] = xsdstream.XsdOutcome(False, well_formed=False,
                                                  read_error=getattr(exc, "strerror", None) or str(exc))


def _raise_if_invalid(path: Path, layout: XmlLayout, chunk: Chunk | None, verdict: dict[str, Any]) -> None:
    """Report a failed validation exactly: a truncated file at its last line; anything else at the record and
    line the (slow, only-on-failure) lxml locator finds."""
    if "changed" in verdict:  # whatever the parsers made of it: the file is not the one validated
        raise verdict["changed"]
    outcome: xsdstream.XsdOutcome | None = verdict.get("outcome")
    if outcome is None:
        raise SourceError("XSD validation did not finish", file=path)
    if outcome.valid:
        return
    if outcome.read_error:
        raise SourceError(f"cannot read file: {outcome.read_error}", file=path)
    shift = chunk.line_shift if chunk else 0
    line = (outcome.line or 1) + shift
    if outcome.message and outcome.message.startswith("Premature end of data") and not chunk:
        raise truncated(path, layout, line)
    record, located_line, message = _locate_schema_error(path, layout)
    if message is None:  # only visible inside the chunk's wrapper: report libxml2's own finding
        raise SourceError(_describe(outcome.message or "invalid"), file=path, line=line)
    raise SourceError(_describe(message), file=path, line=located_line, record=record)


# ---------------------------------------------------------------- lines
_SCAN_BLOCK = 16 << 20
_UNSCANNABLE = (b"<!--", b"<![CDATA[", b"<?")


def fill_lines(rows: list[dict[str, Any]], path: Path, layout: XmlLayout, chunk: Chunk | None) -> None:
    """Set the `line` of quarantine rows (records of this file or chunk) to the line of their record's start tag.
    Done once per file, after reading, and only if some record was quarantined."""
    if not rows:
        return
    first = chunk.records_before + 1 if chunk else 1
    lines = record_lines(path, layout, chunk)
    for row in rows:
        row["line"] = int(lines[row["record"] - first])


def record_lines(path: Path, layout: XmlLayout, chunk: Chunk | None) -> np.ndarray:
    """The line of every record start tag in the file (or chunk), in order."""
    return element_lines(path, layout, layout.record, chunk)


def row_lines_of(path: Path, columns: ColumnMap, chunk: Chunk | None) -> np.ndarray:
    """The line of each row's start tag, in order: the records', or with rows per child the mapped children's
    (their lines merge in order: document order never goes back a line)."""
    if not columns.row_per_child:
        return record_lines(path, columns.layout, chunk)
    children = dict.fromkeys(field.split("/")[0] for _, field in columns.fields)
    return np.sort(np.concatenate([element_lines(path, columns.layout, child, chunk) for child in children]),
                   kind="stable")


def element_lines(path: Path, layout: XmlLayout, element: str, chunk: Chunk | None) -> np.ndarray:
    """The line of every `element` start tag in the file (or chunk): scanned from the bytes where that is exact
    (`start_tag_lines`), else found by the exact lxml locator."""
    lines = start_tag_lines(path, element, chunk)
    return located_lines(path, layout, element, chunk) if lines is None else lines


def start_tag_lines(path: Path, element: str, chunk: Chunk | None) -> np.ndarray | None:
    """The line of every `element` start tag in the file (or chunk), in order; None where the scan could be wrong.

    Outside comments, CDATA sections and processing instructions a `<` always starts markup, so in a body with
    none of those (checked first, in C) every `<[prefix:]element` followed by a space, `>` or `/` is a start tag
    of that element in an XSD-valid file. A body with any of them gets None. The line is the one libxml2 (so
    lxml) gives the element: where its start tag ends, which differs only for a tag broken over lines."""
    if path.stat().st_size == 0:
        return np.zeros(0, dtype=np.int64)  # nothing to map; the parsers report the empty file
    name = re.escape(element.encode())
    pattern = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?" + name + rb"[\s>/]")
    with stable_map(path) as stable:
        data = stable.data
        start, end = (chunk.start, chunk.end) if chunk else (0, len(data))
        declaration = re.match(rb"(\xef\xbb\xbf)?<\?xml[^>]*\?>", data[:4096])
        checked_from = max(start, declaration.end() if declaration else 0)
        if any(data.find(marker, checked_from, end) >= 0 for marker in _UNSCANNABLE):
            return None
        base = 1 + (chunk.line_shift + data[: chunk.header_end].count(b"\n") if chunk else 0)
        if data.find(b":" + element.encode(), start, end) >= 0:  # maybe a prefixed tag: the regex finds it
            starts = np.fromiter((m.start() for m in pattern.finditer(data, start, end)), dtype=np.int64)
            next_markup = np.array([_find(data, b"<", at + 1, end) for at in starts], dtype=np.int64)
        else:
            starts, next_markup = _unprefixed_start_tags(data, start, end, b"<" + element.encode())
        newlines = [np.flatnonzero(np.frombuffer(data, np.uint8, min(_SCAN_BLOCK, end - offset), offset) == 10)
                    + offset for offset in range(start, end, _SCAN_BLOCK)]
        breaks = np.concatenate(newlines) if newlines else np.zeros(0, dtype=np.int64)
        following = np.searchsorted(breaks, starts)
        next_break = np.append(breaks, end)[following]
        tag_ends = starts.copy()  # a tag's end is before the next `<`: only a newline before that can matter
        for index in np.flatnonzero(next_break < next_markup):
            tag = _START_TAG.match(data, int(starts[index]), int(next_markup[index]))
            tag_ends[index] = tag.end() - 1 if tag else starts[index]
        stable.require_unchanged()
    return base + np.searchsorted(breaks, tag_ends)


_START_TAG = re.compile(rb"<[^\s/>]+(?:\s+[^\s=/>]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*\s*/?>")
_TAG_NAME_ENDS = np.frombuffer(b" \t\n\r\x0b\x0c>/", np.uint8)  # what `[\s>/]` matches in a bytes pattern


def _find(data: mmap.mmap, needle: bytes, start: int, end: int) -> int:
    found = data.find(needle, start, end)
    return end if found < 0 else found


def _unprefixed_start_tags(data: mmap.mmap, start: int, end: int, tag: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Offsets in [start, end) of `tag` (`<Month`) followed by whitespace, `>` or `/` (the regex of
    `start_tag_lines` where no prefixed tag exists), and of the next `<` after each, found with numpy a block at
    a time: the regex hands every match to Python, one call each for millions of VSAA Months."""
    found, following = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)]
    for offset in range(start, end, _SCAN_BLOCK):
        stop = min(offset + _SCAN_BLOCK, end)
        block = np.frombuffer(data, np.uint8, min(stop + len(tag), end - 1) + 1 - offset, offset)
        markup = np.flatnonzero(block[: stop - offset] == tag[0])
        hits = np.flatnonzero(markup + len(tag) < len(block))
        for position, byte in enumerate(tag[1:], start=1):
            hits = hits[block[markup[hits] + position] == byte]
        hits = hits[np.isin(block[markup[hits] + len(tag)], _TAG_NAME_ENDS)]
        after = np.append(markup + offset, _find(data, tag[:1], stop, end))
        found.append(markup[hits] + offset)
        following.append(after[hits + 1])
    return np.concatenate(found), np.concatenate(following)
