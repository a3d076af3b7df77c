"""Small hand-made inboxes in the exact contract formats, for tests with hand-computed expectations."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

from pipeline.csvio import render_provider_csv
from pipeline.generate.geography import quote_row
from pipeline.quality.personcode import with_check_digit
from pipeline.sources.connections import HEADERS

ARIS_HEADER = ("KODS", "TIPS_CD", "STATUSS", "VKUR_CD", "VKUR_TIPS", "NOSAUKUMS", "ATRIB", "DAT_BEIG", "STD")
ARIS_FILES = {104: "aw_pilseta.csv", 105: "aw_pagasts.csv", 106: "aw_ciems.csv", 107: "aw_iela.csv",
              108: "aw_eka.csv", 109: "aw_dziv.csv", 113: "aw_novads.csv"}


def person_code(serial: int) -> str:
    """A valid old-format code (born 1980) written with the dash, unique per serial (0-999)."""
    digits = with_check_digit(f"150380{1}{serial:03d}")
    return f"{digits[:6]}-{digits[6:]}"


@dataclass
class InboxBuilder:
    """Collects records and writes `<root>/<period>/…` in the contract formats."""

    period: str
    aris: list[tuple[object, ...]] = field(default_factory=list)
    persons: list[dict[str, str]] = field(default_factory=list)
    income: list[dict[str, str]] = field(default_factory=list)
    benefits: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    connections: dict[str, list[tuple[str, ...]]] = field(default_factory=lambda: {"electricity": [], "gas": [],
                                                                                   "heat": []})
    prices: list[tuple[str, str, str, str]] = field(default_factory=list)
    vid_files: int = 1                  # >1: income documents dealt round-robin into income_01.xml, income_02.xml …

    def address(self, code: int, type_code: int, parent: int, parent_type: int, name: str, std: str,
                status: str = "EKS", atrib: str = "") -> int:
        self.aris.append((code, type_code, status, parent, parent_type, name, atrib, "", std))
        return code

    def standard_tree(self) -> dict[str, int]:
        """Rīga (state city) with a street, and a novads with a parish; returns their codes."""
        self.address(100003003, 104, 100000000, 101, "Rīga", "Rīga", atrib="0001000")
        self.address(100306223, 107, 100003003, 104, "Krišjāņa Barona iela", "Krišjāņa Barona iela, Rīga")
        self.address(100016647, 113, 100000000, 101, "Valmieras nov.", "Valmieras nov.", atrib="0054000")
        self.address(100015122, 105, 100016647, 113, "Vecates pag.", "Vecates pag., Valmieras nov.")
        return {"riga": 100003003, "street": 100306223, "novads": 100016647, "parish": 100015122}

    def house(self, code: int, name: str, parish: int = 100015122) -> int:
        return self.address(code, 108, parish, 105, name, f'"{name}", Vecates pag., Valmieras nov., LV-4211')

    def building(self, code: int, number: str, street: int = 100306223) -> int:
        return self.address(code, 108, street, 107, number, f"Krišjāņa Barona iela {number}, Rīga, LV-1050")

    def apartment(self, code: int, building: int, number: str) -> int:
        return self.address(code, 109, building, 108, number, f"Krišjāņa Barona iela 1 - {number}, Rīga, LV-1050")

    def person(self, serial: int, aris_code: int | str, status: str = "ACTIVE", vital: str = "ALIVE",
               kind: str = "DECLARED", code: str | None = None) -> str:
        code = code or person_code(serial)
        self.persons.append({"PersonCode": code, "GivenName": f"Vārds{serial}", "Surname": f"Uzvārds{serial}",
                             "Status": status, "Vital": vital, "AddressKind": kind, "AddressCode": str(aris_code),
                             "AddressText": "teksts"})
        return code

    def document(self, code: str, amount: str, start: str, end: str | None = None, kind: str = "EMPLOYER_NOTICE",
                 document_id: str | None = None, submitted: str = "2024-12-15T10:00:00") -> None:
        self.income.append({"DocumentId": document_id or f"DOC-{len(self.income) + 1:06d}",
                            "PersonCode": code.replace("-", ""), "DocumentType": kind, "PeriodStart": start,
                            "PeriodEnd": end or start, "AmountEUR": amount, "SubmittedAt": submitted})

    def monthly(self, code: str, amount: str, months: list[str]) -> None:
        for month in months:
            self.document(code, amount, month)

    def benefit(self, code: str, amount: str, months: list[str]) -> None:
        self.benefits.setdefault(code.replace("-", ""), []).extend((month, amount) for month in months)

    def connection(self, commodity: str, object_id: str, aris_code: int | str, kind: str = "INDIVIDUAL",
                   status: str = "ACTIVE", company: tuple[str, str] = ('AS "Latvenergo"', "40003032949"),
                   address: str = "adrese") -> None:
        self.connections[commodity].append((object_id, str(aris_code), address, kind, company[0], company[1], status))

    def price(self, month: str, electricity: str, gas: str, woodchip: str) -> None:
        self.prices += [(month, "ELECTRICITY", electricity, "Nord Pool"), (month, "GAS", gas, "TTF"),
                        (month, "WOODCHIP", woodchip, "Baltpool")]

    def write(self, root: Path) -> Path:
        base = root / self.period
        (base / "aris").mkdir(parents=True, exist_ok=True)
        for type_code, name in ARIS_FILES.items():
            rows = [row for row in self.aris if row[1] == type_code]
            with (base / "aris" / name).open("w", encoding="utf-8-sig", newline="") as handle:
                handle.write(quote_row(ARIS_HEADER))
                for row in rows:
                    handle.write(quote_row(row))
        self._xml(base / "pmlp" / "persons.xml", "PersonsExtract", "urn:eikis:pmlp:persons:v1", "Person",
                  self.persons)
        for name, rows in self.vid_extracts().items():
            self._xml(base / "vid" / name, "IncomeExtract", "urn:eikis:vid:income:v1", "Income", rows)
        (base / "vsaa").mkdir(parents=True, exist_ok=True)
        people = "".join(
            f"<Person><PersonCode>{code}</PersonCode>"
            + "".join(f'<Month period="{month}">{amount}</Month>' for month, amount in months) + "</Person>\n"
            for code, months in self.benefits.items())
        (base / "vsaa" / "benefits.xml").write_text(
            f'<BenefitsExtract xmlns="urn:eikis:vsaa:benefits:v1" extractDate="2025-01-31">\n{people}'
            "</BenefitsExtract>\n", encoding="utf-8")
        for commodity, rows in self.connections.items():
            folder = base / "connections" / commodity
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "objects.csv").write_bytes(render_provider_csv(HEADERS[commodity], rows))
        (base / "prices").mkdir(parents=True, exist_ok=True)
        (base / "prices" / "prices.csv").write_bytes(
            render_provider_csv(("month", "commodity", "price_eur_mwh", "source"), self.prices))
        return base

    def vid_extracts(self) -> dict[str, list[dict[str, str]]]:
        """The VID files `write` produces: file name -> its records in order."""
        if self.vid_files <= 1:
            return {"income.xml": self.income}
        return {f"income_{n + 1:02d}.xml": self.income[n::self.vid_files] for n in range(self.vid_files)}

    @staticmethod
    def _xml(path: Path, root: str, namespace: str, record: str, rows: list[dict[str, str]]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        body = "".join(
            f"<{record}>" + "".join(f"<{k}>{escape(v)}</{k}>" for k, v in row.items()) + f"</{record}>\n"
            for row in rows)
        path.write_text(f'<{root} xmlns="{namespace}" extractDate="2025-01-31">\n{body}</{root}>\n',
                        encoding="utf-8")


def months(first: str, count: int) -> list[str]:
    year, month = int(first[:4]), int(first[5:])
    result = []
    for _ in range(count):
        result.append(f"{year:04d}-{month:02d}")
        month += 1
        if month == 13:
            year, month = year + 1, 1
    return result
