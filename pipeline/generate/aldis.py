"""The ALDIS part of a generated inbox (CONTRACTS §12): traders' contract lists and a second SOPA extract that
exercises every §12 reason, next to the main SOPA extract.

Everything here is drawn from its own random stream (seeded from the inbox seed), after the rest of the inbox is
written, so adding it left every other generated file byte-identical. The register it is written for is
`policy/traders.yaml`: Latvenergo and Tet in production and sending lists, Enefit in the test environment (its
list is ignored), MVBK in production from 2026-11 but sending no list, AJ Power not registered at all.
"""

from __future__ import annotations

import calendar
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np

from pipeline.csvio import render_provider_csv
from pipeline.generate.documents import SOPA_NS, xml_open
from pipeline.generate.population import Population
from pipeline.period import format_month
from pipeline.sources.contracts import HEADER

LATVENERGO, TET, ENEFIT, MVBK, AJ_POWER = "40003032949", "40003052786", "40103243453", "40103512768", "40103399861"
SENDS_LISTS = (LATVENERGO, TET, ENEFIT)
NAMES = {LATVENERGO: 'AS "Latvenergo"', TET: 'SIA "Tet"', ENEFIT: 'SIA "Enefit"', MVBK: 'SIA "MVBK"',
         AJ_POWER: 'SIA "AJ Power"'}
ORDINARY_RECORDS = 100   # enough that the two quarantined edge cases stay under the 2 % tolerance
OTHER_CONTRACTS = 60     # per trader: household contracts of people who are not protected


def _day(month: int, day: int) -> str:
    return f"{format_month(month)}-{day:02d}"


def _last_day(month: int) -> str:
    year, number = month // 12, month % 12 + 1
    return _day(month, calendar.monthrange(year, number)[1])


