"""Decide period P from the staged tables and hand publish everything it needs.

Written under `<workdir>/<P>/decisions/` (never the outbox), read by publish and the store:
- `households.parquet`: every household, with member count, total, average, threshold, policy version, status
  (with the REVIEW reasons from the quarantine) and the reason in words, and its address and municipality;
- `members.parquet`: each member's monthly income items by source in cents under a pseudonymous key;
- `<commodity>.parquet`: every staged connection with its decision columns;
- `<commodity>_returned.parquet`: the rows that go back to their sender (`address_errors.csv`);
- `municipalities.parquet`: every existing municipality (each gets a file, even an empty one);
- `unreached.parquet`: the ELIGIBLE households no connection list reaches (§17, `decide.coverage`), and
  `summaries/coverage.csv` their counts per municipality;
- `decision.json`: the `DecisionSummary` hand-off: support types on, P's prices, the policy version and digest,
  the input files' sha256 (for the run id), and counts.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.catalog import CONNECTION_COMMODITIES
from pipeline.config import Settings, WorkLayout, private_files
from pipeline.decide.connections import decide_connections, eligible_households, returned_rows
from pipeline.decide.coverage import write_coverage
from pipeline.decide.households import (
    decide_households,
    household_statuses,
    household_totals,
    review_addresses,
    unmatched_income_records,
)
from pipeline.decide.income import PersonIncome, person_income
from pipeline.decide.rules import ELIGIBLE, REVIEW, is_counting_person
from pipeline.decide.support import period_heat_index, period_prices, support_for_period
from pipeline.handoff import DecisionSummary, source_summaries
from pipeline.logs import get_logger
from pipeline.period import format_month, parse_month
from pipeline.policy import Policy

log = get_logger("decide")


def staged_table(layout: WorkLayout, source: str, columns: list[str] | None = None) -> pd.DataFrame:
    return pq.read_table(layout.staged(source), columns=columns).to_pandas()


def _parts(layout: WorkLayout, source: str) -> list[Path]:
    return sorted(layout.staged(source).glob("*.parquet"))


def _quarantine(layout: WorkLayout) -> pd.DataFrame:
    tables = [pq.read_table(path).to_pandas() for path in sorted(layout.quarantine.glob("*.parquet"))]
    return pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(
        columns=["source", "reason", "person_key", "aris_code", "marks_review"])


def decide_period(period: str, workdir: Path, policy: Policy, settings: Settings) -> DecisionSummary:
    """Run the whole §9 decision for P on staged data; the decision records are created owner-only.

    Income and the households come first (every later part needs them); then the members' records and each
    commodity's connections, which write their own files."""
    layout = WorkLayout(Path(workdir), period)
    with private_files():
        layout.make_private()
        return _decide(period, layout, policy)


@dataclass
class MonthInputs:
    """What every decision of P reads from the staging, whatever the policy: the counting persons, the address
    register's columns a household carries, the quarantine, P's prices, the addresses in REVIEW, and each income
    window's sums per person and per household once computed (the monthly run decides once; a simulation
    re-decides under several policies)."""

    period: str
    persons: pd.DataFrame
    addresses: pd.DataFrame
    quarantine: pd.DataFrame
    prices: dict[str, Decimal]
    review: pd.DataFrame
    layout: WorkLayout
    incomes: dict[int, PersonIncome] = field(default_factory=dict)
    totals: dict[int, pa.Table] = field(default_factory=dict)
    with_months: bool = True    # the members' records need each person's months; a simulation only the totals

    def income(self, window_months: int) -> PersonIncome:
        """The persons' income over the policy's window (§9), computed once per window length."""
        if window_months not in self.incomes:
            self.incomes[window_months] = person_income(
                self.persons["person_no"].to_numpy(), _parts(self.layout, "vid"), _parts(self.layout, "vsaa"),
                parse_month(self.period), window_months, with_months=self.with_months)
        return self.incomes[window_months]

    def household_totals(self, window_months: int) -> pa.Table:
        """Every household's members and exact income total over the window (§9, `households.household_totals`),
        aggregated once per window length."""
        if window_months not in self.totals:
            self.totals[window_months] = household_totals(self.persons, self.income(window_months), self.review)
        return self.totals[window_months]


def month_inputs(layout: WorkLayout, *, with_months: bool = True) -> MonthInputs:
    """P's staged inputs of the decision (`MonthInputs`); `with_months=False`: income totals only, no per-month
    figures (those are for the decision records, which a simulation does not write)."""
    register = pq.read_table(layout.staged("pmlp"), columns=["person_no", "person_key", "aris_code", "status", "vital"])
    counting = is_counting_person(register["status"].to_pandas(), register["vital"].to_pandas())  # the members
    # filtered in Arrow, then handed to pandas: a pandas filter of the texts is several times slower
    persons = register.filter(pa.array(counting.to_numpy())).drop_columns(["status", "vital"]).to_pandas()
    addresses = staged_table(layout, "aris", ["aris_code", "address", "building_code", "municipality_code",
                                              "municipality_name"])
    quarantine = _quarantine(layout)
    return MonthInputs(layout.period, persons, addresses, quarantine,
                       period_prices(staged_table(layout, "prices"), layout.period),
                       review_addresses(quarantine, persons), layout, with_months=with_months)


