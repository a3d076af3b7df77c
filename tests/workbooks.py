"""Reading published files as text in the tests' privacy scans: a spreadsheet companion is a zip of XML parts."""

from __future__ import annotations

import io
import zipfile


def readable(name: str, content: bytes) -> str:
    """A file's text; for an `.xlsx` companion, every XML part of the workbook (cells, names, properties)."""
    if not name.endswith(".xlsx"):
        return content.decode("utf-8")
    with zipfile.ZipFile(io.BytesIO(content)) as workbook:
        return "\n".join(workbook.read(part).decode("utf-8") for part in workbook.namelist())
