"""Which support types are on for period P (CONTRACTS §9, prices §7)."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd

from pipeline.period import month_number, parse_month
from pipeline.policy import Policy

SUPPORT_ORDER = ("ELECTRICITY_BASE", "ELECTRICITY_HEATING", "GAS_HEATING", "DISTRICT_HEAT", "DECENTRALISED_FUEL")
COMMODITY_SUPPORT = {
    "electricity": ("ELECTRICITY_BASE", "ELECTRICITY_HEATING"),
    "gas": ("GAS_HEATING",),
    "heat": ("DISTRICT_HEAT",),
}


def period_prices(prices: pd.DataFrame, period: str) -> dict[str, Decimal]:
    """P's price per commodity, exact (from the text as sent). Staging already stopped the run if one is missing
    (`sources.prices.require_period_prices`)."""
    rows = prices.loc[prices["month"] == period]
    return {row.commodity: Decimal(row.price_text) for row in rows.itertuples(index=False)}


def heat_index(prices: dict[str, Decimal]) -> Decimal:
    """Heat index = (GAS + WOODCHIP) / 2 (§9); decentralised fuel uses it too."""
    return (prices["GAS"] + prices["WOODCHIP"]) / 2


def in_heating_season(period: str, policy: Policy) -> bool:
    """Heating-season types are on only in the policy's season months (default Oct–Apr)."""
    return month_number(parse_month(period)) in policy.heating_season_months


def support_types_on(period: str, prices: dict[str, Decimal], policy: Policy) -> list[str]:
    """The types on for P, in §9 order: a price strictly greater than its threshold switches a type on."""
    thresholds = policy.price_thresholds_eur_mwh
    season = in_heating_season(period, policy)
    heat = heat_index(prices)
    fuel_threshold = thresholds.get("decentralised_fuel", thresholds["heat"])
    electricity_high = prices["ELECTRICITY"] > thresholds["electricity"]
    rules = {
        "ELECTRICITY_BASE": electricity_high,
        "ELECTRICITY_HEATING": electricity_high and season,
        "GAS_HEATING": prices["GAS"] > thresholds["gas"] and season,
        "DISTRICT_HEAT": heat > thresholds["heat"] and season,
        "DECENTRALISED_FUEL": heat > fuel_threshold and season,
    }
    return [name for name in SUPPORT_ORDER if rules[name]]
