"""A real-looking ARIS tree in the current VZD open-data format: state cities, novadi (and some deleted old ones),
towns, parishes, villages, streets, buildings (numbered and named houses) and apartments."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pipeline.generate import names
from pipeline.sources.aris import (
    LATVIA,
    TYPE_BUILDING,
    TYPE_CITY,
    TYPE_MUNICIPALITY,
    TYPE_PARISH,
    TYPE_PREMISES,
    TYPE_STATE,
    TYPE_STREET,
    TYPE_VILLAGE,
)

ADMIN_HEADER = ("KODS", "TIPS_CD", "NOSAUKUMS", "VKUR_CD", "VKUR_TIPS", "APSTIPR", "APST_PAK", "STATUSS",
                "SORT_NOS", "DAT_SAK", "DAT_MOD", "DAT_BEIG", "ATRIB", "STD")
BUILDING_HEADER = ("KODS", "TIPS_CD", "STATUSS", "APSTIPR", "APST_PAK", "VKUR_CD", "VKUR_TIPS", "NOSAUKUMS",
                   "SORT_NOS", "ATRIB", "PNOD_CD", "DAT_SAK", "DAT_MOD", "DAT_BEIG", "FOR_BUILD", "PLAN_ADR",
                   "STD", "KOORD_X", "KOORD_Y", "DD_N", "DD_E")
PREMISES_HEADER = ("KODS", "TIPS_CD", "STATUSS", "APSTIPR", "APST_PAK", "VKUR_CD", "VKUR_TIPS", "NOSAUKUMS",
                   "SORT_NOS", "DAT_SAK", "DAT_MOD", "DAT_BEIG", "STD")
PARISH_STEMS = ("Vecates", "Valmieras", "Bārbeles", "Kombuļu", "Bikstu", "Īves", "Sēļu", "Ipiķu", "Rencēnu",
                "Kocēnu", "Brenguļu", "Trikātas", "Ērģemes", "Dikļu", "Zosēnu")


@dataclass(frozen=True)
class GeoScale:
    novadi: int
    deleted_novadi: int
    state_cities: int
    parishes_per_novads: int
    villages_per_parish: int
    streets_per_city: int
    streets_per_town: int
    streets_per_village: int
    buildings: int
    apartments: int
    apartments_per_building: float


@dataclass
class Locality:
    """A city, town, village or parish that streets or named houses hang under."""

    code: int
    type_code: int
    chain: str          # address text after the street/house part, e.g. "Valmiermuiža, Valmieras pag., Valmieras nov."
    postcode: str
    municipality: int   # index into Geography.municipality_codes
    urban: bool


@dataclass
class Geography:
    """What later generator steps need to know about the tree (full rows are streamed to files)."""

    municipality_codes: list[int] = field(default_factory=list)
    municipality_names: list[str] = field(default_factory=list)
    urban_municipality: list[bool] = field(default_factory=list)
    building_codes: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    building_municipality: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int32))
    building_is_multi: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=bool))
    building_urban: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=bool))
    building_address: list[str] = field(default_factory=list)
    apartment_codes: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    apartment_building: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    apartment_address: list[str] = field(default_factory=list)
    deleted_building_codes: list[int] = field(default_factory=list)


def quote_row(values: tuple[object, ...] | list[object]) -> str:
    """One row of the current VZD format: every field in `"`, a quote inside doubled, `,`-separated, CRLF."""
    return ",".join('"' + str(value).replace('"', '""') + '"' for value in values) + "\r\n"


class _Writer:
    def __init__(self, path: Path, header: tuple[str, ...]) -> None:
        self.handle = path.open("w", encoding="utf-8-sig", newline="")
        self.handle.write(quote_row(header))

    def row(self, values: tuple[object, ...] | list[object]) -> None:
        self.handle.write(quote_row(values))

    def close(self) -> None:
        self.handle.close()


def build(out: Path, scale: GeoScale, rng: np.random.Generator) -> Geography:
    """Write aw_*.csv into `out` and return the summary later steps use."""
    out.mkdir(parents=True, exist_ok=True)
    writers = {kind: _Writer(out / f"aw_{kind}.csv", ADMIN_HEADER)
               for kind in ("novads", "pilseta", "pagasts", "ciems", "iela")}
    writers["eka"] = _Writer(out / "aw_eka.csv", BUILDING_HEADER)
    writers["dziv"] = _Writer(out / "aw_dziv.csv", PREMISES_HEADER)
    codes = itertools.count(100010000)
    geo = Geography()
    localities: list[Locality] = []
    postcodes = itertools.count(1001)

    def admin(kind: str, code: int, type_code: int, name: str, parent: int, parent_type: int, atrib: str,
              std: str, status: str = "EKS", end: str = "") -> None:
        writers[kind].row((code, type_code, name, parent, parent_type, "Y", "252", status, name,
                           "1999.03.16", "2021.06.30", end, atrib, std))

    for index, (city, atvk) in enumerate(names.STATE_CITIES[: scale.state_cities]):
        code = next(codes)
        admin("pilseta", code, TYPE_CITY, city, LATVIA, TYPE_STATE, atvk, city)
        geo.municipality_codes.append(code)
        geo.municipality_names.append(city)
        geo.urban_municipality.append(True)
        localities.append(Locality(code, TYPE_CITY, city, f"LV-{next(postcodes):04d}", index, True))

    for number, stem in enumerate(names.MUNICIPALITIES[: scale.novadi]):
        code = next(codes)
        novads = f"{stem} nov."
        admin("novads", code, TYPE_MUNICIPALITY, novads, LATVIA, TYPE_STATE, f"00{40 + number:02d}000", novads)
        municipality = len(geo.municipality_codes)
        geo.municipality_codes.append(code)
        geo.municipality_names.append(novads)
        geo.urban_municipality.append(False)
        town_code = next(codes)
        town = names.VILLAGE_STEMS[number % len(names.VILLAGE_STEMS)]
        admin("pilseta", town_code, TYPE_CITY, town, code, TYPE_MUNICIPALITY, f"00{40 + number:02d}200",
              f"{town}, {novads}")
        localities.append(Locality(town_code, TYPE_CITY, f"{town}, {novads}", f"LV-{next(postcodes):04d}",
                                   municipality, True))
        for p in range(scale.parishes_per_novads):
            parish_code = next(codes)
            parish = f"{PARISH_STEMS[(number + p) % len(PARISH_STEMS)]} pag."
            admin("pagasts", parish_code, TYPE_PARISH, parish, code, TYPE_MUNICIPALITY,
                  f"00{40 + number:02d}{p + 1:02d}0", f"{parish}, {novads}")
            postcode = f"LV-{next(postcodes):04d}"
            localities.append(Locality(parish_code, TYPE_PARISH, f"{parish}, {novads}", postcode,
                                       municipality, False))
            for v in range(scale.villages_per_parish):
                village_code = next(codes)
                village = names.VILLAGE_STEMS[(number * 7 + p * 3 + v) % len(names.VILLAGE_STEMS)]
                admin("ciems", village_code, TYPE_VILLAGE, village, parish_code, TYPE_PARISH, "",
                      f"{village}, {parish}, {novads}")
                localities.append(Locality(village_code, TYPE_VILLAGE, f"{village}, {parish}, {novads}",
                                           postcode, municipality, False))
    for number in range(scale.deleted_novadi):
        admin("novads", next(codes), TYPE_MUNICIPALITY, f"Vecais {number + 1}. nov.", LATVIA, TYPE_STATE,
              f"0090{number:03d}", f"Vecais {number + 1}. nov.", status="DEL", end="2021.06.30")

    streets = _streets(localities, scale, writers["iela"], codes)
    _buildings(geo, localities, streets, scale, rng, writers)
    for writer in writers.values():
        writer.close()
    return geo


def _streets(localities: list[Locality], scale: GeoScale, writer: _Writer,
             codes: itertools.count) -> list[tuple[int, str, Locality]]:
    streets: list[tuple[int, str, Locality]] = []
    for locality in localities:
        if locality.type_code == TYPE_PARISH:
            continue
        if locality.type_code == TYPE_VILLAGE:
            count = scale.streets_per_village
        elif locality.municipality < scale.state_cities:
            count = scale.streets_per_city
        else:
            count = scale.streets_per_town
        for s in range(count):
            stem = names.STREET_STEMS[s % len(names.STREET_STEMS)]
            name = f"{stem} iela" if s < len(names.STREET_STEMS) else f"{s // len(names.STREET_STEMS) + 1}. {stem} iela"
            code = next(codes) + 200000
            writer.row((code, TYPE_STREET, name, locality.code, locality.type_code, "Y", "252", "EKS", name,
                        "1999.03.16", "2021.06.30", "", "", f"{name}, {locality.chain}"))
            streets.append((code, name, locality))
    return streets


def _buildings(geo: Geography, localities: list[Locality], streets: list[tuple[int, str, Locality]],
               scale: GeoScale, rng: np.random.Generator, writers: dict[str, _Writer]) -> None:
    multi = max(1, round(scale.apartments / scale.apartments_per_building))
    urban_streets = [s for s in streets if s[2].urban]
    rural = [loc for loc in localities if not loc.urban]
    flats_per_building = rng.multinomial(scale.apartments - multi * 2, np.full(multi, 1 / multi)) + 2
    building_code = itertools.count(101000001)
    apartment_code = itertools.count(105000001)
    house_numbers: dict[int, int] = {}
    b_codes, b_muni, b_multi, b_urban, a_codes, a_building = [], [], [], [], [], []
    for index in range(scale.buildings):
        is_multi = index < multi
        if is_multi or rng.random() < 0.55:
            street_code, street, locality = urban_streets[rng.integers(len(urban_streets))] if (
                is_multi or rng.random() < 0.7) else streets[rng.integers(len(streets))]
            number = house_numbers.get(street_code, 0) + 1
            house_numbers[street_code] = number
            label = f"{number}" if number % 17 else f"{number} k-1"
            head, parent, parent_type = f"{street} {label}", street_code, TYPE_STREET
            sort_name = f"{number:04d}" if number % 17 else f"{number:04d} k-0001"
            name = label
        else:
            locality = rural[rng.integers(len(rural))]
            name = names.HOUSE_NAMES[rng.integers(len(names.HOUSE_NAMES))]
            head, parent, parent_type, sort_name = f'"{name}"', locality.code, locality.type_code, name
        code = next(building_code)
        std = f"{head}, {locality.chain}, {locality.postcode}"
        deleted = not is_multi and rng.random() < 0.004
        status, end = ("DEL", "2019.05.02") if deleted else ("EKS", "")
        writers["eka"].row((code, TYPE_BUILDING, status, "Y", "252", parent, parent_type, name, sort_name,
                            locality.postcode, "", "1999.03.19", "2021.06.30", end, "N", "N", std,
                            "", "", "", ""))
        if deleted:
            geo.deleted_building_codes.append(code)
            continue
        b_codes.append(code)
        b_muni.append(locality.municipality)
        b_multi.append(is_multi)
        b_urban.append(locality.urban)
        geo.building_address.append(std)
        if is_multi:
            for flat in range(1, int(flats_per_building[index]) + 1):
                flat_code = next(apartment_code)
                flat_std = f"{head} - {flat}, {locality.chain}, {locality.postcode}"
                writers["dziv"].row((flat_code, TYPE_PREMISES, "EKS", "Y", "252", code, TYPE_BUILDING, flat,
                                     f"{flat:04d}", "1999.03.19", "2021.06.30", "", flat_std))
                a_codes.append(flat_code)
                a_building.append(code)
                geo.apartment_address.append(flat_std)
    geo.building_codes = np.array(b_codes, dtype=np.int64)
    geo.building_municipality = np.array(b_muni, dtype=np.int32)
    geo.building_is_multi = np.array(b_multi, dtype=bool)
    geo.building_urban = np.array(b_urban, dtype=bool)
    geo.apartment_codes = np.array(a_codes, dtype=np.int64)
    geo.apartment_building = np.array(a_building, dtype=np.int64)
