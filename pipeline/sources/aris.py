"""ARIS: the VZD address register open data (CONTRACTS §2), the reference every other source is checked against.

Both VZD generations are read: the current `aw_*.csv` (UTF-8 with BOM, `,`, every field in `"`) and the older
`AW_*.CSV` (`;`, `#` quote, UTF-8 or Cp1257). The dialect is sniffed per file, columns are mapped by header name,
and values are kept exactly as published (a trailing space in a house name is part of the name).
Every address is resolved to its municipality by walking `VKUR_CD`: a novads (113), or a state city (104 whose
parent is Latvia, 100000000). Apartments (109) learn their building.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from pipeline.errors import SourceError
from pipeline.logs import get_logger

log = get_logger("sources.aris")

LATVIA = 100000000
TYPE_STATE = 101
TYPE_CITY = 104
TYPE_PARISH = 105
TYPE_VILLAGE = 106
TYPE_STREET = 107
TYPE_BUILDING = 108
TYPE_PREMISES = 109
TYPE_MUNICIPALITY = 113

REQUIRED_COLUMNS = ("KODS", "TIPS_CD", "STATUSS", "VKUR_CD", "VKUR_TIPS", "NOSAUKUMS")
OPTIONAL_COLUMNS = ("ATRIB", "DAT_BEIG", "STD")
_MAX_DEPTH = 10

SCHEMA = pa.schema(
    [
        ("aris_code", pa.string()),
        ("type_code", pa.int16()),
        ("status", pa.string()),
        ("parent_code", pa.string()),
        ("parent_type", pa.int16()),
        ("name", pa.string()),
        ("atrib", pa.string()),
        ("end_date", pa.string()),
        ("address", pa.string()),
        ("building_code", pa.string()),
        ("municipality_code", pa.string()),
        ("municipality_name", pa.string()),
        ("municipality_atvk", pa.string()),
        ("file", pa.string()),
    ]
)


@dataclass(frozen=True)
class Dialect:
    """How one VZD file is written."""

    encoding: str
    delimiter: str
    quote: str


def sniff(path: Path) -> Dialect:
    """Tell the current export (BOM, `,`, `"`) from the older one (`;`, `#`, UTF-8 or Cp1257)."""
    with path.open("rb") as handle:
        head = handle.read(65536)
    if not head.strip():
        raise SourceError("empty ARIS file", file=path, line=1)
    first_line = head.lstrip(codecs.BOM_UTF8).split(b"\n", 1)[0]
    if first_line.startswith(b"#") or (b"#;#" in first_line):
        delimiter, quote = ";", "#"
    elif first_line.startswith(b'"') or b'","' in first_line:
        delimiter, quote = ",", '"'
    else:
        delimiter = ";" if first_line.count(b";") > first_line.count(b",") else ","
        quote = '"'
    encoding = "utf8" if head.startswith(codecs.BOM_UTF8) or _is_utf8(path) else "cp1257"
    return Dialect(encoding=encoding, delimiter=delimiter, quote=quote)


def _is_utf8(path: Path) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as handle:
        try:
            while chunk := handle.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


def read_file(path: Path) -> pd.DataFrame:
    """One VZD file as strings, columns by header name, values unstripped."""
    dialect = sniff(path)
    header = _first_block_header(path, dialect)
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    if missing:
        _whole_file_header(path, dialect)  # a file that is also malformed is reported as malformed, as it was
        raise SourceError(f"VZD file lacks column(s) {', '.join(missing)}", file=path, line=1)
    wanted = [c for c in REQUIRED_COLUMNS + OPTIONAL_COLUMNS if c in header]
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(encoding=dialect.encoding),
            parse_options=pacsv.ParseOptions(
                delimiter=dialect.delimiter, quote_char=dialect.quote, double_quote=True
            ),
            convert_options=pacsv.ConvertOptions(
                include_columns=wanted,
                column_types={column: pa.string() for column in wanted},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise SourceError(f"malformed VZD CSV: {exc}".splitlines()[0], file=path) from None
    frame = table.to_pandas()
    for column in OPTIONAL_COLUMNS:
        if column not in frame:
            frame[column] = ""
    frame["file"] = path.name
    return frame


def _first_block_header(path: Path, dialect: Dialect) -> list[str]:
    """The column names from the file's first 64 KiB (a whole-file pass parses a national register for a
    header); whatever Arrow refuses there goes to the whole-file pass, which names the problem as before."""
    try:
        with pacsv.open_csv(path, read_options=_header_read_options(dialect), parse_options=_parse_options(dialect),
                            convert_options=pacsv.ConvertOptions(include_columns=[])) as reader:
            return list(reader.schema.names)
    except (pa.ArrowInvalid, UnicodeDecodeError):
        return _whole_file_header(path, dialect)


def _whole_file_header(path: Path, dialect: Dialect) -> list[str]:
    """The column names after parsing the whole file, or the SourceError of a malformed one."""
    try:
        return pacsv.read_csv(path, read_options=_header_read_options(dialect), parse_options=_parse_options(dialect),
                              convert_options=pacsv.ConvertOptions(include_columns=[])).column_names
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise SourceError(f"malformed VZD CSV: {exc}".splitlines()[0], file=path) from None


def _header_read_options(dialect: Dialect) -> pacsv.ReadOptions:
    return pacsv.ReadOptions(encoding=dialect.encoding, block_size=1 << 16)


def _parse_options(dialect: Dialect) -> pacsv.ParseOptions:
    return pacsv.ParseOptions(delimiter=dialect.delimiter, quote_char=dialect.quote)


def read_register(files: list[Path]) -> pd.DataFrame:
    """All VZD files as one staged table (SCHEMA), with building and municipality resolved."""
    frames = [read_file(path) for path in files]
    raw = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(REQUIRED_COLUMNS))
    staged = pd.DataFrame(
        {
            "aris_code": raw["KODS"],
            "type_code": _ascii_number(raw["TIPS_CD"], "int16"),
            "status": raw["STATUSS"],
            "parent_code": raw["VKUR_CD"],
            "parent_type": _ascii_number(raw["VKUR_TIPS"], "int16"),
            "name": raw["NOSAUKUMS"],
            "atrib": raw["ATRIB"],
            "end_date": raw["DAT_BEIG"],
            "address": raw["STD"],
            "file": raw["file"],
        }
    )
    staged["building_code"] = _building_codes(staged)
    _resolve_municipalities(staged)
    log.info("ARIS: %d addresses from %d file(s)", len(staged), len(files))
    return staged[SCHEMA.names]


def _ascii_number(texts: pd.Series, dtype: str, missing: int = 0) -> pd.Series:
    """Whole numbers written in ASCII digits; anything else (other scripts' digits, signs, blanks) is `missing`,
    so a code in Arabic-Indic digits links to nothing instead of to the code it looks like."""
    strings = _arrow_texts(texts)
    plain = pc.fill_null(pc.match_substring_regex(strings, "^[0-9]{1,18}$"), False)
    numbers = pc.cast(pc.if_else(plain, strings, None), pa.int64())  # Arrow parses only what is plain digits
    return pd.Series(numbers.to_numpy(zero_copy_only=False), index=texts.index).fillna(missing).astype(dtype)


def _arrow_texts(texts: pd.Series) -> pa.Array:
    """A text column as Arrow strings: the column's own buffers where pandas keeps it in Arrow (the usual case),
    so 1.6 M national rows never become Python strings."""
    return pa.array(texts, type=pa.large_string(), from_pandas=True)


def _string_series(values: pa.Array, index: pd.Index) -> pd.Series:
    return pd.Series(pd.array(values, dtype="string"), index=index)


def _building_codes(frame: pd.DataFrame) -> pd.Series:
    """A building's own code, a premises' parent code, else missing."""
    types = pa.array(frame["type_code"].to_numpy())
    none = pa.scalar(None, pa.large_string())
    building = pc.if_else(pc.equal(types, TYPE_BUILDING), _arrow_texts(frame["aris_code"]),
                          pc.if_else(pc.equal(types, TYPE_PREMISES), _arrow_texts(frame["parent_code"]), none))
    return _string_series(building, frame.index)


def _resolve_municipalities(frame: pd.DataFrame) -> None:
    """Walk `VKUR_CD` upwards, all rows at once, until a novads or a state city is met (CONTRACTS §2)."""
    codes = _ascii_number(frame["aris_code"], "int64", missing=-1).to_numpy()
    parents = _ascii_number(frame["parent_code"], "int64", missing=-1).to_numpy()
    types = frame["type_code"].to_numpy()
    first_row = pd.Series(np.arange(len(codes)), index=codes)
    first_row = first_row[~first_row.index.duplicated()]
    lookup, rows_of = first_row.index, first_row.to_numpy()

    def position_of(values: np.ndarray) -> np.ndarray:
        found = lookup.get_indexer(values)
        return np.where(found >= 0, rows_of[found], -1)

    municipality = np.full(len(codes), -1, dtype="int64")
    current = np.arange(len(codes))
    pending = np.ones(len(codes), dtype=bool)
    for _ in range(_MAX_DEPTH):
        rows = np.flatnonzero(pending)
        if rows.size == 0:
            break
        at = current[rows]
        at_type = types[at]
        is_municipality = (at_type == TYPE_MUNICIPALITY) | ((at_type == TYPE_CITY) & (parents[at] == LATVIA))
        municipality[rows[is_municipality]] = at[is_municipality]
        pending[rows[is_municipality]] = False
        climbing = rows[~is_municipality]
        next_positions = position_of(parents[current[climbing]])
        dead_end = next_positions < 0
        pending[climbing[dead_end]] = False
        current[climbing[~dead_end]] = next_positions[~dead_end]

    resolved = municipality >= 0
    rows = pa.array(municipality, mask=~resolved)  # a missing row takes a missing value
    for column, target in (("aris_code", "municipality_code"), ("name", "municipality_name"),
                           ("atrib", "municipality_atvk")):
        frame[target] = _string_series(_arrow_texts(frame[column]).take(rows), frame.index)
    unresolved = int((~resolved & (frame["type_code"].to_numpy() >= TYPE_PARISH)).sum())
    if unresolved:
        log.warning("ARIS: %d addresses have no municipality (broken VKUR_CD chain)", unresolved)
