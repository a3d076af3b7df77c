"""Hand-made ALDIS inputs (CONTRACTS §8, §12): SOPA extracts, traders' contract lists and a trader register."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

from pipeline.csvio import render_provider_csv
from pipeline.sources.contracts import HEADER
from tests.builders import person_code

LATVENERGO, TET, ENEFIT, MVBK = "40003032949", "40003052786", "40103243453", "40103512768"

REGISTER = f"""traders:
  - {{reg_no: "{LATVENERGO}", name: "AS \\"Latvenergo\\" (Elektrum)", production_from: "2022-03"}}
  - {{reg_no: "{TET}", name: "SIA \\"Tet\\"", production_from: "2022-03"}}
  - {{reg_no: "{ENEFIT}", name: "SIA \\"Enefit\\"", production_from: null}}
  - {{reg_no: "{MVBK}", name: "SIA \\"MVBK\\"", production_from: "2025-01"}}
"""


def protected_user(serial: int, *, code: str | None = None, status: str = "Pabeigts",
                   decision: str | None = "SD-1", valid_from: str = "2024-11-01", valid_to: str = "2025-04-30",
                   contract: str | None = "E-1", reg_no: str | None = LATVENERGO) -> str:
    """One `<ProtectedUser>`; None leaves an optional element out. The names are fixed so a test can look for
    them in the outbox."""
    optional = {"DecisionNumber": decision, "ContractNumber": contract}
    parts = [f"<PersonCode>{code if code is not None else person_code(serial)}</PersonCode>",
             "<GivenName>Jānis</GivenName><Surname>Bērziņš</Surname>",
             f"<ApplicationStatus>{escape(status)}</ApplicationStatus>"]
    if optional["DecisionNumber"] is not None:
        parts.append(f"<DecisionNumber>{escape(decision or '')}</DecisionNumber>")
    parts.append(f"<DecisionValidFrom>{valid_from}</DecisionValidFrom><DecisionValidTo>{valid_to}</DecisionValidTo>")
    if contract is not None:
        parts.append(f"<ContractNumber>{escape(contract)}</ContractNumber>")
    parts.append("<TraderName>AS &quot;Latvenergo&quot;</TraderName>")
    if reg_no is not None:
        parts.append(f"<TraderRegNo>{reg_no}</TraderRegNo>")
    parts.append("<SupplyAddress>Brīvības iela 1, Rīga, LV-1010</SupplyAddress>")
    return "  <ProtectedUser>" + "".join(parts) + "</ProtectedUser>\n"


@dataclass
class AldisInbox:
    """Collects SOPA files, contract lists and a register, and writes them in the contract formats."""

    period: str = "2025-01"
    sopa: dict[str, list[str]] = field(default_factory=dict)  # file name -> <ProtectedUser> elements
    contracts: dict[str, dict[str, list[tuple[str, str, str, str]]]] = field(default_factory=dict)
    register: str = REGISTER

    def contract(self, reg_no: str, number: str, aris_code: str = "100000010", address: str = "Iela 1, Rīga",
                 status: str = "ACTIVE", file: str = "contracts.csv") -> None:
        self.contracts.setdefault(reg_no, {}).setdefault(file, []).append((number, aris_code, address, status))

    def write(self, root: Path) -> tuple[Path, Path]:
        """Write `<root>/inbox/<P>/…` and `<root>/traders.yaml`; returns (inbox, traders file)."""
        inbox = root / "inbox"
        base = inbox / self.period
        (base / "sopa").mkdir(parents=True, exist_ok=True)
        for name, records in self.sopa.items():
            (base / "sopa" / name).write_text(
                '<?xml version="1.0" encoding="UTF-8"?>\n<ProtectedUsersExtract xmlns="urn:eikis:sopa:protected:v1" '
                f'extractDate="2025-02-01" period="{self.period}">\n' + "".join(records)
                + "</ProtectedUsersExtract>\n", encoding="utf-8")
        for reg_no, files in self.contracts.items():
            folder = base / "contracts" / reg_no
            folder.mkdir(parents=True, exist_ok=True)
            for name, rows in files.items():
                (folder / name).write_bytes(render_provider_csv(HEADER, rows))
        traders = root / "traders.yaml"
        traders.write_text(self.register, encoding="utf-8")
        return inbox, traders
