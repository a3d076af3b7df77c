"""Columnar reading of the untrusted XML extracts: records straight into Arrow, structure checked in C alongside.

The lxml path (`pipeline.sources.xmlstream.iter_records`) hands every record to Python, one step per record
(millions in a national VID file). Here two compiled readers share the work, each on its own core:

- `xml2arrow` (Rust quick-xml, MIT) extracts the mapped child texts into Arrow string columns in batches;
- libxml2 (`pipeline.sources.xsdstream`) validates the same bytes against the XSD without building a tree.

xml2arrow alone would be unsafe: it ignores unknown elements and namespaces, accepts a file cut after a whole
record, and accepts content after the root. So the XSD verdict decides: the batches a caller has consumed are
only good if iteration ends without an error, and every failure is reported as the lxml path reports it (the
same exact, slower locator names the file, line and record of the first problem). A DOCTYPE is refused before
either parser opens the file; neither resolves an entity (xml2arrow knows only the five predefined ones and
raises on any other) or touches the network.
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
    iter_records,
    require_document_end,
)

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


def available() -> bool:
    """True where both compiled readers are installed; otherwise the sources use the lxml path."""
    try:
        # optional: without the wheel the sources use the lxml path
        import xml2arrow  # noqa: F401
    except ImportError:
        return False
    return xsdstream.available()


@cache
def _parser(columns: ColumnMap) -> Any:
    from xml2arrow import XmlToArrowParser  # optional (see `available`)

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
    lines: np.ndarray | None = None  # where the proof was asked for them: the line of each row's start tag

    @property
    def rows(self) -> int:
        return len(next(iter(self.columns.values())))


def read_columns(path: Path, columns: ColumnMap, chunk: Chunk | None = None, digest: Any | None = None,
                 batch_rows: int = 100_000) -> Iterator[ColumnBatch]:
    """Yield the records of an extract (or of one chunk of it) in batches; raise SourceError naming the file,
    line and reason for a whole-file problem, at the latest when the last batch has been taken. A `digest` is fed
    every byte of a whole-file read.

    A file in the producers' canonical shape is proven valid and read by `xmlcanon` before anything is yielded
    (batches say `reader="canon"`); any other file takes the exact path, libxml2 and xml2arrow together."""
    _reject_doctype_in_prolog(path)
    proof = _canonical(path, columns, chunk, None if chunk else digest)
    if proof is None:
        yield from _parsed_columns(path, columns, chunk, digest, batch_rows)
        return
    yield from _proven_batches(path, proof, chunk, batch_rows, columns.row_per_child)


def proven_columns(path: Path, columns: ColumnMap, chunk: Chunk | None = None, digest: Any | None = None,
                   batch_rows: int = 100_000) -> list[ColumnBatch] | None:
    """`read_columns`' batches of a file (or chunk) proven canonical by `xmlcanon`, each with the line of its rows
    (so a source needs no scan for them: VSAA's Months), or None: the caller takes the exact path
    (`parsed_columns`). Raises no error of its own but ChunkMismatch; a canonical file holds no DOCTYPE
    (`xmlcanon`'s head has no room for one). A `digest` is fed the whole file only when the proof holds."""
    proof = _canonical(path, columns, chunk, None if chunk else digest, lines=True)
    return None if proof is None else list(_proven_batches(path, proof, chunk, batch_rows, columns.row_per_child))


def parsed_columns(path: Path, columns: ColumnMap, chunk: Chunk | None = None, digest: Any | None = None,
                   batch_rows: int = 100_000) -> Iterator[ColumnBatch]:
    """`read_columns` by the exact path only: for a caller that tried `proven_columns` first."""
    _reject_doctype_in_prolog(path)
    yield from _parsed_columns(path, columns, chunk, digest, batch_rows)


def _proven_batches(path: Path, proof: xmlcanon.Proof, chunk: Chunk | None, batch_rows: int,
                    row_per_child: bool = False) -> Iterator[ColumnBatch]:
    """The proof's rows cut as xml2arrow cuts them (with rows per child, every batch's `first` is the read's)."""
    log.debug("%s: canonical, proven without a parser", path)
    if chunk and proof.records != chunk.records:
        raise ChunkMismatch(f"{path}: chunk at byte {chunk.start} held {proof.records} records, "
                            f"the byte scan counted {chunk.records}")
    first = chunk.records_before + 1 if chunk else 1
    for offset in range(0, proof.rows, batch_rows):
        yield ColumnBatch({name: array.slice(offset, batch_rows) for name, array in proof.columns.items()},
                          first if row_per_child else first + offset, reader="canon",
                          lines=None if proof.lines is None else proof.lines[offset:offset + batch_rows])


def _canonical(path: Path, columns: ColumnMap, chunk: Chunk | None, digest: Any | None,
               lines: bool = False) -> xmlcanon.Proof | None:
    """The canonical proof of child texts and (with rows per child, VSAA's `Month/@period`) attributes."""
    return xmlcanon.prove(path, columns.layout, columns.fields, chunk, digest, lines, columns.row_per_child)


def _parsed_columns(path: Path, columns: ColumnMap, chunk: Chunk | None, digest: Any | None,
                    batch_rows: int) -> Iterator[ColumnBatch]:
    """The exact path: xml2arrow extracts while libxml2 validates on a thread, and the XSD verdict decides."""
    log.debug("%s: libxml2 + xml2arrow", path)
    layout = columns.layout
    before = identity(path)  # both read the file: values validated by one must be the ones the other copied
    verdict: dict[str, Any] = {}
    checker = threading.Thread(target=_validate, args=(path, layout, chunk, digest, verdict), daemon=True)
    checker.start()
    number = chunk.records_before if chunk else 0
    source = ChunkStream(path, chunk) if chunk else path
    try:
        for _name, batch in _parser(columns).parse_batches(source, max_rows_per_batch=batch_rows):
            arrays = {name: pc.fill_null(batch.column(name), "") for name, _ in columns.fields}
            if columns.row_per_child:  # records counted up to the last one with a row
                arrays.update({level: batch.column(level) for level in ("<record>", "<child>")})
                first = (chunk.records_before if chunk else 0) + 1
                yield ColumnBatch(arrays, first)
                number = first + arrays["<record>"][-1].as_py() if batch.num_rows else number
                continue
            yield ColumnBatch(arrays, number + 1)
            number += batch.num_rows
    except Exception as exc:  # xml2arrow's own errors; the XSD verdict names the problem better
        checker.join()
        require_same(path, before)
        _raise_if_invalid(path, layout, chunk, verdict)
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
    """Report a failed validation as the lxml path does: a truncated file at its last line; anything else at the
    exact record and line the (slow, only-on-failure) locator finds."""
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
        raise SourceError(f"premature end of data: root element {layout.root} never closed (truncated file?)",
                          file=path, line=line)
    record, located_line, message = _locate_schema_error(path, layout)
    if message is None:  # only visible inside the chunk's wrapper: report libxml2's own finding
        raise SourceError(_describe(outcome.message or "invalid"), file=path, line=line)
    raise SourceError(_describe(message), file=path, line=located_line, record=record)


# ---------------------------------------------------------------- lines, only for quarantined records
_SCAN_BLOCK = 16 << 20


def fill_lines(rows: list[dict[str, Any]], path: Path, layout: XmlLayout, chunk: Chunk | None) -> None:
    """Set the `line` of quarantine rows (records of this file or chunk) to the line of their record's start tag.
    Done once per file, after reading, and only if some record was quarantined."""
    if not rows:
        return
    first = chunk.records_before + 1 if chunk else 1
    lines = record_lines(path, layout, chunk)
    for row in rows:
        row["line"] = int(lines[row["record"] - first])


@dataclass
class RowRecord:
    """One record's mapped texts (in ColumnMap order, "" when absent), its whole-file number and line."""

    number: int
    line: int
    texts: tuple[str, ...]


def iter_rows(path: Path, columns: ColumnMap, chunk: Chunk | None = None, digest: Any | None = None,
              batch_rows: int = 100_000) -> Iterator[RowRecord]:
    """Records one by one, for sources whose checks still run per record (SOPA): the parse costs the compiled
    readers' price and only the checks stay in Python."""
    for batch, lines in iter_batches(path, columns, chunk, digest, batch_rows):
        values = [batch.columns[name].to_pylist() for name, _ in columns.fields]
        for offset, texts in enumerate(zip(*values, strict=True)):
            yield RowRecord(batch.first + offset, int(lines[offset]), texts)


def iter_batches(path: Path, columns: ColumnMap, chunk: Chunk | None = None, digest: Any | None = None,
                 batch_rows: int = 100_000) -> Iterator[tuple[ColumnBatch, np.ndarray]]:
    """`read_columns` batches with the line of every record, for sources that stage lines (PMLP). A canonical
    file's lines come with its proof; any other file's from `record_lines`, scanned before the exact path parses
    it. Falls back to the lxml walk where the compiled readers are missing (same texts, numbers and lines)."""
    if not available():
        yield from _walked_batches(path, columns, chunk, digest, batch_rows)
        return
    _reject_doctype_in_prolog(path)  # also turns an unreadable file into a SourceError before the scan
    proof = _canonical(path, columns, chunk, None if chunk else digest, lines=True)
    if proof is None:
        lines = record_lines(path, columns.layout, chunk)
        batches = _parsed_columns(path, columns, chunk, digest, batch_rows)
    else:
        lines = proof.lines if proof.lines is not None else record_lines(path, columns.layout, chunk)
        batches = _proven_batches(path, proof, chunk, batch_rows)
    index = 0
    for batch in batches:
        yield batch, lines[index:index + batch.rows]
        index += batch.rows


def _walked_batches(path: Path, columns: ColumnMap, chunk: Chunk | None, digest: Any | None,
                    batch_rows: int) -> Iterator[tuple[ColumnBatch, np.ndarray]]:
    rows: list[tuple[str, ...]] = []
    lines: list[int] = []
    first = 0
    for record in iter_records(path, columns.layout, chunk, digest):
        texts = record.child_texts()
        first = first or record.number
        rows.append(tuple(texts.get(name, "") for _, name in columns.fields))
        lines.append(record.line)
        if len(rows) >= batch_rows:
            yield _texts_batch(columns, rows, first), np.array(lines, dtype=np.int64)
            rows, lines, first = [], [], 0
    if rows:
        yield _texts_batch(columns, rows, first), np.array(lines, dtype=np.int64)


def _texts_batch(columns: ColumnMap, rows: list[tuple[str, ...]], first: int) -> ColumnBatch:
    values = zip(*rows, strict=True)
    return ColumnBatch({name: pa.array(texts, type=pa.string()) for (name, _), texts in zip(columns.fields, values,
                                                                                          strict=True)}, first)


_SCAN_BLOCK = 16 << 20
_UNSCANNABLE = (b"<!--", b"<![CDATA[", b"<?")


def record_lines(path: Path, layout: XmlLayout, chunk: Chunk | None) -> np.ndarray:
    """The line of every record start tag in the file (or chunk), in order: scanned from the bytes where that is
    exact (`start_tag_lines`), else from the exact lxml walk."""
    lines = start_tag_lines(path, layout.record, chunk)
    if lines is None:
        return np.array([r.line for r in iter_records(path, layout, chunk)], dtype=np.int64)
    return lines


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
