"""The run report: `<workdir>/<P>/report/report.html` (a page a new user reads without internet) and `report.md`.

Both come from one set of figures rendered through Jinja2 templates in `pipeline/publish/templates/`. The month
being decided is read from the run's hand-off in the workdir (decision and source summaries, decided households,
quarantine); earlier months come from the store as a `History`, built by the flow (`pipeline.store.history`), so
this module never reaches into the database. Contents: summary; trends over the last 24 decided months (inline
SVG, see `pipeline.publish.charts`); the anomaly gate's measures; households that changed status since the
previous month, counted by cause; eligible share by municipality (Latvian order) and by recipient with company
names; quarantine by file and reason with line numbers; REVIEW households by cause (address and pseudonymous
member keys only: no personal code, name or income); links to each source's Data Docs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from pipeline.catalog import CONNECTION_COMMODITIES, SOURCE_ORDER
from pipeline.config import WorkLayout
from pipeline.decide.rules import ELIGIBLE, REVIEW, SUPPORT_ORDER
from pipeline.handoff import DecisionSummary, RecipientFile, source_summaries
from pipeline.publish import charts
from pipeline.publish.anomaly import DEFAULT_TOLERANCE, compared_measures
from pipeline.publish.changes import status_changes
from pipeline.publish.collation import latvian_sort_key
from pipeline.publish.coverage import CoverageMonth, coverage_context
from pipeline.publish.figures import MonthFigures, current_figures
from pipeline.publish.recipients import DSO_NAMES, company_names, municipality_names

TREND_MONTHS = 24
DRILL_DOWN_ROWS = 100
LINES_SHOWN = 12


@dataclass
class History:
    """What the store knows about earlier months; empty for a store's first month or a run without a store."""

    months: list[MonthFigures] = field(default_factory=list)
    previous_households: pd.DataFrame | None = None
    tolerance: float = DEFAULT_TOLERANCE
    accepted_reason: str | None = None
    coverage: list[CoverageMonth] = field(default_factory=list)   # earlier months' reach (§17), oldest first


def share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f} %" if whole else "–"


def municipality_rows(households: pd.DataFrame) -> list[dict[str, Any]]:
    """Households and eligible share per municipality, in Latvian alphabetical order."""
    lived = households["members"].to_numpy() > 0
    counts = pd.DataFrame({"code": households["municipality_code"], "name": households["municipality_name"],
                           "eligible": (households["status"] == ELIGIBLE).to_numpy()}).loc[lived]
    per_group = counts.groupby(["code", "name"], dropna=False)["eligible"].agg(["size", "sum"])  # one pass, in C
    rows = []
    for (code, name), size, eligible in zip(per_group.index, per_group["size"].tolist(), per_group["sum"].tolist(),
                                            strict=True):
        rows.append({"name": name if isinstance(name, str) else "(none)", "code": code if isinstance(code, str)
                     else "–", "households": size, "eligible": eligible,
                     "share": eligible / size if size else 0.0, "share_text": share(eligible, size)})
    return sorted(rows, key=lambda row: latvian_sort_key(row["name"]))


def recipient_rows(layout: WorkLayout) -> list[dict[str, Any]]:
    """Objects and eligible objects per DSO, trader and heat supplier, each company by name."""
    rows = []
    for commodity in CONNECTION_COMMODITIES:
        decided = pd.read_parquet(layout.decided(commodity),
                                  columns=["company_reg_no", "eligible", "address_error"])
        decided = decided.loc[decided["address_error"].isna()]
        names = company_names(layout, commodity)
        if commodity != "heat":
            eligible = int(decided["eligible"].sum())
            rows.append({"name": DSO_NAMES[f"dso_{commodity}"], "role": "DSO", "reg_no": "",
                         "objects": len(decided), "eligible": eligible, "share": share(eligible, len(decided))})
        role = "heat supplier" if commodity == "heat" else f"{commodity} trader"
        companies = []
        for reg_no, group in decided.groupby("company_reg_no", sort=True):
            own = int(group["eligible"].sum())
            companies.append({"name": names.get(str(reg_no), ""), "role": role, "reg_no": str(reg_no),
                              "objects": len(group), "eligible": own, "share": share(own, len(group))})
        rows += sorted(companies, key=lambda row: latvian_sort_key(row["name"]))
    return rows


def _quarantine(layout: WorkLayout) -> pd.DataFrame:
    tables = [pq.read_table(path, columns=["source", "file", "line", "record", "reason", "person_key",
                                           "aris_code", "marks_review"]).to_pandas()
              for path in sorted(layout.quarantine.glob("*.parquet"))]
    tables = [table for table in tables if len(table)]
    return pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(
        columns=["source", "file", "line", "record", "reason", "person_key", "aris_code", "marks_review"])


def quarantine_rows(quarantine: pd.DataFrame) -> list[dict[str, Any]]:
    """Per file and reason: how many records and at which lines (XML record numbers where there is no line)."""
    rows = []
    for (file, reason), group in quarantine.groupby(["file", "reason"], sort=True):
        lines = sorted(int(v) for v in (group["line"] if (group["line"] > 0).any() else group["record"]))
        shown = ", ".join(str(v) for v in lines[:LINES_SHOWN])
        rows.append({"file": file, "reason": reason, "count": len(group),
                     "lines": shown + (f" … (+{len(lines) - LINES_SHOWN})" if len(lines) > LINES_SHOWN else "")})
    return rows


