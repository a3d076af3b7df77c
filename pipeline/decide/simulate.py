"""Re-deciding an ingested month under other policies: "what if the threshold were 600 €?" (CONTRACTS §17).

Nothing here decides anything of its own. Each variant is decided by the statements the monthly run executes
(`run.statuses_under`: the status statements of `households_under`; `support.support_for_period`;
`connections.eligible_households`; `eligible_dwellings_total`: the sum of `decide_connections`' own
`ELIGIBLE_DWELLINGS` statement) on P's staging, read once (`run.month_inputs`). The households are aggregated once
(`run.MonthInputs.household_totals`, as the monthly run aggregates them) and only their status is decided per
variant; the connection lists are read once, as Arrow, with only the columns the rules read. Only the counting is
new. The result is raw counts, unsuppressed:
`publish.simulation` suppresses small cells before anything is written.

Per household (the same households under every policy: a household is the counting persons at one code, whatever
the numbers), the month's connection lists give the connections that reach it (`coverage.household_reach`); an
ELIGIBLE household's reaching connections are its eligible dwellings. Summed over the households this is exactly
what `ELIGIBLE_DWELLINGS` counts (checked for every variant), and it splits the dwellings and the cost by the
household's municipality, size and income decile.

Estimated monthly compensation: for each eligible dwelling of a commodity, each support type on for P for that
commodity (§10 `support_types`) that the policy's `compensation` section pays adds `rate_eur_per_kwh` × the type's
`typical_kwh` where the variant sets one, else × `max_kwh_per_dwelling`; a type with neither is not costed (listed
in `uncosted`). Rates have at most 6 decimals and kWh are whole, so amounts are exact integers of micro-euros; a
cell's sum is rounded once, half up, to cents (`cents_half_up`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline.catalog import CONNECTION_COMMODITIES
from pipeline.config import WorkLayout
from pipeline.decide.claims_policy import Rate
from pipeline.decide.connections import eligible_dwellings_total, eligible_households
from pipeline.decide.coverage import CONNECTION_COLUMNS, household_reach
from pipeline.decide.income import scaled_per_row
from pipeline.decide.rules import ELIGIBLE, connection_support_types
from pipeline.decide.run import MonthInputs, month_inputs, statuses_under
from pipeline.decide.support import support_for_period
from pipeline.policy import Policy

BASELINE = "baseline"
BREAKDOWNS = ("total", "municipality", "household_size", "income_decile")
SIZE_GROUPS = ("1", "2", "3", "4", "5+")
DECILES = tuple(str(d) for d in range(1, 11))
MICRO = 10**6           # micro-euros per euro: a rate of at most 6 decimals times whole kWh is a whole number
INT64_SAFE = 2**62


@dataclass(frozen=True)
class Variant:
    """A named policy to decide P under; `rates` is its `compensation` section (None: the policy has none)."""

    name: str
    policy: Policy
    rates: dict[str, Rate] | None


@dataclass
class Decided:
    """One variant's decision, household by household, and what its cost estimate rests on."""

    variant: Variant
    support_on: list[str]
    eligible: np.ndarray                        # bool per household
    micro_per_dwelling: dict[str, int] | None   # commodity -> micro-euros per eligible dwelling
    uncosted: list[str] = field(default_factory=list)


@dataclass
class Row:
    """One line of `simulation.csv` before suppression, with the households each count rests on."""

    variant: str
    breakdown: str
    group: str
    households: int
    eligible_households: int
    eligible_persons: int
    dwellings: dict[str, int]
    reached: dict[str, int]             # eligible households with a dwelling of the commodity
    compensation_micro: int | None      # None: the policy has no compensation section
    costed_households: int              # eligible households whose dwellings carry a cost
    newly_eligible: int
    no_longer_eligible: int


@dataclass
class SimulatedMonth:
    period: str
    decided: list[Decided]
    rows: list[Row]
    municipality_names: dict[str, str]


