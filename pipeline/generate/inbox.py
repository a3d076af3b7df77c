"""`eikis generate`: a full inbox for period P in the contract formats, deterministic for a seed.

`sample` (≈500 persons, committed under sample_data/) and `national` (≈1.9 M persons, ≈25 M VID records) share
one code path; `fraction` scales national down for the benchmark's 10 % and 50 % runs. With `inject_bad`, each
source gets an extra file holding one bad record of every kind the record checks know, so quarantine and
address errors can be seen working on real files.
"""

from __future__ import annotations

import shutil
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from pipeline.csvio import render_provider_csv
from pipeline.generate import aldis, documents, geography, population, supply
from pipeline.generate.geography import GeoScale
from pipeline.logs import get_logger
from pipeline.period import format_month, parse_month
from pipeline.quality import personcode
from pipeline.sources.connections import HEADERS

log = get_logger("generate")


@dataclass(frozen=True)
class Scale:
    geo: GeoScale
    persons: int
    objects: dict[str, int]
    files: int  # files per big source (PMLP, VID, VSAA, connection lists)

    def scaled(self, fraction: float) -> Scale:
        """National shape at a fraction of its size (administrative units stay whole)."""
        if fraction >= 1:
            return self
        geo = replace(self.geo, buildings=int(self.geo.buildings * fraction),
                      apartments=int(self.geo.apartments * fraction),
                      streets_per_city=max(5, int(self.geo.streets_per_city * fraction)),
                      streets_per_town=max(3, int(self.geo.streets_per_town * fraction)))
        return Scale(geo=geo, persons=int(self.persons * fraction),
                     objects={k: int(v * fraction) for k, v in self.objects.items()},
                     files=max(2, int(self.files * fraction)))


SCALES = {
    "sample": Scale(
        geo=GeoScale(novadi=4, deleted_novadi=2, state_cities=2, parishes_per_novads=2, villages_per_parish=1,
                     streets_per_city=6, streets_per_town=3, streets_per_village=1, buildings=170,
                     apartments=240, apartments_per_building=12.0),
        persons=500,
        objects={"electricity": 300, "gas": 25, "heat": 40},
        files=2,
    ),
    "national": Scale(
        geo=GeoScale(novadi=36, deleted_novadi=110, state_cities=10, parishes_per_novads=13, villages_per_parish=12,
                     streets_per_city=600, streets_per_town=150, streets_per_village=2, buildings=610_000,
                     apartments=964_000, apartments_per_building=20.0),
        persons=1_900_000,
        objects={"electricity": 900_000, "gas": 56_000, "heat": 78_000},
        files=24,
    ),
}


