"""Reading back what EIKIS itself published for P, as the reference a claim is checked against (CONTRACTS §13).

A claim is paid on the strength of these files, so each one is trusted only after its sha256 matches the entry in
its outbox's `manifest.json` (and the manifest is for P). A file the manifest does not list means the supplier got
nothing for P: every object it claims is then unknown. The §10 manifest lists files as `[{path, rows, sha256}]`,
the §12 one as `{path: {rows, sha256}}`; both are accepted.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.csvio import read_rows
from pipeline.digits import is_ascii_digits
from pipeline.errors import SourceError

SUPPLIER_COLUMNS = ("object_id", "aris_code", "address", "connection_kind", "eligible", "eligible_dwellings",
                    "support_types")
PROTECTED_COLUMNS = ("contract_number", "aris_code", "address", "decision_valid_from", "decision_valid_to")


@dataclass(frozen=True)
class PublishedObject:
    """The part of a published supplier row a claim is checked against."""

    eligible: bool
    eligible_dwellings: int
    support_types: frozenset[str]
    correction_set: str = ""    # the correction set (§16) this row comes from; empty: the original file


@dataclass(frozen=True)
class PublishedOutbox:
    """One published outbox of P: its run id, manifest sha256 (an input of the claims run id) and file digests."""

    root: Path
    run_id: str
    manifest_sha256: str
    files: dict[str, str]

    def verified(self, relative: str) -> Path | None:
        """The file's path after its sha256 matched the manifest; None when the manifest does not list it."""
        expected = self.files.get(relative)
        if expected is None:
            return None
        path = self.root / relative
        if not path.is_file() or path.is_symlink():
            raise SourceError("listed in manifest.json but missing", file=path)
        actual = hashlib.sha256(path.read_bytes()).hexdigest()
        if actual != expected:
            raise SourceError("sha256 does not match manifest.json; the published file was altered", file=path)
        return path


def open_outbox(root: Path, period: str) -> PublishedOutbox:
    """Read `<root>/<P>/manifest.json`; a missing or foreign manifest stops the run."""
    return open_folder(Path(root) / period, period)


def open_folder(folder: Path, period: str) -> PublishedOutbox:
    """Read `<folder>/manifest.json`, which must be for P (an outbox of P, or one of its correction sets)."""
    manifest_path = folder / "manifest.json"
    try:
        raw = manifest_path.read_bytes()
        manifest = json.loads(raw)
    except FileNotFoundError:
        raise SourceError("no published manifest for the period", file=manifest_path) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SourceError(f"manifest is not valid JSON: {exc}", file=manifest_path) from None
    if not isinstance(manifest, dict) or manifest.get("period") != period:
        raise SourceError(f"manifest is not for {period}", file=manifest_path)
    return PublishedOutbox(folder, str(manifest.get("run_id", "")), hashlib.sha256(raw).hexdigest(),
                           _file_digests(manifest.get("files"), manifest_path))


def _file_digests(files: Any, manifest_path: Path) -> dict[str, str]:
    if isinstance(files, dict):
        entries = [{"path": path, **(entry if isinstance(entry, dict) else {})} for path, entry in files.items()]
    elif isinstance(files, list):
        entries = [entry for entry in files if isinstance(entry, dict)]
    else:
        raise SourceError("manifest has no `files`", file=manifest_path)
    digests = {}
    for entry in entries:
        if not isinstance(entry.get("path"), str) or not isinstance(entry.get("sha256"), str):
            raise SourceError("manifest entry without path or sha256", file=manifest_path)
        digests[entry["path"]] = entry["sha256"]
    return digests


def supplier_objects(outbox: PublishedOutbox, supplier: str) -> dict[str, PublishedObject]:
    """`<supplier folder>/eligibility.csv` of §10 by object id; empty when nothing was published for it."""
    path = outbox.verified(f"{supplier}/eligibility.csv")
    if path is None:
        return {}
    return {row["object_id"]: published_object(row, path, line) for line, row in read_rows(path, SUPPLIER_COLUMNS)}


def published_object(row: dict[str, str], path: Path, line: int, correction_set: str = "") -> PublishedObject:
    """One published supplier row (§10, or a §16 correction row) as a claim is checked against it."""
    if row["eligible"] not in ("0", "1") or not is_ascii_digits(row["eligible_dwellings"]):
        raise SourceError("published row with an unreadable eligible/eligible_dwellings", file=path, line=line)
    types = frozenset(t for t in row["support_types"].split("|") if t)
    return PublishedObject(row["eligible"] == "1", int(row["eligible_dwellings"]), types, correction_set)


def protected_contracts(outbox: PublishedOutbox | None, reg_no: str) -> frozenset[str]:
    """The contract numbers of §12 passed to trader `reg_no` for P; empty when none were published."""
    if outbox is None:
        return frozenset()
    path = outbox.verified(f"traders/{reg_no}/protected_contracts.csv")
    if path is None:
        return frozenset()
    return frozenset(row["contract_number"] for _, row in read_rows(path, PROTECTED_COLUMNS))
