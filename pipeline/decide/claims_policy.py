"""The claims part of the effective-dated policy (CONTRACTS §13): compensation rates and the recalculation window.

Read strictly because it decides money: every claimable type needs a rate, rates are plain non-negative numbers
with at most `RATE_DECIMALS` decimals, `max_kwh_per_dwelling` a positive whole number, no unknown keys (a typo must
not silently drop a cap), and `claim_window_months` a whole number 0-120. Errors name the key in one line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from pipeline.errors import PolicyError
from pipeline.policy import load_policy

# Types the bureau pays (DECENTRALISED_FUEL is paid by municipalities, so it has no rate: NOT_CLAIMABLE).
PAID_TYPES = ("ELECTRICITY_BASE", "ELECTRICITY_HEATING", "GAS_HEATING", "DISTRICT_HEAT", "PROTECTED_USER")
RATE_DECIMALS = 6
_RATE = re.compile(r"[0-9]{1,6}(\.[0-9]{1," + str(RATE_DECIMALS) + "})?")
_RATE_KEYS = frozenset({"rate_eur_per_kwh", "max_kwh_per_dwelling", "typical_kwh"})


@dataclass(frozen=True)
class Rate:
    """What one kWh of a support type is compensated at, and the most kWh per dwelling (None: no limit)."""

    rate_eur_per_kwh: Decimal
    max_kwh_per_dwelling: int | None = None
    typical_kwh: int | None = None      # a dwelling's usual month, for the simulation's cost estimate (§17) only


@dataclass(frozen=True)
class ClaimsPolicy:
    rates: dict[str, Rate]
    claim_window_months: int
    digest: str


def load_claims_policy(path: Path, period: str) -> ClaimsPolicy:
    """Validate the `compensation` and `claim_window_months` sections in force for P."""
    base = load_policy(path, period)
    compensation = base.section("compensation")
    window = base.section("claim_window_months")
    if not isinstance(compensation, dict):
        raise PolicyError(f"policy for {period} has no `compensation` section (CONTRACTS §13)", file=path)
    unknown = sorted(str(key) for key in compensation if key not in PAID_TYPES)
    if unknown:
        raise PolicyError(f"compensation: unknown support type {', '.join(unknown)} (known: {', '.join(PAID_TYPES)})",
                          file=path)
    missing = [key for key in PAID_TYPES if key not in compensation]
    if missing:
        raise PolicyError(f"compensation: no rate for {', '.join(missing)}", file=path)
    rates = {key: _rate(compensation[key], f"compensation.{key}", path) for key in PAID_TYPES}
    if isinstance(window, bool) or not isinstance(window, int) or not 0 <= window <= 120:
        raise PolicyError("claim_window_months must be a whole number from 0 to 120", file=path)
    # The digest of the whole version in force (which already counts these sections), the same one the monthly
    # manifest carries (§10, §13 `policy_digest`): one version, one name, whichever outbox a recipient reads.
    return ClaimsPolicy(rates, window, base.digest)


def _rate(entry: Any, name: str, path: Path) -> Rate:
    if not isinstance(entry, dict):
        raise PolicyError(f"{name} must be a mapping with rate_eur_per_kwh", file=path)
    unknown = sorted(str(key) for key in entry if key not in _RATE_KEYS)
    if unknown:
        raise PolicyError(f"{name}: unknown key {', '.join(unknown)}", file=path)
    raw = entry.get("rate_eur_per_kwh")
    # YAML gives 0.10 as a float; its repr ("0.1") is the decimal the author wrote, so no binary error enters.
    if isinstance(raw, bool) or not isinstance(raw, int | float | str) or not _RATE.fullmatch(str(raw)):
        raise PolicyError(f"{name}.rate_eur_per_kwh must be a number >= 0 with at most {RATE_DECIMALS} decimals",
                          file=path)
    limit, typical = entry.get("max_kwh_per_dwelling"), entry.get("typical_kwh")
    for key, value in (("max_kwh_per_dwelling", limit), ("typical_kwh", typical)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise PolicyError(f"{name}.{key} must be a whole number >= 1", file=path)
    return Rate(Decimal(str(raw)), limit, typical)