def cents_half_up(micro: int) -> Decimal:
    """Micro-euros as EUR rounded half up to whole cents (the rounding rule of the estimate, applied per cell)."""
    return (Decimal(micro) / MICRO).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def micro_per_dwelling(rates: dict[str, Rate], support_on: list[str]) -> tuple[dict[str, int], list[str]]:
    """Per commodity, the estimated micro-euros of one eligible dwelling's month; and the types on for P that
    the policy pays but gives no kWh for (not costed)."""
    amounts, uncosted = {}, []
    for commodity in CONNECTION_COMMODITIES:
        total = 0
        for kind in filter(None, connection_support_types(commodity, support_on).split("|")):
            rate = rates.get(kind)
            if rate is None:
                continue
            kwh = rate.typical_kwh or rate.max_kwh_per_dwelling
            if kwh is None:
                uncosted.append(kind)
                continue
            total += int(rate.rate_eur_per_kwh * MICRO) * kwh
        amounts[commodity] = total
    return amounts, uncosted


def decide_variant(inputs: MonthInputs, households: pd.DataFrame, connections: dict[str, pa.Table],
                   reach: pd.DataFrame, variant: Variant) -> Decided:
    """P decided under one variant with the monthly run's statements (`households`: `household_frame`); the
    dwellings reached per household must add up to the connections' own count (`eligible_dwellings_total`),
    commodity by commodity."""
    status = statuses_under(inputs, variant.policy)
    support_on = support_for_period(inputs.period, inputs.prices, variant.policy)
    eligible = pc.equal(status, ELIGIBLE).to_numpy(zero_copy_only=False)
    counts = eligible_households(households.assign(status=status.to_pandas()))
    for commodity in CONNECTION_COMMODITIES:
        own = eligible_dwellings_total(connections[commodity], counts)
        attributed = int(reach[commodity].to_numpy()[eligible].sum())
        if own != attributed:
            raise RuntimeError(f"simulation: {commodity} dwellings attributed to households ({attributed}) differ "
                               f"from the decision's ({own})")
    amounts, uncosted = (None, []) if variant.rates is None else micro_per_dwelling(variant.rates, support_on)
    return Decided(variant, support_on, eligible, amounts, uncosted)


def household_frame(inputs: MonthInputs, policy: Policy) -> pd.DataFrame:
    """Every household of P (`MonthInputs.household_totals` under the baseline's income window, in code order)
    with what the counting reads: its code, building and municipality (from the address register, as the monthly
    records carry them), members and the exact income total (`scaled`, over the income's `scale`)."""
    totals = inputs.household_totals(policy.income_window_months)
    addresses = inputs.addresses
    at = pc.index_in(totals["aris_code"], value_set=pa.array(addresses["aris_code"], type=pa.string()))
    register = pa.table({name: pa.array(addresses[name], type=pa.string())
                         for name in ("building_code", "municipality_code")}).take(at)
    return pd.DataFrame({"aris_code": totals["aris_code"].to_pandas(),
                         "building_code": register["building_code"].to_pandas(),
                         "municipality_code": register["municipality_code"].to_pandas(),
                         "members": totals["members"].to_numpy(),
                         "scaled": scaled_per_row(totals, totals.num_rows)})


def household_groups(households: pd.DataFrame) -> pd.DataFrame:
    """Each household's group in every breakdown, as categories in the order the rows list them: municipality
    (code order), size (`1`…`5+`) and baseline income decile (`1`…`10`); a household with no counting member
    (REVIEW only) has neither a size nor an income (no group: -1).

    Deciles rank the households by the baseline's average income per member (the exact total divided by the
    members, as a float; equal averages are equal floats, so they share a decile): decile
    `1 + floor(10 × r / n)`, r the number of households with a lower average, n the households ranked."""
    members = households["members"].to_numpy()
    lived = members > 0
    average = households["scaled"].to_numpy().astype(float)[lived] / members[lived]
    decile = np.full(len(households), -1, dtype=np.int64)
    decile[lived] = (10 * np.searchsorted(np.sort(average), average, side="left")) // max(1, len(average))
    size = np.where(lived, np.minimum(members, 5) - 1, -1)
    municipality = households["municipality_code"].fillna("")
    codes = sorted(set(municipality.unique()) - {""})
    return pd.DataFrame({
        "total": pd.Categorical.from_codes(np.zeros(len(households), dtype=np.int64), [""]),
        "municipality": pd.Categorical(municipality, categories=codes),
        "household_size": pd.Categorical.from_codes(size, SIZE_GROUPS),
        "income_decile": pd.Categorical.from_codes(decile, DECILES)})


