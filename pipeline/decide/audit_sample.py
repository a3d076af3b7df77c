"""The audit sample of CONTRACTS §13 (flow 21): which paid claim lines the bureau asks to see the bills for.

Per supplier, of its ACCEPTED and REDUCED lines: the `LARGEST` with the largest `accepted_eur` (ties: smaller
claim id), plus ⌈`RANDOM_PERCENT` % × the rest⌉ drawn pseudo-randomly with the run id as the seed. The draw is
"sort the rest by sha256(run_id, supplier, claim_id) and take the first k": the same run draws the same lines on any
machine and Python version (no `random` module state involved), and a supplier cannot predict it without the run id.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable

from pipeline.decide.claims import ACCEPTED, REDUCED, ClaimResult

LARGEST = 3
RANDOM_PERCENT = 1


def draw_key(run_id: str, supplier: str, claim_id: str) -> str:
    return hashlib.sha256(f"{run_id}\n{supplier}\n{claim_id}".encode()).hexdigest()


def audit_sample(results: Iterable[ClaimResult], run_id: str) -> list[ClaimResult]:
    """The sampled lines of every supplier, by supplier then claim id."""
    paid: dict[str, list[ClaimResult]] = {}
    for result in results:
        if result.status in (ACCEPTED, REDUCED):
            paid.setdefault(result.supplier, []).append(result)
    sample: list[ClaimResult] = []
    for supplier, lines in paid.items():
        ranked = sorted(lines, key=lambda r: (-r.accepted_eur, r.claim_id))
        largest, rest = ranked[:LARGEST], ranked[LARGEST:]
        k = math.ceil(len(rest) * RANDOM_PERCENT / 100)
        drawn = sorted(rest, key=lambda r: draw_key(run_id, supplier, r.claim_id))[:k]
        sample.extend(largest + drawn)
    return sorted(sample, key=lambda r: (r.supplier, r.claim_id))
