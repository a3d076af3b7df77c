"""The one CSV dialect of CONTRACTS §6 and §10: `;`, RFC 4180 quoting, header row, UTF-8 without BOM, `\\n` ends.

Reading and writing both live here so that what EIKIS sends back is byte-for-byte the dialect it accepts.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from pipeline.errors import SourceError


class ContractDialect(csv.Dialect):
    delimiter = ";"
    quotechar = '"'
    doublequote = True
    skipinitialspace = False
    lineterminator = "\n"
    quoting = csv.QUOTE_MINIMAL
    strict = True


def read_rows(path: Path, expected_header: Sequence[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield `(line_number, row)` for a contract CSV, checking the header and each row's field count.

    A wrong header, undecodable bytes or a ragged row is a whole-file problem: it raises SourceError naming the
    file and the line, because a half-understood supplier list must not be decided on.
    """
    try:
        with path.open("r", encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle, dialect=ContractDialect)
            header = next(reader, None)
            if header is None:
                raise SourceError("empty file, expected a header row", file=path, line=1)
            if header and header[0].startswith("\ufeff"):
                header[0] = header[0][1:]
            if list(header) != list(expected_header):
                raise SourceError(
                    f"unexpected header {';'.join(header)!r}, expected {';'.join(expected_header)!r}",
                    file=path,
                    line=1,
                )
            for row in reader:
                line = reader.line_num
                if not row or row == [""]:
                    continue
                if len(row) != len(header):
                    raise SourceError(
                        f"row has {len(row)} fields, expected {len(header)}", file=path, line=line
                    )
                yield line, dict(zip(header, row, strict=True))
    except UnicodeDecodeError as exc:
        raise SourceError(f"not valid UTF-8 ({exc.reason} at byte {exc.start})", file=path) from exc
    except csv.Error as exc:
        raise SourceError(f"malformed CSV: {exc}", file=path) from exc


def render_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """The bytes of a contract CSV: header, rows, `\\n` line ends, UTF-8 without BOM."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, dialect=ContractDialect)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")
