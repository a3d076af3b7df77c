"""The decision policy: thresholds, seasons and windows the Cabinet may change, effective-dated.

Two shapes are accepted. The minimal file of CONTRACTS §9 (one set of numbers, in force always), and a versioned
file with `versions:`, each with `effective_from: YYYY-MM`; the version in force for period P is the latest one
whose `effective_from` is not after P. The digest of the version in force goes into the manifest, so a recipient
can tell which rules decided their file.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from pipeline.errors import PolicyError
from pipeline.period import format_month, parse_month

_REQUIRED = ("income_threshold_eur", "price_thresholds_eur_mwh", "heating_season_months")
_COMMODITY_THRESHOLDS = ("electricity", "gas", "heat")


@dataclass(frozen=True)
class Policy:
    """The numbers in force for one period."""

    version: str
    effective_from: str | None
    income_threshold_eur: Decimal
    income_window_months: int
    price_thresholds_eur_mwh: dict[str, Decimal]
    heating_season_months: frozenset[int]
    digest: str

    @property
    def income_threshold_cents(self) -> int:
        return int(self.income_threshold_eur * 100)


def load_policy(path: Path, period: str) -> Policy:
    """Read a policy file and return the version in force for `period`."""
    try:
        document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PolicyError("policy file not found", file=path) from None
    except yaml.YAMLError as exc:
        raise PolicyError(f"policy file is not valid YAML: {exc}".splitlines()[0], file=path) from None
    if not isinstance(document, dict):
        raise PolicyError("policy file must be a mapping", file=path)
    versions = document.get("versions")
    if versions is None:
        return _build(document, version="single", effective_from=None, path=path)
    return _in_force(versions, period, path)


def _in_force(versions: Any, period: str, path: Path) -> Policy:
    if not isinstance(versions, list) or not versions:
        raise PolicyError("`versions` must be a non-empty list", file=path)
    target = parse_month(period)
    candidates: list[tuple[int, dict[str, Any]]] = []
    for entry in versions:
        if not isinstance(entry, dict) or "effective_from" not in entry:
            raise PolicyError("every version needs `effective_from: YYYY-MM`", file=path)
        try:
            start = parse_month(str(entry["effective_from"]))
        except ValueError as exc:
            raise PolicyError(str(exc), file=path) from None
        candidates.append((start, entry))
    starts = [start for start, _ in candidates]
    if len(set(starts)) != len(starts):
        raise PolicyError("two versions share an `effective_from` month", file=path)
    in_force = [item for item in candidates if item[0] <= target]
    if not in_force:
        raise PolicyError(f"no policy version is in force for {period}", file=path)
    start, entry = max(in_force, key=lambda item: item[0])
    label = str(entry.get("version", format_month(start)))
    return _build(entry, version=label, effective_from=format_month(start), path=path)


def _build(entry: dict[str, Any], *, version: str, effective_from: str | None, path: Path) -> Policy:
    missing = [key for key in _REQUIRED if key not in entry]
    if missing:
        raise PolicyError(f"policy is missing {', '.join(missing)}", file=path)
    threshold = _money(entry["income_threshold_eur"], "income_threshold_eur", path)
    prices = entry["price_thresholds_eur_mwh"]
    if not isinstance(prices, dict) or any(key not in prices for key in _COMMODITY_THRESHOLDS):
        raise PolicyError("price_thresholds_eur_mwh needs electricity, gas and heat", file=path)
    price_thresholds = {
        str(key): _money(value, f"price_thresholds_eur_mwh.{key}", path) for key, value in prices.items()
    }
    season = entry["heating_season_months"]
    if not isinstance(season, list) or not all(isinstance(m, int) and 1 <= m <= 12 for m in season):
        raise PolicyError("heating_season_months must be a list of month numbers 1-12", file=path)
    window = entry.get("income_window_months", 12)
    if not isinstance(window, int) or not 1 <= window <= 24:
        raise PolicyError("income_window_months must be a whole number from 1 to 24", file=path)
    canonical = {
        "effective_from": effective_from,
        "version": version,
        "income_threshold_eur": str(threshold),
        "income_window_months": window,
        "price_thresholds_eur_mwh": {key: str(value) for key, value in sorted(price_thresholds.items())},
        "heating_season_months": sorted(season),
    }
    digest = hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()
    return Policy(
        version=version,
        effective_from=effective_from,
        income_threshold_eur=threshold,
        income_window_months=window,
        price_thresholds_eur_mwh=price_thresholds,
        heating_season_months=frozenset(season),
        digest=f"sha256:{digest}",
    )


def _money(value: Any, name: str, path: Path) -> Decimal:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise PolicyError(f"{name} is not a number", file=path) from None
    if not amount.is_finite() or amount < 0:
        raise PolicyError(f"{name} must be a non-negative number", file=path)
    return amount
