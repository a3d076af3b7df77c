"""The decision policy: thresholds, seasons and windows the Cabinet may change, effective-dated.

Two shapes are accepted. The minimal file of CONTRACTS §9 (one set of numbers, in force always), and a versioned
file with `versions:`, each with `effective_from: YYYY-MM`; the version in force for period P is the latest one
whose `effective_from` is not after P. The digest of the version in force goes into the manifest, so a recipient
can tell which rules decided their file.

The file decides money, so it is read strictly: a key written twice is refused (YAML would silently keep the
last), every version is checked key by key (types, ranges, money with at most 2 decimals in the §7 decimal form,
no booleans where numbers are meant, no unknown keys, which catches typos), and an error names the version and the
key in one line. Sections owned by other flows (`compensation`, `claim_window_months`, `anomaly_tolerance`) are
accepted here and checked by their flow; they are kept raw (`Policy.section`) and, like every key of the version,
counted in the digest.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from pipeline.catalog import SOURCE_ORDER
from pipeline.errors import PolicyError
from pipeline.period import format_month, parse_month

_REQUIRED = ("income_threshold_eur", "price_thresholds_eur_mwh", "heating_season_months")
_OPTIONAL = ("income_window_months", "quarantine_tolerance")
_LABELS = ("version", "effective_from")
# Sections another flow reads and validates (issue 11: claims; issue 13: report). Only their names are checked here.
FOREIGN_SECTIONS = ("compensation", "claim_window_months", "anomaly_tolerance")
_KNOWN = frozenset(_REQUIRED + _OPTIONAL + _LABELS + FOREIGN_SECTIONS)
_COMMODITY_THRESHOLDS = ("electricity", "gas", "heat")
# Sources a quarantine tolerance may name: the monthly sources and the inputs of the other flows that quarantine.
QUARANTINE_SOURCES = frozenset(SOURCE_ORDER + ("contracts", "claims"))
_MONEY = re.compile(r"[0-9]+(\.[0-9]{1,2})?")
_SHARE = re.compile(r"[0-9]+(\.[0-9]+)?")


@dataclass(frozen=True)
class QuarantineTolerance:
    """How much of a source may be quarantined before the run stops: both limits must be passed to stop, so a
    small month is not stopped by one bad record, and a national month not by a few dozen."""

    share: Decimal
    min_records: int

    def exceeded(self, *, quarantined: int, records: int) -> bool:
        return quarantined > self.min_records and Decimal(quarantined) > self.share * records

    def most_quarantined(self, records: int) -> int:
        """The largest quarantined count that does not stop the run."""
        return max(self.min_records, int(self.share * records))


DEFAULT_ANOMALY_TOLERANCE = 0.05  # the month-over-month gate's share when the policy names none
# The fallback for a policy without `quarantine_tolerance` (the minimal file of CONTRACTS §9).
DEFAULT_TOLERANCE = QuarantineTolerance(share=Decimal("0.02"), min_records=50)


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
    tolerances: dict[str, QuarantineTolerance] = field(default_factory=dict, compare=False)
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def income_threshold_cents(self) -> int:
        return int(self.income_threshold_eur * 100)

    def quarantine_tolerance(self, source: str) -> QuarantineTolerance:
        """The source's own tolerance, else the policy's `default`, else `DEFAULT_TOLERANCE`."""
        return self.tolerances.get(source) or self.tolerances.get("default") or DEFAULT_TOLERANCE

    def anomaly_tolerance(self) -> float:
        """The month-over-month gate's tolerance (a fraction from 0 to 1) for the version in force, else 5 %.
        Read with the policy by the decide stage and handed to the gate and the report, so neither publishing nor
        the gate loads the policy again (and decide never calls into publish for it)."""
        value = self.raw.get("anomaly_tolerance")
        if value is None:
            return DEFAULT_ANOMALY_TOLERANCE
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise PolicyError(f"anomaly_tolerance must be a fraction from 0 to 1, not {value!r}")
        return float(value)

    def section(self, name: str) -> Any:
        """A copy of the version's raw value for `name` (None when the version has none). Unknown names raise
        KeyError, so a flow cannot read a misspelt section and get None."""
        if name not in _KNOWN:
            raise KeyError(name)
        return copy.deepcopy(self.raw.get(name))


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a mapping key written twice (plain YAML keeps the last one silently)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                repeated = key in seen
            except TypeError:  # an unhashable key: the base class gives the proper error
                break
            if repeated:
                raise _DuplicateKey(f"key {key} appears more than once (line {key_node.start_mark.line + 1})")
            seen.add(key)
        return super().construct_mapping(node, deep)


class _DuplicateKey(yaml.YAMLError):
    pass


def load_policy(path: Path, period: str) -> Policy:
    """Read a policy file, check every version, and return the version in force for `period`."""
    try:
        document = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # noqa: S506
    except FileNotFoundError:
        raise PolicyError("policy file not found", file=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"policy file cannot be read ({type(exc).__name__})", file=path) from None
    except _DuplicateKey as exc:
        raise PolicyError(str(exc), file=path) from None
    except yaml.YAMLError as exc:
        raise PolicyError(f"policy file is not valid YAML: {exc}".splitlines()[0], file=path) from None
    if not isinstance(document, dict):
        raise PolicyError("policy file must be a mapping", file=path)
    if "versions" not in document:
        return _build(document, version="single", effective_from=None, path=path, where="")
    unknown = sorted(str(key) for key in document if key != "versions")
    if unknown:
        raise PolicyError(f"unknown top-level key {', '.join(unknown)} beside `versions`", file=path)
    return _in_force(document["versions"], period, path)


def _in_force(versions: Any, period: str, path: Path) -> Policy:
    if not isinstance(versions, list) or not versions:
        raise PolicyError("`versions` must be a non-empty list", file=path)
    target = parse_month(period)
    built: list[tuple[int, Policy]] = []
    for number, entry in enumerate(versions, start=1):
        if not isinstance(entry, dict) or "effective_from" not in entry:
            raise PolicyError(f"version {number}: every version needs `effective_from: YYYY-MM`", file=path)
        try:
            start = parse_month(str(entry["effective_from"]))
        except ValueError as exc:
            raise PolicyError(f"version {number}: effective_from {exc}", file=path) from None
        label = str(entry.get("version", format_month(start)))
        built.append((start, _build(entry, version=label, effective_from=format_month(start), path=path,
                                    where=f"version {label}: ")))
    starts = [start for start, _ in built]
    if len(set(starts)) != len(starts):
        raise PolicyError("two versions share an `effective_from` month", file=path)
    in_force = [item for item in built if item[0] <= target]
    if not in_force:
        raise PolicyError(f"no policy version is in force for {period}", file=path)
    return max(in_force, key=lambda item: item[0])[1]


def _build(entry: dict[str, Any], *, version: str, effective_from: str | None, path: Path, where: str) -> Policy:
    def fail(reason: str) -> PolicyError:
        return PolicyError(where + reason, file=path)

    unknown = sorted(str(key) for key in entry if key not in _KNOWN)
    if unknown:
        raise fail(f"unknown key {', '.join(unknown)} (known: {', '.join(sorted(_KNOWN))})")
    missing = [key for key in _REQUIRED if key not in entry]
    if missing:
        raise fail(f"policy is missing {', '.join(missing)}")
    threshold = _money(entry["income_threshold_eur"], "income_threshold_eur", fail)
    prices = entry["price_thresholds_eur_mwh"]
    if not isinstance(prices, dict):
        raise fail("price_thresholds_eur_mwh must be a mapping of electricity, gas and heat")
    extra = sorted(str(key) for key in prices if key not in _COMMODITY_THRESHOLDS)
    if extra:
        raise fail(f"price_thresholds_eur_mwh has unknown commodity {', '.join(extra)}")
    if any(key not in prices for key in _COMMODITY_THRESHOLDS):
        raise fail("price_thresholds_eur_mwh needs electricity, gas and heat")
    price_thresholds = {key: _money(prices[key], f"price_thresholds_eur_mwh.{key}", fail)
                        for key in _COMMODITY_THRESHOLDS}
    season = entry["heating_season_months"]
    if (not isinstance(season, list) or not all(_whole(m) and 1 <= m <= 12 for m in season)
            or len(set(season)) != len(season)):
        raise fail("heating_season_months must be a list of distinct month numbers 1-12")
    window = entry.get("income_window_months", 12)
    if not _whole(window) or not 1 <= window <= 24:
        raise fail("income_window_months must be a whole number from 1 to 24")
    tolerances = _tolerances(entry.get("quarantine_tolerance"), fail)
    own = {
        "effective_from": effective_from,
        "version": version,
        "income_threshold_eur": str(threshold),
        "income_window_months": window,
        "price_thresholds_eur_mwh": {key: str(value) for key, value in sorted(price_thresholds.items())},
        "heating_season_months": sorted(season),
        "quarantine_tolerance": {source: {"share": str(t.share), "min_records": t.min_records}
                                 for source, t in sorted(tolerances.items())},
    }
    canonical = {**{str(key): value for key, value in entry.items()}, **own}
    try:
        text = json.dumps(canonical, sort_keys=True, default=str, ensure_ascii=True)
    except (TypeError, ValueError) as exc:
        raise fail(f"a section cannot be written as JSON ({exc})") from None
    return Policy(
        version=version,
        effective_from=effective_from,
        income_threshold_eur=threshold,
        income_window_months=window,
        price_thresholds_eur_mwh=price_thresholds,
        heating_season_months=frozenset(season),
        digest="sha256:" + hashlib.sha256(text.encode()).hexdigest(),
        tolerances=tolerances,
        raw=copy.deepcopy(entry),
    )


def _whole(value: Any) -> bool:
    """An int that is not a bool (YAML `yes` is True, and True == 1 in Python)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _plain_number(value: Any) -> str | None:
    """The text of a YAML number or string, or None for a bool or anything else."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    return str(value)


def _money(value: Any, name: str, fail: Any) -> Decimal:
    """EUR amount: digits, optionally `.` and 1-2 decimals; no sign, exponent, `_`, space or non-ASCII digit."""
    text = _plain_number(value)
    if text is None or not _MONEY.fullmatch(text):
        raise fail(f"{name} must be an amount in EUR like 500.00 (ASCII digits, at most 2 decimals, not negative)")
    return Decimal(text)


def _tolerances(value: Any, fail: Any) -> dict[str, QuarantineTolerance]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise fail("quarantine_tolerance must map `default` or a source name to {share, min_records}")
    tolerances = {}
    for source, limits in value.items():
        name = f"quarantine_tolerance.{source}"
        if source != "default" and source not in QUARANTINE_SOURCES:
            raise fail(f"quarantine_tolerance names unknown source {source} "
                       f"(known: default, {', '.join(sorted(QUARANTINE_SOURCES))})")
        if not isinstance(limits, dict) or set(limits) != {"share", "min_records"}:
            raise fail(f"{name} needs share and min_records, and nothing else")
        share_text = _plain_number(limits["share"])
        if share_text is None or not _SHARE.fullmatch(share_text) or Decimal(share_text) > 1:
            raise fail(f"{name}.share must be a number from 0 to 1")
        if not _whole(limits["min_records"]) or limits["min_records"] < 0:
            raise fail(f"{name}.min_records must be a whole number, 0 or more")
        tolerances[str(source)] = QuarantineTolerance(Decimal(share_text), limits["min_records"])
    return tolerances