def households_under(inputs: MonthInputs, policy: Policy) -> pd.DataFrame:
    """§9 for every household of P under `policy`: the monthly run's decision records."""
    window = policy.income_window_months
    return decide_households(inputs.persons, inputs.income(window), inputs.review, policy, inputs.addresses,
                             inputs.household_totals(window))


def statuses_under(inputs: MonthInputs, policy: Policy) -> pa.Array:
    """§9's status of every household of P under `policy`, in `household_totals`' order (code order): the same
    statements as `households_under`, without the records (what a simulated variant needs)."""
    window = policy.income_window_months
    return household_statuses(inputs.household_totals(window), inputs.income(window), inputs.review, policy)


def _decide(period: str, layout: WorkLayout, policy: Policy) -> DecisionSummary:
    started = time.perf_counter()
    layout.decisions.mkdir(parents=True, exist_ok=True)

    inputs = month_inputs(layout)
    prices = inputs.prices
    support_on = support_for_period(period, prices, policy)
    log.info("support types on for %s: %s", period, ", ".join(support_on) or "none")
    persons, quarantine = inputs.persons, inputs.quarantine
    households = households_under(inputs, policy)
    income = inputs.income(policy.income_window_months)
    households.to_parquet(layout.decided("households"), index=False)

    summary = DecisionSummary(
        period=period,
        policy_version=policy.version,
        policy_digest=policy.digest,
        support_types_on=support_on,
        prices={**{k: str(v) for k, v in sorted(prices.items())}, "HEAT_INDEX": str(period_heat_index(prices))},
        persons_counting=len(persons),
        households=len(households),
        eligible=int((households["status"] == ELIGIBLE).sum()),
        review=int((households["status"] == REVIEW).sum()),
        unmatched_income_records=unmatched_income_records(quarantine, persons),
        input_sha256=[str(item["sha256"]) for summary in source_summaries(layout).values() for item in summary.files],
    )
    eligible = eligible_households(households)
    _write_members(layout, persons, income)
    summary.connections = {commodity: _write_connections(layout, eligible, support_on, commodity)
                           for commodity in CONNECTION_COMMODITIES}
    write_coverage(layout, households)      # reads the decided connections the jobs wrote
    summary.seconds = round(time.perf_counter() - started, 3)
    summary.save(layout)
    log.info("decided %s: %d households, %d eligible, %d review, in %.2f s", period, summary.households,
             summary.eligible, summary.review, summary.seconds)
    if summary.unmatched_income_records:
        log.warning("%d quarantined income or benefit records match no counted person: no household could be "
                    "sent to REVIEW for them (see the quarantine)", summary.unmatched_income_records)
    return summary


def _write_connections(layout: WorkLayout, eligible: pa.Table, support_on: list[str],
                       commodity: str) -> dict[str, int]:
    """One commodity's decided connections and the rows returned to their senders; its counts for the summary."""
    decided = decide_connections(staged_table(layout, commodity), eligible, support_on, commodity)
    decided.to_parquet(layout.decided(commodity), index=False)
    quarantined = pq.read_table(layout.quarantined(commodity)).to_pandas()
    returned_rows(decided, quarantined).to_parquet(layout.decided(f"{commodity}_returned"), index=False)
    return {
        "objects": len(decided),
        "eligible": int(decided["eligible"].sum()),
        "address_errors": int(decided["address_error"].notna().sum()),
    }


def _write_members(layout: WorkLayout, persons: pd.DataFrame, income: PersonIncome) -> None:
    """Each member's monthly items by source in whole cents (`vid_cents_YYYY-MM`, `vsaa_cents_YYYY-MM`: a VID
    month rounded half-up to the cent, as displayed) and the window's total (`total_cents`, the exact total rounded
    half-up once) under the pseudonymous key only, and every municipality (both read the register or the persons
    only, beside the connections). Integers, never a float: the store and the portal read these cents."""
    months = [format_month(income.window_start + i) for i in range(income.window_months)]
    count, window = len(persons), income.window_months
    columns: dict[str, Any] = {"aris_code": pa.array(persons["aris_code"], type=pa.string()),
                               "person_key": pa.array(persons["person_key"], type=pa.string())}
    for source, items in income.monthly.items():
        grid = np.zeros(count * window, dtype=np.int64)
        cells = items.column("row").to_numpy() * window + (items.column("month").to_numpy() - income.window_start)
        grid[cells] = items.column("cents").to_numpy()
        grid = grid.reshape(count, window)
        columns.update({f"{source}_cents_{m}": grid[:, i] for i, m in enumerate(months)})
    columns["total_cents"] = income.total_cents
    pq.write_table(pa.table(columns), layout.decided("members"), use_dictionary=["aris_code"])  # staged order
    _write_municipalities(layout)


def _write_municipalities(layout: WorkLayout) -> None:
    """Every existing (EKS) municipality: a novads or state city is its own `municipality_code` in ARIS."""
    register = staged_table(layout, "aris", ["aris_code", "status", "municipality_code", "municipality_name"])
    own = register.loc[(register["aris_code"] == register["municipality_code"]) & (register["status"] == "EKS")]
    own = own.sort_values("aris_code", kind="stable")
    pd.DataFrame({"municipality_code": own["aris_code"].to_numpy(), "municipality_name": own["municipality_name"]
                  .to_numpy()}).to_parquet(layout.decided("municipalities"), index=False)
