"""`simulation.csv` and `simulation.html` (CONTRACTS §17): aggregates only, small cells suppressed.

Suppression. Every cell counts households, or rests on them; a cell resting on fewer than `MIN_CELL` (5)
households, none included, is written `<5`:
- `households`, `eligible_households`, `newly_eligible`, `no_longer_eligible`: the count itself;
- `eligible_persons`: the group's eligible households (persons live in them);
- `eligible_dwellings_<commodity>`: the group's eligible households with at least one such dwelling;
- `estimated_compensation_eur`: the group's eligible households whose dwellings carry a cost.
Then, so that a suppressed cell holding 1-4 households cannot be recovered by subtraction, until nothing changes
(a cell holding none needs no cover: a zero, recovered, names no household, and is often structural — a raised
threshold makes no one `no_longer_eligible` — so covering it would hide the answer the simulation exists for):
- within one variant, breakdown (not `total`) and column, a lone suppressed group that needs cover takes the next
  smallest group (by the households its cell rests on) with it: the total minus the published groups no longer
  gives it back;
- in one row, when one of `newly_eligible` and `no_longer_eligible` is suppressed and needs cover, the other is
  suppressed too (their difference is the change in eligible households, which the two `eligible_households`
  cells give).
What is left: a reader who combines several variants' rows could still narrow a suppressed value to a range, not a
household; nothing names an address, a household or a person. `simulation.html` is drawn from the suppressed
rows only, so it cannot show more than the CSV.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from markupsafe import Markup

from pipeline.catalog import CONNECTION_COMMODITIES
from pipeline.csvio import render_csv
from pipeline.decide.simulate import BASELINE, Decided, Row, SimulatedMonth, cents_half_up
from pipeline.publish import charts
from pipeline.publish.report import environment

MIN_CELL = 5
SUPPRESSED = "<5"
COLUMNS = ("variant", "breakdown", "group", "households", "eligible_households", "eligible_persons",
           "eligible_dwellings_electricity", "eligible_dwellings_gas", "eligible_dwellings_heat",
           "estimated_compensation_eur", "newly_eligible", "no_longer_eligible")
CHANGE_PAIR = ("newly_eligible", "no_longer_eligible")

# Each value column: the cell's value and the households it rests on, from a raw row.
_CELLS: dict[str, Callable[[Row], tuple[object, int]]] = {
    "households": lambda r: (r.households, r.households),
    "eligible_households": lambda r: (r.eligible_households, r.eligible_households),
    "eligible_persons": lambda r: (r.eligible_persons, r.eligible_households),
    **{f"eligible_dwellings_{c}": (lambda r, c=c: (r.dwellings[c], r.reached[c])) for c in CONNECTION_COMMODITIES},
    "estimated_compensation_eur": lambda r: ("" if r.compensation_micro is None
                                             else str(cents_half_up(r.compensation_micro)), r.costed_households),
    "newly_eligible": lambda r: (r.newly_eligible, r.newly_eligible),
    "no_longer_eligible": lambda r: (r.no_longer_eligible, r.no_longer_eligible),
}


@dataclass
class Cell:
    value: object
    households: int
    suppressed: bool

    @property
    def needs_cover(self) -> bool:
        """Suppressed and resting on at least one household (a secondary cell rests on 5 or more)."""
        return self.suppressed and self.households > 0

    @property
    def text(self) -> str:
        return SUPPRESSED if self.suppressed else str(self.value)


def suppressed_rows(rows: list[Row]) -> list[dict[str, Any]]:
    """The rows as `simulation.csv` writes them: small cells and the cells that would give them back by
    subtraction replaced by `<5` (module docstring). An empty compensation cell (the policy has none) stays empty."""
    table = [{"variant": row.variant, "breakdown": row.breakdown, "group": row.group,
              **{name: Cell(value, households, households < MIN_CELL and value != "")
                 for name, (value, households) in ((name, cell(row)) for name, cell in _CELLS.items())}}
             for row in rows]
    changed = True
    while changed:
        changed = _suppress_change_pairs(table) | _suppress_lone_groups(table)
    return [{name: (entry[name].text if isinstance(entry[name], Cell) else entry[name]) for name in COLUMNS}
            for entry in table]


def _suppress_change_pairs(table: list[dict[str, Any]]) -> bool:
    changed = False
    for entry in table:
        newly, no_longer = (entry[name] for name in CHANGE_PAIR)
        if newly.suppressed != no_longer.suppressed and (newly.needs_cover or no_longer.needs_cover):
            newly.suppressed = no_longer.suppressed = changed = True
    return changed


def _suppress_lone_groups(table: list[dict[str, Any]]) -> bool:
    changed = False
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for entry in table:
        if entry["breakdown"] != "total":
            groups.setdefault((entry["variant"], entry["breakdown"]), []).append(entry)
    for entries in groups.values():
        for name in _CELLS:
            cells = [entry[name] for entry in entries if entry[name].value != ""]
            hidden = [cell for cell in cells if cell.suppressed]
            shown = [cell for cell in cells if not cell.suppressed]
            if len(hidden) == 1 and hidden[0].needs_cover and shown:
                min(shown, key=lambda cell: cell.households).suppressed = changed = True
    return changed


def render_simulation_csv(rows: list[dict[str, Any]]) -> bytes:
    """§6 dialect through `csvio` (formula neutralisation included), header first."""
    return render_csv(COLUMNS, [[row[name] for name in COLUMNS] for row in rows])


def _number(text: str) -> float | None:
    """A published cell as a number for a chart; None for `<5` or an empty cell."""
    try:
        return float(text)
    except ValueError:
        return None


def _label(value: float | None, text: str, signed: bool = False) -> str:
    """A bar's text: the number with spaces between thousands (cents where the cell has them), or the cell."""
    if value is None:
        return text or "not estimated"
    decimals = 2 if "." in text else 0
    return f"{value:{'+' if signed else ''},.{decimals}f}".replace(",", " ")


