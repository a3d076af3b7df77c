"""A small hand-made claims month (CONTRACTS §13) shared by the claims flow and DAG tests.

Expected values are computed by hand from the §13 rules and the policy's rates (ELECTRICITY_BASE 0.10 €/kWh up to
100 kWh per dwelling, ELECTRICITY_HEATING 0.05, DISTRICT_HEAT 0.04, PROTECTED_USER 0.10 up to 100 kWh).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

P = "2026-01"
TRADER = "traders_electricity/40000000001"
HEAT = "heat/40000000003"
CLAIM_HEADER = "claim_id;submitted_at;object_id;support_type;dwellings;quantity_kwh;amount_eur"
SUPPLIER_HEADER = "object_id;aris_code;address;connection_kind;eligible;eligible_dwellings;support_types"

TRADER_CLAIMS = [
    "A1;2026-02-03T10:00:00;E1;ELECTRICITY_BASE;1;80.000;8.00",        # cap 0.10 x 80 = 8.00: ACCEPTED
    "A1;2026-02-02T10:00:00;E1;ELECTRICITY_BASE;1;80.000;9.99",        # earlier version, replaced
    "A2;2026-02-03T10:00:00;E1;ELECTRICITY_HEATING;1;0.300;0.05",      # cap round(0.015) = 0.02: REDUCED
    "A3;2026-02-03T10:00:00;E2;ELECTRICITY_BASE;3;450.000;40.00",      # cap 0.10 x min(450, 300) = 30.00
    "A4;2026-02-03T10:00:00;E2;ELECTRICITY_BASE;1;10.000;1.00",        # same object+type as A3: DUPLICATE
    "A5;2026-02-03T10:00:00;E9;ELECTRICITY_BASE;1;10.000;1.00",        # UNKNOWN_OBJECT
    "A6;2026-02-03T10:00:00;E1;GAS_HEATING;1;10.000;0.30",             # SUPPORT_NOT_ON
    "A7;2026-02-03T10:00:00;E1;ELECTRICITY_BASE;2;10.000;1.00",        # 2 > 1 dwelling: DWELLINGS_EXCEEDED
    "A8;2026-02-03T10:00:00;K-1;PROTECTED_USER;1;150.000;12.00",       # cap 0.10 x min(150, 100) = 10.00
    "A9;2026-02-03T10:00:00;E1;ELECTRICITY_BASE;1;10.000;-1.00",       # negative: MALFORMED, claimed empty
    "A11;2026-02-03T10:00:00;E1;ELECTRICITY_HEATING;1;1.000;0.01",     # two versions at the same time:
    "A11;2026-02-03T10:00:00;E1;ELECTRICITY_HEATING;1;1.000;0.02",     # CONFLICTING_CORRECTION
]
HEAT_CLAIMS = [
    "H-1;2026-02-03T10:00:00;H1;DISTRICT_HEAT;2;250.125;10.01",        # cap 0.04 x 250.125 = 10.005 -> 10.01
    "H-2;2026-02-03T10:00:00;H1;DECENTRALISED_FUEL;2;10.000;1.00",     # NOT_CLAIMABLE (municipalities)
    "H-3;2026-02-03T10:00:00;H2;DISTRICT_HEAT;1;10.000;0.40",          # NOT_ELIGIBLE
    "H-4;2026-02-03T10:00:00;H1;PROTECTED_USER;1;10.000;1.00",         # NOT_CLAIMABLE (not electricity)
    "H-5;2026-02-03T10:00:00;H1;DISTRICT_HEAT;3;10.000;0.40",          # 3 > 2: DWELLINGS_EXCEEDED
    "H-6;2026-02-03T10:00:00;H1;WOOD;1;1.000;0.01",                    # unknown type: MALFORMED, claimed 0.01
]
EXPECTED_TRADER_RESULT = """claim_id;object_id;support_type;status;reason;claimed_eur;accepted_eur;correction_set
A1;E1;ELECTRICITY_BASE;ACCEPTED;;8.00;8.00;
A11;;;REJECTED;MALFORMED;;0.00;
A2;E1;ELECTRICITY_HEATING;REDUCED;OVER_CAP;0.05;0.02;
A3;E2;ELECTRICITY_BASE;REDUCED;OVER_CAP;40.00;30.00;
A4;E2;ELECTRICITY_BASE;REJECTED;DUPLICATE_CLAIM;1.00;0.00;
A5;E9;ELECTRICITY_BASE;REJECTED;UNKNOWN_OBJECT;1.00;0.00;
A6;E1;GAS_HEATING;REJECTED;SUPPORT_NOT_ON;0.30;0.00;
A7;E1;ELECTRICITY_BASE;REJECTED;DWELLINGS_EXCEEDED;1.00;0.00;
A8;K-1;PROTECTED_USER;REDUCED;OVER_CAP;12.00;10.00;
A9;E1;ELECTRICITY_BASE;REJECTED;MALFORMED;;0.00;
"""
EXPECTED_HEAT_RESULT = """claim_id;object_id;support_type;status;reason;claimed_eur;accepted_eur;correction_set
H-1;H1;DISTRICT_HEAT;ACCEPTED;;10.01;10.01;
H-2;H1;DECENTRALISED_FUEL;REJECTED;NOT_CLAIMABLE;1.00;0.00;
H-3;H2;DISTRICT_HEAT;REJECTED;NOT_ELIGIBLE;0.40;0.00;
H-4;H1;PROTECTED_USER;REJECTED;NOT_CLAIMABLE;1.00;0.00;
H-5;H1;DISTRICT_HEAT;REJECTED;DWELLINGS_EXCEEDED;0.40;0.00;
H-6;H1;;REJECTED;MALFORMED;0.01;0.00;
"""
# trader claimed 8 + 0.05 + 40 + 1 + 1 + 0.30 + 1 + 12 = 63.35, accepted 8 + 0.02 + 30 + 10 = 48.02;
# heat claimed 10.01 + 1 + 0.40 + 1 + 0.40 + 0.01 = 12.82, accepted 10.01.
EXPECTED_PAYOUT = """supplier;claimed_eur;accepted_eur;previously_paid_eur;payout_eur
heat/40000000003;12.82;10.01;0.00;10.01
traders_electricity/40000000001;63.35;48.02;0.00;48.02
"""


def _publish(root: Path, files: dict[str, str], manifest_files_as_mapping: bool = False) -> None:
    folder = root / P
    entries = []
    for relative, body in files.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body, encoding="utf-8")
        entries.append({"path": relative, "rows": body.count("\n") - 1,
                        "sha256": hashlib.sha256(body.encode()).hexdigest()})
    listed = {e["path"]: {"rows": e["rows"], "sha256": e["sha256"]} for e in entries} \
        if manifest_files_as_mapping else entries
    (folder / "manifest.json").write_text(json.dumps({"period": P, "run_id": f"{P}-x", "files": listed}),
                                          encoding="utf-8")


def build_month(tmp_path: Path) -> dict[str, Path]:
    """A published §10 outbox, a §12 outbox (its manifest in the {path: {...}} shape) and the claims of P."""
    _publish(tmp_path / "published", {
        f"{TRADER}/eligibility.csv": SUPPLIER_HEADER + "\n"
        "E1;101;Brīvības iela 1;INDIVIDUAL;1;1;ELECTRICITY_BASE|ELECTRICITY_HEATING\n"
        "E2;102;Skolas iela 2;COMMON;1;3;ELECTRICITY_BASE\n",
        f"{HEAT}/eligibility.csv": SUPPLIER_HEADER + "\n"
        "H1;201;Rīgas iela 3;COMMON;1;2;DISTRICT_HEAT|DECENTRALISED_FUEL\n"
        "H2;202;Rīgas iela 4;INDIVIDUAL;0;0;\n",
    })
    _publish(tmp_path / "aldis", {
        "traders/40000000001/protected_contracts.csv":
            "contract_number;aris_code;address;decision_valid_from;decision_valid_to\n"
            "K-1;101;Brīvības iela 1;2025-11-01;2026-04-30\n",
    }, manifest_files_as_mapping=True)
    for supplier, lines in ((TRADER, TRADER_CLAIMS), (HEAT, HEAT_CLAIMS)):
        folder = tmp_path / "claims" / P / supplier
        folder.mkdir(parents=True)
        (folder / "claims.csv").write_text("\n".join([CLAIM_HEADER, *lines]) + "\n", encoding="utf-8")
    return {"root": tmp_path, "claims": tmp_path / "claims", "published": tmp_path / "published",
            "aldis": tmp_path / "aldis", "outbox": tmp_path / "outbox"}




def add_published_row(root: Path, relative: str, row: str) -> None:
    """Append one row to a published file of P and keep its manifest entry true (a re-published month)."""
    folder = root / P
    path = folder / relative
    path.write_text(path.read_text(encoding="utf-8") + row + "\n", encoding="utf-8")
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    for entry in manifest["files"]:
        if entry["path"] == relative:
            entry["rows"] += 1
            entry["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
