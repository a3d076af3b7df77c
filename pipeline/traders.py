"""The ALDIS trader register (CONTRACTS §12, seed 002): which electricity traders exchange data, from when.

A trader exchanges data in production from the calendar month after it gets production access; until then it
only uses the test environment (`production_from: null`). The register is a YAML file kept beside the policy and
read strictly: a trader sent a file it should not have, or denied one it should have, is the one outcome this
flow must never produce silently, so any doubt about the register stops the run with a one-line reason.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from pipeline.digits import is_ascii_digits
from pipeline.errors import PolicyError
from pipeline.period import parse_month
from pipeline.policy import _DuplicateKey, _UniqueKeyLoader  # the policy's strict loader: one YAML dialect

_FIELDS = {"reg_no", "name", "production_from"}


def is_reg_no(text: str) -> bool:
    """A Latvian company registration number: exactly 11 ASCII digits."""
    return is_ascii_digits(text, 11)


@dataclass(frozen=True)
class Trader:
    reg_no: str
    name: str
    production_from: str | None  # YYYY-MM, or None while only in the test environment

    def in_production(self, period: str) -> bool:
        """In production for P when it has a production month and that month is not after P."""
        return self.production_from is not None and parse_month(self.production_from) <= parse_month(period)


@dataclass(frozen=True)
class TraderRegister:
    traders: tuple[Trader, ...]
    digest: str  # sha256 of the file's bytes: part of the run id, so a register change gives a new run

    def get(self, reg_no: str) -> Trader | None:
        return next((trader for trader in self.traders if trader.reg_no == reg_no), None)

    def in_production(self, period: str) -> list[Trader]:
        """The traders that must receive a file for P, by registration number."""
        return sorted((t for t in self.traders if t.in_production(period)), key=lambda t: t.reg_no)


def load_traders(path: Path) -> TraderRegister:
    """Read and validate the register; PolicyError (one line, file named) on any problem."""
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise PolicyError("trader register not found", file=path) from None
    try:
        document = yaml.load(raw.decode("utf-8"), Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except _DuplicateKey as exc:
        raise PolicyError(str(exc), file=path) from None
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise PolicyError(f"trader register is not valid YAML: {exc}".splitlines()[0], file=path) from None
    if not isinstance(document, dict) or set(document) != {"traders"} or not isinstance(document["traders"], list):
        raise PolicyError("trader register must be a mapping with one key, `traders:` (a list)", file=path)
    traders: list[Trader] = []
    for number, entry in enumerate(document["traders"], start=1):
        traders.append(_trader(entry, number, path))
    seen: set[str] = set()
    for trader in traders:
        if trader.reg_no in seen:
            raise PolicyError(f"reg_no {trader.reg_no} is listed twice", file=path)
        seen.add(trader.reg_no)
    return TraderRegister(tuple(traders), f"sha256:{hashlib.sha256(raw).hexdigest()}")


def _trader(entry: Any, number: int, path: Path) -> Trader:
    where = f"trader {number}"
    if not isinstance(entry, dict) or set(entry) != _FIELDS:
        raise PolicyError(f"{where} must have exactly reg_no, name and production_from", file=path)
    reg_no, name, start = entry["reg_no"], entry["name"], entry["production_from"]
    if not isinstance(reg_no, str) or not is_reg_no(reg_no):
        raise PolicyError(f"{where}: reg_no must be a quoted string of 11 digits", file=path)
    if not isinstance(name, str) or not name.strip():
        raise PolicyError(f"{where}: name must be a non-empty string", file=path)
    if start is not None:
        try:
            if not isinstance(start, str):
                raise ValueError("production_from must be a quoted YYYY-MM or null")
            parse_month(start)
        except ValueError as exc:
            raise PolicyError(f"{where}: production_from: {exc}", file=path) from None
    return Trader(reg_no=reg_no, name=name.strip(), production_from=start)
