"""XSD validation of a whole extract in C, streaming, without building a tree or calling Python per element.

lxml offers XSD validation only on a tree it builds (1.4 GB for a 166 MB VID file) or inside `iterparse` (one
Python step per record). libxml2 itself can validate a stream through SAX with no tree (`xmlSchemaValidateStream`),
in one C call. lxml's wheels link libxml2 statically and export
its C API, so this module calls that exact libxml2 (the one lxml already uses, same version and build) through
ctypes. The call releases the GIL, so a file can be validated on one core while `xml2arrow` extracts it on the
other. A whole file is handed to libxml2 as a private memory map (never written), so no Python runs per block read.

Safety: the caller refuses any DOCTYPE before this runs (so there is no DTD, no
entity declaration and no external subset to fetch); the parser context gets no SAX handler, so nothing is built
or expanded; the schema is given, so `xsi:schemaLocation` hints are never followed; and XML_PARSE_HUGE is not set,
so libxml2's size limits apply. Where the symbols are missing (another lxml build), importing this module stops
with `EngineMissing`: there is no other validator to fall back on.
"""

from __future__ import annotations

import ctypes
import io
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from lxml import etree

from pipeline.errors import EikisError
from pipeline.sources.stablemap import stable_map

_VOID = ctypes.c_void_p


class _XmlError(ctypes.Structure):
    """libxml2's `xmlError` (stable since 2.6)."""

    _fields_ = [("domain", ctypes.c_int), ("code", ctypes.c_int), ("message", ctypes.c_char_p),
                ("level", ctypes.c_int), ("file", ctypes.c_char_p), ("line", ctypes.c_int),
                ("str1", ctypes.c_char_p), ("str2", ctypes.c_char_p), ("str3", ctypes.c_char_p),
                ("int1", ctypes.c_int), ("int2", ctypes.c_int), ("ctxt", _VOID), ("node", _VOID)]


_ON_ERROR = ctypes.CFUNCTYPE(None, _VOID, _VOID)  # the error is read through `_XmlError` in the handler
_READ = ctypes.CFUNCTYPE(ctypes.c_int, _VOID, ctypes.POINTER(ctypes.c_char), ctypes.c_int)
_CLOSE = ctypes.CFUNCTYPE(ctypes.c_int, _VOID)
_XML_ERR_ERROR = 2  # levels: 1 warning, 2 error, 3 fatal
_XML_FROM_SCHEMASV = 17  # the error domain of XSD validity errors; any other domain is a parse error
_SIGNATURES = {
    "xmlSchemaNewMemParserCtxt": (_VOID, [ctypes.c_char_p, ctypes.c_int]),
    "xmlSchemaFreeParserCtxt": (None, [_VOID]),
    "xmlSchemaParse": (_VOID, [_VOID]),
    "xmlSchemaNewValidCtxt": (_VOID, [_VOID]),
    "xmlSchemaFreeValidCtxt": (None, [_VOID]),
    "xmlSchemaSetValidStructuredErrors": (None, [_VOID, _ON_ERROR, _VOID]),
    "xmlSchemaValidateStream": (ctypes.c_int, [_VOID, _VOID, ctypes.c_int, _VOID, _VOID]),
    "xmlParserInputBufferCreateIO": (_VOID, [_READ, _CLOSE, _VOID, ctypes.c_int]),
    "xmlSetStructuredErrorFunc": (None, [_VOID, _ON_ERROR]),
}
_STATIC_INPUT = "xmlParserInputBufferCreateStatic"  # optional: `validate_file` streams without it
_STATIC_LIMIT = (1 << 31) - 1  # its size is a C int


class EngineMissing(EikisError):
    """A part of the one exact XML engine (xml2arrow, libxml2's streaming XSD validation) is not installed: the
    installation is wrong, so nothing is read. Raised when the readers are imported, before a run starts."""


class LayoutMismatch(EikisError):
    """lxml's libxml2 did not answer the start-up self-test as the ctypes layouts expect: another build. Stops the
    run in one line (an installation problem: nothing is read with layouts that may be wrong)."""


@cache
def _libxml2() -> ctypes.CDLL:
    """lxml's libxml2 once it has passed the self-test (at first use); LayoutMismatch if it does not."""
    lib = _loaded()
    _self_test(lib, _XmlError)
    return lib