Table = dict[tuple[str, str, str], dict[str, Any]]     # (variant, breakdown, group) -> published row


def _bar(label: str, cell: str, signed: bool = False) -> tuple[str, float | None, str]:
    """One bar from one published cell (`<5` and empty cells get no bar, only their text)."""
    value = _number(cell)
    return label, value, _label(value, cell, signed)


def _change_chart(name: str, by: Table, municipalities: list[str], names: dict[str, str]) -> Markup:
    """A variant's change in eligible households against the baseline per municipality, largest rise first; a
    municipality where either count is suppressed shows `<5` and no bar (the change is computed from published
    cells only, so it tells nothing the CSV does not)."""
    ranked = []
    for code in municipalities:
        now, before = (_number(by[(variant, "municipality", code)]["eligible_households"])
                       for variant in (name, BASELINE))
        change = None if now is None or before is None else now - before
        ranked.append((names.get(code, code), change, SUPPRESSED if change is None else _label(change, "", True)))
    ranked.sort(key=lambda item: (item[1] is None, -(item[1] or 0), item[0]))
    return charts.value_bars(f"{name}: eligible households against the baseline", ranked)


def _breakdown_chart(name: str, breakdown: str, by: Table, groups: list[str]) -> Markup:
    prefix = "decile " if breakdown == "income_decile" else "size "
    return charts.value_bars(f"{name}: eligible households by {breakdown.replace('_', ' ')}",
                             [_bar(prefix + group, by[(name, breakdown, group)]["eligible_households"])
                              for group in groups])


def _variant_facts(one: Decided) -> dict[str, Any]:
    """What a variant's policy says, for the page's table of variants."""
    policy = one.variant.policy
    return {"name": one.variant.name, "version": policy.version, "threshold": f"{policy.income_threshold_eur:.2f}",
            "window": policy.income_window_months,
            "prices": ", ".join(f"{k} {v}" for k, v in sorted(policy.price_thresholds_eur_mwh.items())),
            "support_on": ", ".join(one.support_on) or "none", "uncosted": ", ".join(one.uncosted),
            "costed": one.micro_per_dwelling is not None}


def html_context(month: SimulatedMonth, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """What `simulation.html` shows: drawn from the suppressed rows only, and the variants' policy numbers."""
    names = [one.variant.name for one in month.decided]
    by: Table = {(row["variant"], row["breakdown"], row["group"]): row for row in rows}
    totals = [by[(name, "total", "")] for name in names]
    groups = {breakdown: list(dict.fromkeys(row["group"] for row in rows if row["breakdown"] == breakdown))
              for breakdown in ("municipality", "household_size", "income_decile")}
    return {"period": month.period, "variants": [_variant_facts(one) for one in month.decided], "columns": COLUMNS,
            "rows": rows, "municipality_names": month.municipality_names, "min_cell": MIN_CELL,
            "eligible_chart": charts.value_bars("Eligible households per variant",
                                                [_bar(row["variant"], row["eligible_households"]) for row in totals]),
            "cost_chart": charts.value_bars("Estimated monthly compensation per variant (EUR)",
                                            [_bar(row["variant"], row["estimated_compensation_eur"])
                                             for row in totals]),
            "changes": [_change_chart(name, by, sorted(groups["municipality"]), month.municipality_names)
                        for name in names[1:]],
            "breakdowns": {breakdown: [_breakdown_chart(name, breakdown, by, groups[breakdown]) for name in names]
                           for breakdown in ("household_size", "income_decile")}}


def write_simulation(folder: Path, month: SimulatedMonth) -> list[Path]:
    """`simulation.csv` and `simulation.html` into `folder` (a build folder the flow publishes at once)."""
    rows = suppressed_rows(month.rows)
    (folder / "simulation.csv").write_bytes(render_simulation_csv(rows))
    page = environment().get_template("simulation.html.j2").render(html_context(month, rows))
    (folder / "simulation.html").write_text(page, encoding="utf-8")
    return [folder / "simulation.csv", folder / "simulation.html"]