def generate_inbox(period: str, out: Path, scale: str = "sample", seed: int = 1, inject_bad: bool = False,
                   fraction: float = 1.0, workers: int = 2) -> Path:
    """Write `<out>/<period>/…` and return that folder; an existing folder for the period is replaced."""
    started = time.perf_counter()
    plan = SCALES[scale].scaled(fraction)
    target = Path(out) / period
    if target.exists():
        shutil.rmtree(target)
    p = parse_month(period)
    extract_date = f"{format_month(p)}-01"
    rng = np.random.default_rng(seed)

    geo = geography.build(target / "aris", plan.geo, rng)
    log.info("generate: ARIS tree with %d buildings, %d apartments", len(geo.building_codes), len(geo.apartment_codes))
    people = population.build(geo, plan.persons, rng)
    log.info("generate: %d persons", len(people))

    (target / "pmlp").mkdir(parents=True)
    for part, rows in enumerate(np.array_split(np.arange(len(people)), plan.files)):
        documents.write_persons(target / "pmlp" / f"persons_{part + 1:02d}.xml", people, rows, extract_date)

    (target / "vid").mkdir()
    (target / "vsaa").mkdir()
    chunks = [
        documents.IncomeChunk(
            index=part, seed=seed, period=p, extract_date=extract_date,
            vid_path=target / "vid" / f"income_{part + 1:02d}.xml",
            vsaa_path=target / "vsaa" / f"benefits_{part + 1:02d}.xml",
            codes=people.codes[rows], given=people.given[rows], surname=people.surname[rows], age=people.age[rows])
        for part, rows in enumerate(np.array_split(np.arange(len(people)), plan.files))
    ]
    if workers > 1 and len(chunks) > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            counts = list(pool.map(documents.write_income_chunk, chunks))
    else:
        counts = [documents.write_income_chunk(chunk) for chunk in chunks]
    log.info("generate: %d VID records, %d VSAA months", sum(c[0] for c in counts), sum(c[1] for c in counts))

    supply.write_connections(target / "connections", geo, plan.objects, rng, max(1, plan.files // 4))
    supply.write_prices(target / "prices" / "monthly_prices.csv", p, rng)
    (target / "sopa").mkdir()
    protected = np.sort(rng.choice(len(people), size=max(5, len(people) // 100), replace=False))
    sopa_contracts = documents.write_protected_users(target / "sopa" / "protected_users.xml", people, protected, p,
                                                     f"{format_month(p)}-01", rng)
    if inject_bad:
        inject_bad_records(target, people, extract_date)
    aldis.write_aldis_sample(target, people, p, seed, sopa_contracts, inject_bad)
    log.info("generate: %s inbox for %s written to %s in %.1f s", scale, period, target,
             time.perf_counter() - started)
    return target


def inject_bad_records(target: Path, people: population.Population, extract_date: str) -> None:
    """One extra file per source with one bad record of each kind (CONTRACTS §3-§6 record rules)."""
    first = 0
    person = people.dashed[first]
    address = people.aris_code[first]
    valid = personcode.with_check_digit("1507851234")
    bad_check = f"{valid[:6]}-{valid[6:10]}{(int(valid[10]) + 1) % 10}"
    stranger = personcode.with_check_digit("2808881234")
    persons_xml = "".join(
        f"  <Person><PersonCode>{code}</PersonCode><GivenName>Inga</GivenName><Surname>Kļava</Surname>"
        f"<Status>{status}</Status><Vital>ALIVE</Vital><AddressKind>DECLARED</AddressKind>"
        f"<AddressCode>{aris}</AddressCode><AddressText>injected</AddressText></Person>\n"
        for code, status, aris in (
            ("999999-99999", "ACTIVE", address),          # INVALID_PERSON_CODE
            (bad_check, "ACTIVE", address),                # INVALID_PERSON_CODE (check digit)
            (f"{stranger[:6]}-{stranger[6:]}", "ACTIVE", "100000001"),  # UNKNOWN_ADDRESS
            (person, "ACTIVE", address),                   # DUPLICATE_PERSON of person 0
            ("320000-00007", "ACTIV", address),            # UNKNOWN_ENUM
        )
    )
    (target / "pmlp" / "zz_injected.xml").write_text(
        documents.xml_open("PersonsExtract", documents.PMLP_NS, extract_date) + persons_xml + "</PersonsExtract>\n",
        encoding="utf-8")
    code = people.codes[3]
    income_xml = "".join(
        f"  <Income><DocumentId>BAD-{n}</DocumentId><PersonCode>{code}</PersonCode><DocumentType>{kind}</DocumentType>"
        f"<PeriodStart>{start}</PeriodStart><PeriodEnd>{end}</PeriodEnd><AmountEUR>{amount}</AmountEUR>"
        f"<SubmittedAt>2025-01-15T10:00:00</SubmittedAt></Income>\n"
        for n, (kind, start, end, amount) in enumerate((
            ("EMPLOYER_NOTICE", "2024-05", "2024-05", "-10.00"),   # NEGATIVE_AMOUNT
            ("EMPLOYER_NOTICE", "2024-13", "2024-13", "10.00"),    # BAD_PERIOD
            ("EMPLOYER_NOTICE", "2024-06", "2024-04", "10.00"),    # BAD_PERIOD (end before start)
            ("BONUS", "2024-05", "2024-05", "10.00"),              # UNKNOWN_ENUM
            ("EMPLOYER_NOTICE", "2024-05", "2024-05", "10.123"),   # BAD_AMOUNT
        ))
    )
    (target / "vid" / "zz_injected.xml").write_text(
        documents.xml_open("IncomeExtract", documents.VID_NS, extract_date) + income_xml + "</IncomeExtract>\n",
        encoding="utf-8")
    benefits_xml = (
        f'  <Person><PersonCode>{people.codes[4]}</PersonCode><Month period="2024-02">100.00</Month>'
        f'<Month period="2024-02">100.00</Month><Month period="2024-03">-5.00</Month>'
        f'<Month period="2024-99">5.00</Month></Person>\n'
    )
    (target / "vsaa" / "zz_injected.xml").write_text(
        documents.xml_open("BenefitsExtract", documents.VSAA_NS, extract_date) + benefits_xml + "</BenefitsExtract>\n",
        encoding="utf-8")
    rows = [
        ("X-BAD-1", address, "injected", "SHARED", 'AS "Latvenergo"', "40003032949", "ACTIVE"),   # UNKNOWN_ENUM
        ("X-BAD-2", address, "injected", "INDIVIDUAL", 'AS "Latvenergo"', "4000303", "ACTIVE"),   # INVALID_REG_NO
        ("X-BAD-3", address, "injected", "INDIVIDUAL", 'AS "Latvenergo"', "40003032949", "ACTIVE"),
        ("X-BAD-3", address, "injected", "INDIVIDUAL", 'AS "Latvenergo"', "40003032949", "ACTIVE"),  # DUPLICATE_OBJECT
        ("X-BAD-4", supply.UNKNOWN_CODE, "nowhere", "INDIVIDUAL", 'AS "Latvenergo"', "40003032949", "ACTIVE"),
    ]
    injected = target / "connections" / "electricity" / "zz_injected.csv"
    injected.write_bytes(render_provider_csv(HEADERS["electricity"], rows))