@cache
def _loaded() -> ctypes.CDLL:
    """lxml's libxml2 with the streaming validation API typed; EngineMissing where the build lacks it."""
    try:
        lib = ctypes.CDLL(etree.__file__)
        for name, (result, arguments) in _SIGNATURES.items():
            function = getattr(lib, name)
            function.restype, function.argtypes = result, arguments
    except (OSError, AttributeError) as exc:
        raise EngineMissing(f"lxml {etree.__version__} does not export libxml2's streaming XSD validation "
                            f"({type(exc).__name__}: {exc}): install the lxml of requirements.lock") from None
    if hasattr(lib, _STATIC_INPUT):
        static = getattr(lib, _STATIC_INPUT)
        static.restype, static.argtypes = _VOID, [_VOID, ctypes.c_int, ctypes.c_int]
    return lib


_loaded()  # at import, so a build without the API stops the run before it starts


_schema_lock = threading.Lock()


@cache
def _compiled_schema(name: str) -> int:
    """A bundled XSD compiled by libxml2, once per process (kept for the life of the process)."""
    return _compile(_libxml2(), resources.files("pipeline.schemas").joinpath(name).read_bytes(), name)


def _compile(lib: ctypes.CDLL, text: bytes, name: str) -> int:
    with _schema_lock:
        parser = lib.xmlSchemaNewMemParserCtxt(text, len(text))
        schema = lib.xmlSchemaParse(parser)
        lib.xmlSchemaFreeParserCtxt(parser)
    if not schema:
        raise RuntimeError(f"libxml2 could not compile {name}")
    return schema


@dataclass(frozen=True)
class XsdOutcome:
    """The result of one validation: valid, or the first problem libxml2 reported (line inside the stream)."""

    valid: bool
    line: int | None = None
    message: str | None = None
    well_formed: bool = True   # False: a parse error (malformed, truncated, bad bytes), not a schema violation
    read_error: str | None = None


def validate_stream(source: io.RawIOBase, schema_file: str) -> XsdOutcome:
    """Validate everything `source` yields against a bundled XSD. Run it in its own thread: libxml2's error
    handler is per thread, and this sets it for the duration of the call. Python is called back for every 4 kB
    libxml2 reads: for a whole file `validate_file` is cheaper."""
    failure: list[str] = []
    outcome = _validate(schema_file, _reading(source, failure))
    return XsdOutcome(False, read_error=failure[0], well_formed=False) if failure else outcome


def _reading(source: Any, failure: list[str]) -> Callable[[ctypes.CDLL], int]:
    """An input buffer creator for libxml2 that reads `source` through a Python callback; a read error is
    appended to `failure` (an exception must not cross the C frames)."""

    @_READ
    def read(_context: int | None, buffer: ctypes._Pointer, size: int) -> int:  # type: ignore[type-arg]
        try:
            data = source.read(size)
        except (OSError, ValueError) as exc:  # an exception must not cross the C frames: report it after
            failure.append(getattr(exc, "strerror", None) or str(exc))
            return -1
        if data:
            ctypes.memmove(buffer, data, len(data))
        return len(data or b"")

    @_CLOSE
    def close(_context: int | None) -> int:
        return 0

    return lambda lib: lib.xmlParserInputBufferCreateIO(read, close, None, 0)  # keeps both callbacks alive


def validate_file(path: Path, schema_file: str, digest: Any | None = None) -> XsdOutcome:
    """`validate_stream` for a whole file, with no Python in the loop: libxml2 reads the file's memory map
    directly (a read callback per 4 kB cost a fifth of the validation). A `digest` (hashlib object) is fed the
    same mapped bytes first, in C with the GIL released. An empty file, one beyond libxml2's `int` sizes or a
    libxml2 without the static input buffer goes through `validate_stream`. The map is `stablemap`'s: a file that
    is not the run's sealed copy is read into memory first, and one that changed raises `FileChanged`."""
    lib = _libxml2()
    with path.open("rb", buffering=0) as handle:
        if os.fstat(handle.fileno()).st_size == 0:
            return validate_stream(handle, schema_file)
    with stable_map(path, writable=True) as stable:  # private: never written back; never changes under libxml2
        data = stable.data
        if digest is not None:
            digest.update(data)
        if len(data) > _STATIC_LIMIT or not hasattr(lib, _STATIC_INPUT):
            outcome = validate_stream(data, schema_file)  # type: ignore[arg-type]  # an mmap reads like a file
        else:
            memory = (ctypes.c_char * len(data)).from_buffer(data)
            try:
                address, size = ctypes.addressof(memory), len(data)
                outcome = _validate(schema_file, lambda lib: lib.xmlParserInputBufferCreateStatic(address, size, 0))
            finally:
                del memory  # the map cannot close while a ctypes view of it exists
        stable.require_unchanged()
        return outcome


