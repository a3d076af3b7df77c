"""`manifest.json` (CONTRACTS §10): what a run published, so a recipient can verify every file.

The run id is derived from the inputs, the policy and the code version, so re-running P on the same inputs gives
the same id and a byte-identical manifest.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from pipeline import __version__
from pipeline.filework import sha256_of
from pipeline.handoff import RecipientFile


def derive_run_id(period: str, input_digests: list[str], policy_digest: str) -> str:
    """`P-<12 hex>` over every input file's sha256, the policy digest and the code version."""
    digest = hashlib.sha256()
    for part in (period, policy_digest, __version__, *sorted(input_digests)):
        digest.update(part.encode())
        digest.update(b"\n")
    return f"{period}-{digest.hexdigest()[:12]}"


def write_manifest(build: Path, period: str, run_id: str, policy_digest: str, support_types_on: list[str],
                   files: list[RecipientFile]) -> Path:
    manifest = {
        "period": period,
        "run_id": run_id,
        "policy_digest": policy_digest,
        "support_types_on": list(support_types_on),
        "files": [
            {"path": item.path, "rows": item.rows, "sha256": sha256_of(build / item.path)}
            for item in sorted(files, key=lambda item: item.path)
        ],
    }
    path = build / "manifest.json"
    path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
