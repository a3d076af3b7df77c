"""Which support types are on for period P: P's prices (§7) and the policy applied to `rules.support_types_on`."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd

from pipeline.decide import rules
from pipeline.period import month_number, parse_month
from pipeline.policy import Policy


def period_prices(prices: pd.DataFrame, period: str) -> dict[str, Decimal]:
    """P's price per commodity, exact (from the text as sent). Staging already stopped the run if one is missing
    (`sources.prices.require_period_prices`)."""
    rows = prices.loc[prices["month"] == period]
    return {row.commodity: Decimal(row.price_text) for row in rows.itertuples(index=False)}


def support_for_period(period: str, prices: dict[str, Decimal], policy: Policy) -> list[str]:
    """The types on for P, in §9 order, with the policy in force for P."""
    return rules.support_types_on(month_number(parse_month(period)), prices, policy.price_thresholds_eur_mwh,
                                  policy.heating_season_months)


def period_heat_index(prices: dict[str, Decimal]) -> Decimal:
    return rules.heat_index(prices["GAS"], prices["WOODCHIP"])