def _validate(schema_file: str, open_input: Callable[[ctypes.CDLL], int]) -> XsdOutcome:
    """Run libxml2's streaming validation over the input buffer `open_input` creates (freed by libxml2)."""
    return _run(_libxml2(), _compiled_schema(schema_file), open_input, _XmlError)


def _run(lib: ctypes.CDLL, schema: int, open_input: Callable[[ctypes.CDLL], int],
         layout: type[ctypes.Structure]) -> XsdOutcome:
    """One streaming validation, its errors read through `layout` (`_XmlError`; the self-test may try others)."""
    errors: list[tuple[int, int, int, str]] = []

    @_ON_ERROR
    def on_error(_context: int | None, error: int) -> None:
        item: Any = ctypes.cast(error, ctypes.POINTER(layout)).contents
        if item.level >= _XML_ERR_ERROR and len(errors) < 5:
            errors.append((item.domain, item.line, item.level, (item.message or b"").decode("utf-8", "replace")))

    lib.xmlSetStructuredErrorFunc(None, on_error)
    context = lib.xmlSchemaNewValidCtxt(schema)
    try:
        lib.xmlSchemaSetValidStructuredErrors(context, on_error, None)
        stream = open_input(lib)  # freed by the parser context
        code = lib.xmlSchemaValidateStream(context, stream, 0, None, None)
    finally:
        lib.xmlSchemaFreeValidCtxt(context)
        lib.xmlSetStructuredErrorFunc(None, _ON_ERROR())
    if code == 0 and not errors:
        return XsdOutcome(True)
    parse_errors = [e for e in errors if e[0] != _XML_FROM_SCHEMASV]
    domain, line, _level, message = (parse_errors or errors or [(0, 0, 0, f"libxml2 validation code {code}")])[0]
    return XsdOutcome(False, line=line or None, message=message.strip(), well_formed=not parse_errors)


# ---------------------------------------------------------------- the start-up self-test
# The ctypes layouts above are written by hand over libxml2's C API, which lxml bundles: a different lxml build (a
# newer libxml2, another platform) could change them and the validation would still run, giving wrong verdicts,
# lines or messages rather than an error. So at first use the loaded library validates three tiny documents,
# through both input paths, against a tiny schema, and must answer exactly so.
_SELF_TEST_SCHEMA = (b'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:eikis:self-test" '
                     b'elementFormDefault="qualified"><xs:element name="Root"><xs:complexType><xs:sequence>'
                     b'<xs:element name="Leaf" type="xs:int" maxOccurs="unbounded"/></xs:sequence></xs:complexType>'
                     b"</xs:element></xs:schema>")
_SELF_TESTS = (  # (document, valid, well-formed, line, a word the message must hold)
    (b'<Root xmlns="urn:eikis:self-test">\n<Leaf>1</Leaf>\n</Root>\n', True, True, None, None),
    (b'<Root xmlns="urn:eikis:self-test">\n<Leaf>1</Leaf>\n<Leaf>x</Leaf>\n</Root>\n', False, True, 3, "Leaf"),
    (b'<Root xmlns="urn:eikis:self-test">\n<Leaf>1</Leaf>\n\n<Leaf>1</Lef>\n</Root>\n', False, False, 4, "Lef"),
)


def _self_test(lib: ctypes.CDLL, layout: type[ctypes.Structure]) -> None:
    """Raise LayoutMismatch unless libxml2, read through `layout`, gives each self-test document its known
    verdict, kind (schema or parse error), line and message, by the callback input and by the static one."""
    schema = _compile(lib, _SELF_TEST_SCHEMA, "the self-test schema")
    for document, valid, well_formed, line, word in _SELF_TESTS:
        buffer = ctypes.create_string_buffer(document, len(document))
        inputs = {"read callback": _reading(io.BytesIO(document), [])}
        if hasattr(lib, _STATIC_INPUT):
            address, size = ctypes.addressof(buffer), len(document)  # `buffer` outlives the run below
            inputs["static buffer"] = lambda lib, a=address, n=size: lib.xmlParserInputBufferCreateStatic(a, n, 0)
        for kind, open_input in inputs.items():
            got = _run(lib, schema, open_input, layout)
            if (got.valid, got.well_formed, got.line) != (valid, well_formed, line) \
                    or (word is not None and word not in (got.message or "")):
                raise LayoutMismatch(
                    f"xsdstream: lxml {etree.__version__} (libxml2 {etree.LIBXML_VERSION}) fails the start-up "
                    f"self-test of its ctypes layouts ({kind}: expected valid={valid}, well-formed={well_formed}, "
                    f"line {line}; got valid={got.valid}, well-formed={got.well_formed}, line {got.line}): install "
                    "the lxml of requirements.lock, or update xsdstream's layouts to this build")
