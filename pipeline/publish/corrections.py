"""Writing one correction set of P (CONTRACTS §16) into a build folder: each recipient's `changes.csv` and the
set's `manifest.json` (period, set, run_id, files as §10).

The run id is derived from what the set says (period, set number, every file's sha256), so the same changes give
the same id. The caller builds the set aside and renames it into place (`publish.atomic`): a recipient never sees
half a set, and published sets are never rewritten.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Sequence
from pathlib import Path

from pipeline.csvio import render_csv
from pipeline.decide.corrections import RecipientChanges


def write_set(build: Path, period: str, name: str, changes: Sequence[RecipientChanges]) -> dict[str, object]:
    """Write every recipient's `changes.csv` and the manifest into `build`; returns the manifest."""
    files = []
    for item in sorted(changes, key=lambda change: change.folder):
        relative = f"{item.folder}/changes.csv"
        data = render_csv(item.header, item.rows)
        (build / item.folder).mkdir(parents=True, exist_ok=True)
        (build / relative).write_bytes(data)
        files.append({"path": relative, "rows": len(item.rows), "sha256": hashlib.sha256(data).hexdigest()})
    digest = hashlib.sha256(f"{period}\n{name}\n".encode())
    for entry in files:
        digest.update(f"{entry['path']}\t{entry['sha256']}\n".encode())
    manifest: dict[str, object] = {"period": period, "set": name,
                                   "run_id": f"{period}-corrections-{name}-{digest.hexdigest()[:12]}", "files": files}
    (build / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return manifest


def carry_over_corrections(published: Path, build: Path) -> None:
    """A month published again (a re-run of P) keeps its correction sets: `<outbox>/<P>` is swapped whole, and a
    set a recipient and the claims check already rely on must not vanish with the old folder. Copied into the
    build under P's lock, so the swap publishes the month and its sets at once."""
    sets = Path(published) / "corrections"
    if sets.is_dir() and not sets.is_symlink():
        shutil.copytree(sets, build / "corrections", symlinks=True,
                        ignore=shutil.ignore_patterns(".build-*", ".replaced-*"))