def simulate_month(layout: WorkLayout, variants: list[Variant]) -> SimulatedMonth:
    """Every variant decided on P's staging (the first is the baseline), counted by breakdown."""
    inputs = month_inputs(layout, with_months=False)
    connections = {commodity: pq.read_table(layout.staged(commodity), columns=CONNECTION_COLUMNS)
                   for commodity in CONNECTION_COMMODITIES}
    households = household_frame(inputs, variants[0].policy)    # the same households under every policy
    reach = household_reach(households, connections)
    decided = [decide_variant(inputs, households, connections, reach, variant) for variant in variants]
    groups = household_groups(households)
    rows = [row for one in decided for row in _rows(one, decided[0], households, reach, groups)]
    named = inputs.addresses[["municipality_code", "municipality_name"]].dropna().drop_duplicates("municipality_code")
    names = dict(zip(named["municipality_code"].astype(str), named["municipality_name"].astype(str), strict=True))
    return SimulatedMonth(layout.period, decided, rows, names)


def _rows(one: Decided, baseline: Decided, households: pd.DataFrame, reach: pd.DataFrame,
          groups: pd.DataFrame) -> list[Row]:
    """One variant's rows: the total, then each breakdown's groups in a fixed order."""
    eligible = one.eligible
    dwellings = {c: np.where(eligible, reach[c].to_numpy(), 0) for c in CONNECTION_COMMODITIES}
    amounts = one.micro_per_dwelling or dict.fromkeys(CONNECTION_COMMODITIES, 0)
    # the whole month's sum bounds every cell: int64 when it fits (it does by far), Python ints otherwise
    largest = sum(int(dwellings[c].sum()) * amounts[c] for c in CONNECTION_COMMODITIES)
    exact: type | str = np.int64 if largest < INT64_SAFE else object
    micro = np.zeros(len(households), dtype=exact)
    for commodity in CONNECTION_COMMODITIES:
        micro = micro + dwellings[commodity].astype(exact) * amounts[commodity]
    per = pd.DataFrame({
        "households": 1, "eligible": eligible.astype(int),
        "persons": np.where(eligible, households["members"].to_numpy(), 0),
        **{f"dwellings_{c}": dwellings[c] for c in CONNECTION_COMMODITIES},
        **{f"reached_{c}": (dwellings[c] > 0).astype(int) for c in CONNECTION_COMMODITIES},
        "micro": micro, "costed": (micro > 0).astype(int),
        "newly": (eligible & ~baseline.eligible).astype(int), "no_longer": (~eligible & baseline.eligible).astype(int),
    })
    rows = []
    for breakdown in BREAKDOWNS:
        sums = per.groupby(groups[breakdown], observed=False).sum()      # every category, in its order
        for group, values in sums.iterrows():
            rows.append(Row(one.variant.name, breakdown, str(group), int(values["households"]),
                            int(values["eligible"]), int(values["persons"]),
                            {c: int(values[f"dwellings_{c}"]) for c in CONNECTION_COMMODITIES},
                            {c: int(values[f"reached_{c}"]) for c in CONNECTION_COMMODITIES},
                            None if one.micro_per_dwelling is None else int(values["micro"]),
                            int(values["costed"]), int(values["newly"]), int(values["no_longer"])))
    return rows
