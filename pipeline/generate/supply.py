"""Connection lists (electricity, gas, heat) and exchange prices for a generated geography."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pipeline.csvio import render_provider_csv
from pipeline.generate import names
from pipeline.generate.geography import Geography
from pipeline.period import format_month
from pipeline.sources.connections import HEADERS

UNKNOWN_CODE = "199999999"


def _weighted(traders: tuple[tuple[str, str, float], ...], size: int, rng: np.random.Generator) -> np.ndarray:
    shares = np.array([share for _, _, share in traders])
    return rng.choice(len(traders), size=size, p=shares / shares.sum())


def _dwellings(geo: Geography) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """All dwellings (houses and apartments): code, address, building code, municipality index."""
    houses = ~geo.building_is_multi
    building_index = {code: i for i, code in enumerate(geo.building_codes.tolist())}
    flat_building_rows = np.array([building_index[b] for b in geo.apartment_building.tolist()], dtype=np.int64)
    codes = np.concatenate([geo.building_codes[houses], geo.apartment_codes])
    addresses = np.concatenate([np.array(geo.building_address, dtype=object)[houses],
                                np.array(geo.apartment_address, dtype=object)])
    buildings = np.concatenate([geo.building_codes[houses], geo.apartment_building])
    municipality = np.concatenate([geo.building_municipality[houses],
                                   geo.building_municipality[flat_building_rows]])
    return codes, addresses, buildings, municipality


def write_connections(folder: Path, geo: Geography, objects: dict[str, int], rng: np.random.Generator,
                      files_per_commodity: int) -> None:
    """Write the three commodities' lists; targets are object counts per commodity."""
    codes, addresses, buildings, municipality = _dwellings(geo)
    multi_codes = geo.building_codes[geo.building_is_multi]
    multi_address = np.array(geo.building_address, dtype=object)[geo.building_is_multi]
    multi_urban = geo.building_urban[geo.building_is_multi]

    common_electricity = rng.random(len(multi_codes)) < 0.08
    common_electricity[:1] = True  # every inbox shows indirect billing at least once
    served_by_common = np.isin(buildings, multi_codes[common_electricity])
    individual = np.flatnonzero(~served_by_common)
    take = min(len(individual), max(0, objects["electricity"] - int(common_electricity.sum())))
    individual = np.sort(rng.choice(individual, size=take, replace=False))
    rows = [(codes[i], addresses[i], "INDIVIDUAL") for i in individual]
    rows += [(multi_codes[i], multi_address[i], "COMMON") for i in np.flatnonzero(common_electricity)]
    _write_commodity(folder / "electricity", "E", rows, names.ELECTRICITY_TRADERS, rng, files_per_commodity, geo)

    gas_common = np.flatnonzero(rng.random(len(multi_codes)) < 0.03)
    gas_take = min(len(codes), max(0, objects["gas"] - len(gas_common)))
    gas_individual = np.sort(rng.choice(len(codes), size=gas_take, replace=False))
    rows = [(codes[i], addresses[i], "INDIVIDUAL") for i in gas_individual]
    rows += [(multi_codes[i], multi_address[i], "COMMON") for i in gas_common]
    _write_commodity(folder / "gas", "G", rows, names.GAS_TRADERS, rng, files_per_commodity, geo)

    heated = np.flatnonzero(multi_urban & (rng.random(len(multi_codes)) < 0.8))
    urban_houses = np.flatnonzero(~geo.building_is_multi & geo.building_urban)
    house_take = min(len(urban_houses), max(0, objects["heat"] - len(heated)))
    houses = np.sort(rng.choice(urban_houses, size=house_take, replace=False))
    multi_rows = np.flatnonzero(geo.building_is_multi)[heated]
    heat_rows = [(int(geo.building_codes[i]), geo.building_address[i], "COMMON", int(geo.building_municipality[i]))
                 for i in multi_rows]
    heat_rows += [(int(geo.building_codes[i]), geo.building_address[i], "INDIVIDUAL",
                   int(geo.building_municipality[i])) for i in houses]
    _write_heat(folder / "heat", heat_rows, rng, geo)


def _status(rng: np.random.Generator) -> str:
    return "DISCONNECTED" if rng.random() < 0.02 else "ACTIVE"


def _with_register_mismatches(code: object, rng: np.random.Generator, geo: Geography) -> str:
    """About one row in a thousand carries a code the register does not hold as existing (returned to sender)."""
    roll = rng.random()
    if roll < 0.0005:
        return UNKNOWN_CODE
    if roll < 0.001 and geo.deleted_building_codes:
        return str(geo.deleted_building_codes[int(rng.integers(len(geo.deleted_building_codes)))])
    return str(code)


def _write_commodity(folder: Path, prefix: str, rows: list[tuple[object, str, str]],
                     traders: tuple[tuple[str, str, float], ...], rng: np.random.Generator, files: int,
                     geo: Geography) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    chosen = _weighted(traders, len(rows), rng)
    header = HEADERS["electricity"]
    lines = [
        (f"{prefix}{number:08d}", _with_register_mismatches(code, rng, geo), address, kind,
         traders[t][0], traders[t][1], _status(rng))
        for number, ((code, address, kind), t) in enumerate(zip(rows, chosen, strict=True), start=1)
    ]
    for part, chunk in enumerate(np.array_split(np.arange(len(lines)), max(1, files))):
        (folder / f"objects_{part + 1:02d}.csv").write_bytes(render_provider_csv(header, [lines[i] for i in chunk]))


def heat_supplier(municipality: int, geo: Geography) -> tuple[str, str]:
    name = geo.municipality_names[municipality]
    if name in names.CITY_HEAT_SUPPLIERS:
        return names.CITY_HEAT_SUPPLIERS[name]
    stem = name.replace(" nov.", "")
    return f'SIA "{stem} siltums"', f"4{municipality + 10:02d}03{municipality * 7919 % 10**6:06d}"


def _write_heat(folder: Path, rows: list[tuple[int, str, str, int]], rng: np.random.Generator,
                geo: Geography) -> None:
    """One file per heat supplier, as each supplier sends its own."""
    folder.mkdir(parents=True, exist_ok=True)
    by_supplier: dict[tuple[str, str], list[tuple[object, ...]]] = {}
    for number, (code, address, kind, municipality) in enumerate(rows, start=1):
        supplier = heat_supplier(municipality, geo)
        by_supplier.setdefault(supplier, []).append(
            (f"H{number:08d}", _with_register_mismatches(code, rng, geo), address, kind, supplier[0], supplier[1],
             _status(rng)))
    for (_, reg_no), lines in sorted(by_supplier.items(), key=lambda item: item[0][1]):
        (folder / f"heat_{reg_no}.csv").write_bytes(render_provider_csv(HEADERS["heat"], lines))


def write_prices(path: Path, period: int, rng: np.random.Generator) -> None:
    """24 months of history and P itself; P is set above every default threshold so support is on."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    for month in range(period - 24, period + 1):
        in_p = month == period
        for commodity, low, high, source, p_price in (
            ("ELECTRICITY", 70, 210, "Nord Pool LV", "182.40"),
            ("GAS", 28, 90, "TTF", "71.15"),
            ("WOODCHIP", 20, 80, "Baltpool", "74.80"),
        ):
            price = p_price if in_p else f"{rng.uniform(low, high):.2f}"
            rows.append((format_month(month), commodity, price, source))
    path.write_bytes(render_provider_csv(("month", "commodity", "price_eur_mwh", "source"), rows))
