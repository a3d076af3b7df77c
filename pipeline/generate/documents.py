"""The XML extracts (PMLP, VID, VSAA, SOPA) written from a generated population, in chunks so a national
inbox is written by several processes into several files per source."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np

from pipeline.generate import names
from pipeline.generate.population import Population
from pipeline.period import format_month

PMLP_NS = "urn:eikis:pmlp:persons:v1"
VID_NS = "urn:eikis:vid:income:v1"
VSAA_NS = "urn:eikis:vsaa:benefits:v1"
SOPA_NS = "urn:eikis:sopa:protected:v1"


def xml_open(root: str, namespace: str, extract_date: str, extra: str = "") -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<{root} xmlns="{namespace}" extractDate="{extract_date}"{extra}>\n'


def write_persons(path: Path, people: Population, rows: np.ndarray, extract_date: str) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write(xml_open("PersonsExtract", PMLP_NS, extract_date))
        for i in rows:
            out.write(
                f"  <Person><PersonCode>{people.dashed[i]}</PersonCode><GivenName>{people.given[i]}</GivenName>"
                f"<Surname>{people.surname[i]}</Surname><Status>{people.status[i]}</Status>"
                f"<Vital>{people.vital[i]}</Vital><AddressKind>{people.address_kind[i]}</AddressKind>"
                f"<AddressCode>{people.aris_code[i]}</AddressCode>"
                f"<AddressText>{escape(people.address[i])}</AddressText></Person>\n")
        out.write("</PersonsExtract>\n")


@dataclass(frozen=True)
class IncomeChunk:
    """One VID + VSAA file pair's worth of persons (picklable for a worker process)."""

    index: int
    seed: int
    period: int
    extract_date: str
    vid_path: Path
    vsaa_path: Path
    codes: np.ndarray
    given: np.ndarray
    surname: np.ndarray
    age: np.ndarray


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def write_income_chunk(chunk: IncomeChunk) -> tuple[int, int]:
    """Write one VID and one VSAA file; returns (VID records, VSAA months)."""
    rng = np.random.default_rng([chunk.seed, chunk.index])
    period = chunk.period
    n = len(chunk.codes)
    adult = (chunk.age >= 18) & (chunk.age < 65)
    senior = chunk.age >= 65
    employed = (adult & (rng.random(n) < 0.86)) | (senior & (rng.random(n) < 0.15))
    wage = np.exp(rng.normal(np.log(880), 0.6, n)).astype(np.int64) * 100 + rng.integers(0, 100, n)
    pension = np.exp(rng.normal(np.log(520), 0.3, n)).astype(np.int64) * 100 + rng.integers(0, 100, n)
    vid_records = vsaa_months = 0
    doc = chunk.index * 10**8
    year = period // 12
    with chunk.vid_path.open("w", encoding="utf-8") as vid:
        vid.write(xml_open("IncomeExtract", VID_NS, chunk.extract_date))
        for i in range(n):
            person = f"<PersonCode>{chunk.codes[i]}</PersonCode><GivenName>{chunk.given[i]}</GivenName>" \
                     f"<Surname>{chunk.surname[i]}</Surname>"
            documents: list[tuple[str, int, int, int, int]] = []
            if employed[i]:
                first = period - 24 + (int(rng.integers(0, 12)) if rng.random() < 0.1 else 0)
                for month in range(first, period):
                    documents.append(("EMPLOYER_NOTICE", month, month, int(wage[i] * rng.uniform(0.95, 1.05)),
                                      month + 1))
            roll = rng.random()
            if roll < 0.06:
                for back in (1, 2):
                    start = (year - back) * 12
                    documents.append(("ANNUAL_DECLARATION", start, start + 11, int(rng.integers(30000, 600000)),
                                      start + 15))
            elif roll < 0.09:
                for quarter in range(period - 24 - (period % 3), period - 2, 3):
                    documents.append(("MICROENTERPRISE_DECLARATION", quarter, quarter + 2,
                                      int(rng.integers(20000, 300000)), quarter + 4))
            elif roll < 0.11:
                start = period - int(rng.integers(2, 24))
                documents.append(("OTHER", start, start + int(rng.integers(0, 6)), int(rng.integers(5000, 90000)),
                                  start + 2))
            for kind, start, end, cents, submitted in documents:
                doc += 1
                prefix = "DDZ" if kind == "EMPLOYER_NOTICE" else "GID"
                document_id = f"{prefix}-{start // 12}-{doc:010d}"
                versions = [(cents, 15)]
                if rng.random() < 0.004:
                    versions.append((cents + int(rng.integers(-cents // 4, cents // 4 + 1)), 40))
                for amount, day in versions:
                    vid_records += 1
                    vid.write(
                        f"  <Income><DocumentId>{document_id}</DocumentId>{person}<DocumentType>{kind}</DocumentType>"
                        f"<PeriodStart>{format_month(start)}</PeriodStart><PeriodEnd>{format_month(end)}</PeriodEnd>"
                        f"<AmountEUR>{_money(max(0, amount))}</AmountEUR>"
                        f"<SubmittedAt>{_timestamp(submitted, day)}</SubmittedAt></Income>\n")
        vid.write("</IncomeExtract>\n")
    with chunk.vsaa_path.open("w", encoding="utf-8") as vsaa:
        vsaa.write(xml_open("BenefitsExtract", VSAA_NS, chunk.extract_date))
        benefit = rng.random(n) < 0.12
        for i in np.flatnonzero(senior | benefit):
            months = range(period - 12, period) if senior[i] else sorted(
                set(rng.integers(period - 12, period, size=int(rng.integers(1, 13))).tolist()))
            base = int(pension[i]) if senior[i] else int(rng.integers(5000, 40000))
            lines = "".join(f'<Month period="{format_month(m)}">{_money(base)}</Month>' for m in months)
            vsaa_months += len(months)
            vsaa.write(f"  <Person><PersonCode>{chunk.codes[i]}</PersonCode><GivenName>{chunk.given[i]}</GivenName>"
                       f"<Surname>{chunk.surname[i]}</Surname>{lines}</Person>\n")
        vsaa.write("</BenefitsExtract>\n")
    return vid_records, vsaa_months


def _timestamp(month: int, day: int) -> str:
    extra_month, day = divmod(day - 1, 28)
    return f"{format_month(month + extra_month)}-{day + 1:02d}T10:00:00"


def write_protected_users(path: Path, people: Population, rows: np.ndarray, period: int, extract_date: str,
                          rng: np.random.Generator) -> list[tuple[int, str, str]]:
    """Write the SOPA extract; returns (person row, trader reg no, contract number) of each record with a contract,
    so the traders' contract lists can hold them (the ALDIS sample, `pipeline.generate.aldis`)."""
    written: list[tuple[int, str, str]] = []
    with path.open("w", encoding="utf-8") as out:
        out.write(xml_open("ProtectedUsersExtract", SOPA_NS, extract_date, f' period="{format_month(period)}"'))
        for number, i in enumerate(rows, start=1):
            trader, reg_no, _ = names.ELECTRICITY_TRADERS[int(rng.integers(0, 3))]
            status = "Pabeigts" if rng.random() < 0.9 else "Procesā"
            number_text = f"E-{int(rng.integers(100000, 999999))}" if rng.random() < 0.9 else ""
            contract = f"<ContractNumber>{number_text}</ContractNumber>" if number_text else ""
            if number_text:
                written.append((int(i), reg_no, number_text))
            start = format_month(period - int(rng.integers(1, 6)))
            out.write(
                f"  <ProtectedUser><PersonCode>{people.dashed[i]}</PersonCode><GivenName>{people.given[i]}</GivenName>"
                f"<Surname>{people.surname[i]}</Surname><ApplicationStatus>{status}</ApplicationStatus>"
                f"<DecisionNumber>SD-{period // 12}-{number:05d}</DecisionNumber>"
                f"<DecisionValidFrom>{start}-01</DecisionValidFrom>"
                f"<DecisionValidTo>{format_month(period + 5)}-28</DecisionValidTo>{contract}"
                f"<TraderName>{escape(trader)}</TraderName><TraderRegNo>{reg_no}</TraderRegNo>"
                f"<SupplyAddress>{escape(people.address[i])}</SupplyAddress></ProtectedUser>\n")
        out.write("</ProtectedUsersExtract>\n")
    return written
