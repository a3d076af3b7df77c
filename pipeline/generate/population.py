"""Invented persons living in the generated dwellings: valid old and new personal codes, household sizes,
ages, statuses and address kinds."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.generate import names
from pipeline.generate.geography import Geography

_WEIGHTS = np.array([1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
HOUSEHOLD_SIZES = np.array([1, 2, 3, 4, 5])
HOUSEHOLD_SHARES = np.array([0.34, 0.30, 0.17, 0.13, 0.06])


@dataclass
class Population:
    codes: np.ndarray           # 11 digits, no dash
    dashed: np.ndarray          # as PMLP writes old codes: DDMMYY-CNNNQ
    given: np.ndarray
    surname: np.ndarray
    age: np.ndarray
    status: np.ndarray
    vital: np.ndarray
    address_kind: np.ndarray
    aris_code: np.ndarray
    address: np.ndarray

    def __len__(self) -> int:
        return len(self.codes)

    @property
    def counts(self) -> np.ndarray:
        return (self.status == "ACTIVE") & (self.vital == "ALIVE")


def old_codes(birth_days: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Valid `DDMMYYCNNNQ` codes for birth dates (days since 1900-01-01), unique via a per-date serial."""
    dates = np.datetime64("1900-01-01") + birth_days.astype("timedelta64[D]")
    years = dates.astype("datetime64[Y]").astype(int) + 1970
    months = dates.astype("datetime64[M]").astype(int) % 12 + 1
    days = (dates - dates.astype("datetime64[M]")).astype(int) + 1
    century = np.where(years >= 2000, 2, 1)
    order = np.argsort(birth_days, kind="stable")
    sorted_days = birth_days[order]
    first = np.r_[0, np.flatnonzero(np.diff(sorted_days)) + 1]
    run_start = np.repeat(first, np.diff(np.r_[first, len(sorted_days)]))
    serial = np.empty(len(birth_days), dtype=np.int64)
    serial[order] = (np.arange(len(sorted_days)) - run_start + rng.integers(0, 400)) % 1000
    digits = np.stack(
        [days // 10, days % 10, months // 10, months % 10, (years % 100) // 10, years % 10,
         century, serial // 100, (serial // 10) % 10, serial % 10], axis=1)
    check = (1101 - digits @ _WEIGHTS) % 11 % 10
    joined = np.char.add(
        np.char.add(np.char.zfill((digits[:, :6] @ 10 ** np.arange(5, -1, -1)).astype(str), 6),
                    np.char.zfill((digits[:, 6:] @ 10 ** np.arange(3, -1, -1)).astype(str), 4)),
        check.astype(str))
    return joined


def new_codes(count: int, offset: int) -> np.ndarray:
    """Unique new-format codes `3[2-9]NNNNNNNNN` (no check digit since 2017-07-01)."""
    serial = np.arange(offset, offset + count, dtype=np.int64)
    second = 2 + (serial // 10**9) % 8
    return np.char.add(np.char.add("3", second.astype(str)), np.char.zfill((serial % 10**9).astype(str), 9))


def build(geo: Geography, persons: int, rng: np.random.Generator) -> Population:
    dwellings = np.concatenate([geo.building_codes[~geo.building_is_multi], geo.apartment_codes])
    addresses = np.concatenate([np.array(geo.building_address, dtype=object)[~geo.building_is_multi],
                                np.array(geo.apartment_address, dtype=object)])
    sizes = rng.choice(HOUSEHOLD_SIZES, size=persons, p=HOUSEHOLD_SHARES)
    cumulative = np.cumsum(sizes)
    households = int(np.searchsorted(cumulative, persons) + 1)
    households = min(households, len(dwellings))
    sizes = sizes[:households]
    sizes[-1] = max(1, persons - int(sizes[:-1].sum()))
    chosen = rng.choice(len(dwellings), size=households, replace=False)
    dwelling_of_person = np.repeat(chosen, sizes)[:persons]
    total = len(dwelling_of_person)

    age = rng.choice(96, size=total, p=_age_shares())
    is_new = (age < 9) | (rng.random(total) < 0.03)
    reference_day = 46000  # ≈ 2025-12
    birth_days = reference_day - age * 365 - rng.integers(0, 365, size=total)
    codes = np.empty(total, dtype="<U11")
    codes[~is_new] = old_codes(birth_days[~is_new], rng)
    codes[is_new] = new_codes(int(is_new.sum()), offset=int(rng.integers(0, 10**8)))
    dashed = np.array([code if new else f"{code[:6]}-{code[6:]}" for code, new in zip(codes, is_new, strict=True)])
    female = rng.random(total) < 0.53
    given = np.where(female, np.array(names.FEMALE_GIVEN)[rng.integers(0, 20, total)],
                     np.array(names.MALE_GIVEN)[rng.integers(0, 20, total)])
    stems = rng.integers(0, len(names.SURNAME_STEMS), total)
    surname = np.array([names.SURNAME_STEMS[s][1 if f else 0] for s, f in zip(stems, female, strict=True)])
    roll = rng.random(total)
    status = np.where(roll < 0.015, "INACTIVE", "ACTIVE")
    vital = np.where((roll >= 0.015) & (roll < 0.025), "DECEASED", "ALIVE")
    kind = rng.choice(np.array(["DECLARED", "REGISTERED", "UA_CONTACT"]), size=total, p=[0.80, 0.17, 0.03])
    return Population(codes=codes, dashed=dashed, given=given, surname=surname, age=age, status=status,
                      vital=vital, address_kind=kind, aris_code=dwellings[dwelling_of_person].astype(str),
                      address=addresses[dwelling_of_person])


def _age_shares() -> np.ndarray:
    ages = np.arange(96)
    weights = np.where(ages < 18, 1.0, np.where(ages < 65, 1.25, np.where(ages < 85, 1.1, 0.3)))
    return weights / weights.sum()
