"""Sample compensation claims (CONTRACTS §13) derived from a published outbox, for a full claims month on the sample.

Each supplier with eligible objects claims each support type on its rows, under the policy's cap (so the bulk is
ACCEPTED), one valid correction, and the first supplier of each kind also sends one line of each reason its kind
can produce: MALFORMED (a negative amount; a conflicting correction), NOT_CLAIMABLE, UNKNOWN_OBJECT, NOT_ELIGIBLE,
SUPPORT_NOT_ON, DWELLINGS_EXCEEDED, DUPLICATE_CLAIM and OVER_CAP. Deterministic for a seed: same outbox, same files.
"""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path

from pipeline.csvio import render_provider_csv
from pipeline.decide.claims import cap_eur
from pipeline.decide.claims_policy import Rate, load_claims_policy
from pipeline.sources.claims import CLAIM_COLUMNS, SUPPLIER_KINDS
from pipeline.sources.published import PublishedObject, open_outbox, protected_contracts, supplier_objects

SUBMITTED = "{period}-{day:02d}T09:{minute:02d}:00"


def _suppliers(files: dict[str, str], kind: str) -> list[str]:
    return sorted(path.rsplit("/", 1)[0] for path in files
                  if path.startswith(f"{kind}/") and path.endswith("/eligibility.csv"))


def generate_claims(period: str, published: Path, aldis: Path | None, out: Path, policy: Path, *,
                    seed: int = 1) -> Path:
    """Write `<out>/<P>/<supplier folder>/claims_<P>.csv` for every supplier with something to claim."""
    rng = random.Random(seed)
    rates = load_claims_policy(policy, period).rates
    outbox = open_outbox(published, period)
    aldis_outbox = open_outbox(aldis, period) if aldis else None
    target = Path(out) / period
    for kind in SUPPLIER_KINDS:
        reasons_added = False
        for supplier in _suppliers(outbox.files, kind):
            objects = supplier_objects(outbox, supplier)
            contracts = sorted(protected_contracts(aldis_outbox, supplier.split("/")[1])) \
                if kind == "traders_electricity" else []
            rows = _valid_lines(period, objects, contracts, rates, rng)
            if not rows:
                continue
            if not reasons_added:
                rows += _one_of_each_reason(period, kind, objects, rows)
                reasons_added = True
            folder = target / supplier
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"claims_{period}.csv").write_bytes(render_provider_csv(CLAIM_COLUMNS, rows))
    return target


def _submitted(period: str, rng: random.Random) -> str:
    return SUBMITTED.format(period=_next_month(period), day=rng.randint(2, 9), minute=rng.randint(0, 59))


def _next_month(period: str) -> str:
    year, month = int(period[:4]), int(period[5:])
    return f"{year + month // 12:04d}-{month % 12 + 1:02d}"


def _line(claim_id: str, submitted: str, object_id: str, support: str, dwellings: int, quantity: Decimal,
          amount: Decimal) -> list[str]:
    return [claim_id, submitted, object_id, support, str(dwellings), str(quantity), str(amount)]


def _valid_lines(period: str, objects: dict[str, PublishedObject], contracts: list[str], rates: dict[str, Rate],
                 rng: random.Random) -> list[list[str]]:
    rows: list[list[str]] = []
    claimable = [(oid, obj, t) for oid, obj in sorted(objects.items()) if obj.eligible
                 for t in sorted(obj.support_types) if t in rates]
    claimable += [(contract, PublishedObject(True, 1, frozenset()), "PROTECTED_USER") for contract in contracts]
    for number, (object_id, obj, support) in enumerate(claimable, start=1):
        dwellings = max(obj.eligible_dwellings, 1)
        quantity = Decimal(rng.randint(30_000, 90_000 * dwellings)).scaleb(-3)
        amount = cap_eur(rates[support], quantity, dwellings)
        rows.append(_line(f"C{number:06d}", _submitted(period, rng), object_id, support, dwellings, quantity, amount))
    if rows:  # one correction: the same claim id sent again later with a smaller amount
        first = list(rows[0])
        first[1] = f"{_next_month(period)}-10T12:00:00"
        first[6] = str((Decimal(first[6]) / 2).quantize(Decimal("0.01")))
        rows.append(first)
    return rows


def _one_of_each_reason(period: str, kind: str, objects: dict[str, PublishedObject],
                        rows: list[list[str]]) -> list[list[str]]:
    at = f"{_next_month(period)}-05T08:00:00"
    base = rows[0]
    object_id, support = base[2], base[3]
    extra = [
        _line("X-MALFORMED", at, object_id, support, 1, Decimal("10.000"), Decimal("0.00")),
        _line("X-CONFLICT", at, object_id, support, 1, Decimal("10.000"), Decimal("1.00")),
        _line("X-CONFLICT", at, object_id, support, 1, Decimal("12.000"), Decimal("1.20")),
        _line("X-UNKNOWN", at, "NO-SUCH-OBJECT", support, 1, Decimal("10.000"), Decimal("0.40")),
        _line("X-DUPLICATE", at, object_id, support, 1, Decimal("1.000"), Decimal("0.01")),
        _line("X-NOT-CLAIMABLE", at, object_id, "DECENTRALISED_FUEL", 1, Decimal("10.000"), Decimal("0.40")),
    ]
    over_cap = list(rows[-2] if len(rows) > 2 else rows[-1])  # a later correction asking far more than the cap
    over_cap[1], over_cap[6] = f"{_next_month(period)}-11T12:00:00", "999.99"
    extra.append(over_cap)
    extra[0][6] = "-5.00"  # a negative amount: MALFORMED (BAD_AMOUNT)
    not_eligible = next((oid for oid, obj in sorted(objects.items()) if not obj.eligible), None)
    if not_eligible:  # only heat suppliers get their non-eligible objects published
        extra.append(_line("X-NOT-ELIGIBLE", at, not_eligible, "DISTRICT_HEAT", 1, Decimal("10.000"), Decimal("0.40")))
    wrong_type = "ELECTRICITY_BASE" if kind != "traders_electricity" else "GAS_HEATING"
    extra.append(_line("X-SUPPORT-OFF", at, object_id, wrong_type, 1, Decimal("10.000"), Decimal("0.40")))
    extra.append(_line("X-DWELLINGS", at, object_id, support, int(base[4]) + 1, Decimal("10.000"), Decimal("0.40")))
    return extra
