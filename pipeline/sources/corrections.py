"""Reading back the correction sets EIKIS published for P (CONTRACTS §16): the merged view of what was published.

A recipient's file of P is never rewritten; a confirmed appeal reaches it as a numbered correction set
`<outbox>/<P>/corrections/<NN>/` whose `changes.csv` rows replace the original rows of the same object (supplier
files) or address (municipality files). What a recipient has is therefore the original file with every set
applied in order: the claims check (§13) judges a claim against that view, and the next correction set is what
differs from it. Each set's files are trusted only after their sha256 matches the set's own manifest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from pipeline.csvio import read_rows
from pipeline.errors import SourceError
from pipeline.sources.published import (
    SUPPLIER_COLUMNS,
    PublishedObject,
    PublishedOutbox,
    open_folder,
    published_object,
    supplier_objects,
)

CHANGE_COLUMNS = ("change", "case_ref")
SUPPLIER_CHANGE_COLUMNS = (*SUPPLIER_COLUMNS, *CHANGE_COLUMNS)
MUNICIPALITY_COLUMNS = ("aris_code", "address", "eligible", "status")
MUNICIPALITY_CHANGE_COLUMNS = (*MUNICIPALITY_COLUMNS, *CHANGE_COLUMNS)
ORIGINAL_MUNICIPALITY_HEADERS = (MUNICIPALITY_COLUMNS, ("aris_code", "address", "eligible"))  # §10 v1.2, before
ADDED, CHANGED = "ADDED", "CHANGED"
_SET_NAME = re.compile(r"^\d{2}$")


@dataclass(frozen=True)
class CorrectionSet:
    name: str                  # "01", "02", ...
    outbox: PublishedOutbox    # its folder, run id, manifest digest and file digests


@dataclass(frozen=True)
class MunicipalityRow:
    eligible: bool
    status: str                # empty where the original file has no status column
    correction_set: str = ""


def corrections_folder(root: Path, period: str) -> Path:
    return Path(root) / period / "corrections"


def correction_sets(root: Path, period: str) -> list[CorrectionSet]:
    """Every published correction set of P, in order (hidden build folders are not published sets)."""
    folder = corrections_folder(root, period)
    if not folder.is_dir():
        return []
    names = sorted(item.name for item in folder.iterdir()
                   if _SET_NAME.match(item.name) and item.is_dir() and not item.is_symlink())
    return [CorrectionSet(name, open_folder(folder / name, period)) for name in names]


def merged_supplier_objects(original: PublishedOutbox, sets: list[CorrectionSet],
                            supplier: str) -> dict[str, PublishedObject]:
    """The supplier's published rows by object id, each correction set's rows replacing the earlier ones."""
    objects = supplier_objects(original, supplier)
    for correction in sets:
        path = correction.outbox.verified(f"{supplier}/changes.csv")
        if path is not None:
            for line, row in read_rows(path, SUPPLIER_CHANGE_COLUMNS):
                objects[row["object_id"]] = published_object(row, path, line, correction.name)
    return objects


def merged_municipality_rows(original: PublishedOutbox, sets: list[CorrectionSet],
                             municipality: str) -> dict[str, MunicipalityRow]:
    """The municipality's published addresses by ARIS code, each correction set's rows replacing earlier ones."""
    rows: dict[str, MunicipalityRow] = {}
    path = original.verified(f"{municipality}/households.csv")
    if path is not None:
        header = _header(path)
        if header not in ORIGINAL_MUNICIPALITY_HEADERS:
            raise SourceError(f"unexpected header {';'.join(header)}", file=path, line=1)
        for _, row in read_rows(path, header):
            rows[row["aris_code"]] = MunicipalityRow(row["eligible"] == "1", row.get("status", ""))
    for correction in sets:
        changes = correction.outbox.verified(f"{municipality}/changes.csv")
        if changes is not None:
            for _, row in read_rows(changes, MUNICIPALITY_CHANGE_COLUMNS):
                rows[row["aris_code"]] = MunicipalityRow(row["eligible"] == "1", row["status"], correction.name)
    return rows


def _header(path: Path) -> tuple[str, ...]:
    with path.open(encoding="utf-8", newline="") as handle:
        return tuple(handle.readline().rstrip("\r\n").split(";"))