def write_aldis_sample(target: Path, people: Population, period: int, seed: int,
                       sopa_contracts: list[tuple[int, str, str]], inject_bad: bool) -> None:
    """Write `contracts/<reg_no>/contracts_01.csv` and `sopa/protected_users_02.xml` under `target` (= inbox/P)."""
    rng = np.random.default_rng([seed, 12])
    lists: dict[str, list[tuple[str, str, str, str]]] = {reg_no: [] for reg_no in SENDS_LISTS}

    def listed(reg_no: str, person: int, number: str, status: str = "ACTIVE") -> None:
        if reg_no in lists:
            lists[reg_no].append((number, str(people.aris_code[person]), str(people.address[person]), status))

    for person, reg_no, number in sopa_contracts:
        listed(reg_no, person, number)
    persons = rng.choice(len(people), size=ORDINARY_RECORDS + 14, replace=len(people) < ORDINARY_RECORDS + 14)
    first, last = _day(period, 1), _last_day(period)
    records: list[dict[str, str | None]] = []
    for k in range(ORDINARY_RECORDS):
        reg_no = LATVENERGO if rng.random() < 0.75 else TET
        number = f"E-7{k:05d}"
        listed(reg_no, int(persons[k]), number)
        records.append({"reg_no": reg_no, "contract": number,
                        "from": _day(period - int(rng.integers(1, 12)), 1), "to": _day(period + 6, 28)})
    edge = [
        {"code": "999999-99999"},                                    # INVALID_PERSON_CODE
        {"status": "Procesā"},                                       # STATUS_NOT_FINAL
        {"decision": None},                                          # NO_DECISION
        {"to": _last_day(period - 1)},                               # DECISION_NOT_IN_PERIOD (ended before P)
        {"from": first, "to": first, "contract": "E-800001"},        # passes: valid only on P's first day
        {"from": last, "to": _day(period + 3, 28), "contract": "E-800002"},  # passes: valid only on P's last day
        {"contract": None},                                          # NO_CONTRACT
        {"reg_no": AJ_POWER},                                        # TRADER_NOT_CONNECTED (not registered)
        {"reg_no": ENEFIT, "contract": "N-800003"},                  # TRADER_NOT_CONNECTED (test environment only)
        {"reg_no": MVBK, "contract": "M-800004"},                    # CONTRACT_LIST_MISSING
        {"contract": "E-800005"},                                    # CONTRACT_NOT_FOUND (not in the list)
        {"contract": "E-800006"},                                    # CONTRACT_NOT_FOUND (CLOSED)
        {"contract": "E-800007", "decision": "SD-{y}-90001"},        # DUPLICATE_CONTRACT: the larger number …
    ]
    for k, case in enumerate(edge):
        records.append({"reg_no": LATVENERGO, "contract": f"E-8{k:05d}", "from": _day(period - 2, 1),
                        "to": _day(period + 6, 28), **case})
    # … and the smaller one, last in the file: it passes wherever it sits
    records.append({"reg_no": LATVENERGO, "contract": "E-800007", "decision": "SD-{y}-10099",
                    "from": _day(period - 1, 1), "to": _day(period + 5, 28)})
    for k, person in enumerate(persons[ORDINARY_RECORDS:]):
        number = records[ORDINARY_RECORDS + k]["contract"]
        if number in ("E-800001", "E-800002", "E-800007"):
            listed(LATVENERGO, int(person), str(number))
        if number == "E-800006":
            listed(LATVENERGO, int(person), str(number), "CLOSED")
        if number == "N-800003":
            listed(ENEFIT, int(person), str(number))
    for reg_no, rows in lists.items():
        for k in range(OTHER_CONTRACTS):
            listed(reg_no, int(rng.integers(0, len(people))), f"{reg_no[-3:]}-{k:06d}")
        folder = target / "contracts" / reg_no
        folder.mkdir(parents=True, exist_ok=True)
        unique = {row[0]: row for row in rows}
        (folder / "contracts_01.csv").write_bytes(render_provider_csv(HEADER, sorted(unique.values())))
    if inject_bad:  # one row of each kind the record checks know (CONTRACTS §12 contract lists)
        bad = [("E-BAD-1", str(people.aris_code[0]), "injected", "PAUSED"),   # UNKNOWN_ENUM
               ("", str(people.aris_code[0]), "injected", "ACTIVE"),          # MISSING_VALUE
               ("E-BAD-2", "12345", "injected", "ACTIVE")]                    # INVALID_ARIS_CODE
        (target / "contracts" / LATVENERGO / "zz_injected.csv").write_bytes(render_provider_csv(HEADER, bad))
    _write_sopa(target / "sopa" / "protected_users_02.xml", people, persons, period, records)


def _write_sopa(path: Path, people: Population, persons: np.ndarray, period: int,
                records: list[dict[str, str | None]]) -> None:
    year = period // 12
    with path.open("w", encoding="utf-8") as out:
        out.write(xml_open("ProtectedUsersExtract", SOPA_NS, f"{format_month(period + 1)}-01",
                           f' period="{format_month(period)}"'))
        for number, (person, record) in enumerate(zip(persons, records, strict=True), start=1):
            code = record.get("code") or people.dashed[person]
            decision = record.get("decision", f"SD-{year}-2{number:04d}")
            contract, reg_no = record.get("contract"), record["reg_no"]
            out.write(
                f"  <ProtectedUser><PersonCode>{code}</PersonCode><GivenName>{people.given[person]}</GivenName>"
                f"<Surname>{people.surname[person]}</Surname>"
                f"<ApplicationStatus>{record.get('status', 'Pabeigts')}</ApplicationStatus>"
                + (f"<DecisionNumber>{str(decision).format(y=year)}</DecisionNumber>" if decision else "")
                + f"<DecisionValidFrom>{record['from']}</DecisionValidFrom>"
                f"<DecisionValidTo>{record['to']}</DecisionValidTo>"
                + (f"<ContractNumber>{contract}</ContractNumber>" if contract else "")
                + f"<TraderName>{escape(NAMES[str(reg_no)])}</TraderName><TraderRegNo>{reg_no}</TraderRegNo>"
                f"<SupplyAddress>{escape(str(people.address[person]))}</SupplyAddress></ProtectedUser>\n")
        out.write("</ProtectedUsersExtract>\n")