def review_rows(households: pd.DataFrame, quarantine: pd.DataFrame, members: pd.DataFrame) -> list[dict[str, Any]]:
    """REVIEW households by cause: the address, its code and the pseudonymous keys of the members whose data is
    quarantined (found at the address through the quarantine row itself, or through the decided members)."""
    review = households.loc[households["status"] == REVIEW]
    marked = quarantine.loc[quarantine["marks_review"].astype(bool) & quarantine["person_key"].notna()]
    pairs = pd.concat([marked.loc[marked["aris_code"].notna(), ["aris_code", "person_key"]],
                       members.loc[members["person_key"].isin(set(marked["person_key"])), ["aris_code", "person_key"]]])
    keys = pairs.groupby("aris_code")["person_key"].agg(lambda values: ", ".join(sorted(set(values))))
    rows = [{"cause": cause if isinstance(cause, str) else "member data quarantined", "aris_code": code,
             "address": address, "member_keys": keys.get(code, "")}
            for cause, code, address in zip(review["review_reasons"], review["aris_code"], review["address"],
                                            strict=True)]
    return sorted(rows, key=lambda row: (row["cause"], row["aris_code"]))


def trend_months(history: History, current: MonthFigures) -> list[MonthFigures]:
    return [*history.months[-(TREND_MONTHS - 1):], current]


def trend_charts(months: list[MonthFigures]) -> dict[str, Any]:
    periods = [m.period for m in months]
    sources = [s for s in SOURCE_ORDER if any(s in m.records for m in months)]
    quarantined = [s for s in sources if any(m.quarantined.get(s) for m in months)]
    return {
        "households": charts.line_chart("Households decided", periods, {
            "households": [m.households for m in months], "eligible": [m.eligible for m in months]}),
        "eligible_share": charts.line_chart("Eligible share of households", periods, {
            "eligible share": [m.eligible_share for m in months]}, percent=True),
        "records": [charts.line_chart(f"Records: {source}", periods, {
            source: [m.records.get(source) for m in months]}, width=300, height=150) for source in sources],
        "quarantined": charts.line_chart("Quarantined records per source", periods, {
            source: [m.quarantined.get(source) for m in months] for source in quarantined}, width=620)
        if quarantined else None,
        "support": charts.on_off_grid("Support types on", periods, {
            kind: [kind in m.support_types for m in months] for kind in SUPPORT_ORDER}),
    }


def data_docs_links(layout: WorkLayout) -> list[dict[str, str]]:
    """Relative links from `report/` to each source's Data Docs, for the sources that have a site."""
    links = []
    for source in SOURCE_ORDER:
        if (layout.data_docs / source / "index.html").exists():
            links.append({"source": source, "href": f"../data_docs/{source}/index.html"})
    if links and (layout.data_docs / "index.html").exists():
        links.insert(0, {"source": "all sources (index)", "href": "../data_docs/index.html"})
    return links


def build_context(layout: WorkLayout, decision: DecisionSummary, files: list[RecipientFile], run_id: str,
                  history: History) -> dict[str, Any]:
    households = pd.read_parquet(layout.decided("households"))
    summaries = list(source_summaries(layout).values())
    quarantine = _quarantine(layout)
    current = current_figures(layout)
    months = trend_months(history, current)
    previous = history.months[-1] if history.months else None
    changes, unchanged = ([], 0)
    if previous is not None and history.previous_households is not None:
        changes, unchanged = status_changes(history.previous_households, households)
    municipalities = municipality_rows(households)
    drill = quarantine_rows(quarantine)
    lived = int((households["members"] > 0).sum())
    return {
        "period": layout.period,
        "run_id": run_id,
        "decision": decision,
        "lived": lived,
        "eligible_share": share(decision.eligible, decision.households),
        "summaries": summaries,
        "months": months,
        "charts": trend_charts(months),
        "previous": previous,
        "checks": compared_measures(current, previous, history.tolerance) if previous else [],
        "tolerance": history.tolerance,
        "accepted_reason": history.accepted_reason,
        "changes": changes,
        "unchanged": unchanged,
        "municipalities": municipalities,
        "municipality_chart": charts.share_bars("Eligible share of households by municipality",
                                                [(row["name"], row["share"]) for row in municipalities]),
        "coverage": coverage_context(layout, history.coverage, municipality_names(layout)),
        "recipients": recipient_rows(layout),
        "quarantine": drill[:DRILL_DOWN_ROWS],
        "quarantine_more": max(0, len(drill) - DRILL_DOWN_ROWS),
        "review": review_rows(households, quarantine, pd.read_parquet(
            layout.decided("members"), columns=["aris_code", "person_key"]))[:DRILL_DOWN_ROWS],
        "review_more": max(0, decision.review - DRILL_DOWN_ROWS),
        "files": files,
        "data_docs": data_docs_links(layout),
    }


def _markdown_cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def environment() -> Environment:
    env = Environment(loader=PackageLoader("pipeline.publish", "templates"), undefined=StrictUndefined,
                      autoescape=select_autoescape(["html.j2"]), trim_blocks=True, lstrip_blocks=True,
                      keep_trailing_newline=True)
    env.filters["cell"] = _markdown_cell
    env.filters["pct"] = lambda value: f"{100 * value:.1f} %"
    return env


def write_report(layout: WorkLayout, decision: DecisionSummary, files: list[RecipientFile], run_id: str,
                 history: History | None = None) -> Path:
    """Render `report.md` and `report.html` for P and return the HTML path."""
    context = build_context(layout, decision, files, run_id, history or History())
    env = environment()
    layout.report.mkdir(parents=True, exist_ok=True)
    (layout.report / "report.md").write_text(env.get_template("report.md.j2").render(context), encoding="utf-8")
    path = layout.report / "report.html"
    path.write_text(env.get_template("report.html.j2").render(context), encoding="utf-8")
    (layout.report / "run.json").write_text(json.dumps({"run_id": run_id, "files": len(files)}) + "\n",
                                            encoding="utf-8")
    return path
