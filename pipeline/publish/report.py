"""The run report a data engineer reads in a minute: `<workdir>/<P>/report/report.md` and `report.html`.

Aggregates only (counts and shares): persons, households, eligible share by municipality and by recipient,
quarantine by reason, support types on, and what changed since the previous month's run when there is one.
The HTML version carries a bar chart (inline SVG, no plotting library needed).
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import pandas as pd

from pipeline.config import WorkLayout
from pipeline.decide.households import ELIGIBLE
from pipeline.decide.run import DecisionSummary
from pipeline.ingest import SOURCE_ORDER, SourceSummary
from pipeline.period import format_month, parse_month
from pipeline.publish.files import RecipientFile


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f} %" if whole else "–"


def _table(header: list[str], rows: list[list[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def municipality_rows(households: pd.DataFrame) -> list[list[object]]:
    lived = households.loc[households["members"] > 0]
    grouped = lived.groupby(["municipality_code", "municipality_name"], dropna=False)
    rows = []
    for (code, name), group in grouped:
        eligible = int((group["status"] == ELIGIBLE).sum())
        rows.append([name if isinstance(name, str) else "(none)", code if isinstance(code, str) else "–",
                     len(group), eligible, _share(eligible, len(group))])
    return sorted(rows, key=lambda row: str(row[0]))


def recipient_rows(layout: WorkLayout) -> list[list[object]]:
    """Objects and eligible objects per DSO, trader and heat supplier (from the decided connections)."""
    rows = []
    for commodity in ("electricity", "gas", "heat"):
        decided = pd.read_parquet(layout.decisions / f"{commodity}.parquet",
                                  columns=["company_name", "company_reg_no", "eligible", "address_error"])
        decided = decided.loc[decided["address_error"].isna()]
        eligible = int(decided["eligible"].sum())
        if commodity != "heat":
            rows.append([f"DSO {commodity}", "", len(decided), eligible, _share(eligible, len(decided))])
        role = "supplier" if commodity == "heat" else f"trader ({commodity})"
        for (name, reg_no), group in decided.groupby(["company_name", "company_reg_no"], sort=True):
            own = int(group["eligible"].sum())
            rows.append([f"{name} — {role}", reg_no, len(group), own, _share(own, len(group))])
    return rows


def changes_since(layout: WorkLayout, households: pd.DataFrame) -> list[str]:
    """Compare with the previous month's decisions in the same workdir, if that run exists."""
    previous = WorkLayout(layout.workdir, format_month(parse_month(layout.period) - 1))
    path = previous.decisions / "households.parquet"
    if not path.exists():
        return [f"No run for {previous.period} in this workdir: nothing to compare."]
    before = pd.read_parquet(path, columns=["aris_code", "status"]).set_index("aris_code")["status"]
    now = households.set_index("aris_code")["status"]
    joined = pd.concat([before.rename("before"), now.rename("now")], axis=1)
    became = int(((joined["now"] == ELIGIBLE) & (joined["before"] != ELIGIBLE)).sum())
    lost = int(((joined["before"] == ELIGIBLE) & (joined["now"] != ELIGIBLE)).sum())
    return [
        f"Compared with {previous.period}: households {len(before)} → {len(now)}; eligible "
        f"{int((before == ELIGIBLE).sum())} → {int((now == ELIGIBLE).sum())}.",
        f"Newly eligible addresses: {became}; no longer eligible: {lost}; new addresses: "
        f"{int(joined['before'].isna().sum())}; gone: {int(joined['now'].isna().sum())}.",
    ]


def bar_chart_svg(rows: list[list[object]], title: str) -> str:
    """Horizontal bars: eligible share per municipality."""
    height = 22 * len(rows) + 40
    bars = []
    for index, row in enumerate(rows):
        share = row[3] / row[2] if row[2] else 0
        y = 30 + index * 22
        bars.append(
            f'<text x="0" y="{y + 14}" font-size="12">{html.escape(str(row[0]))}</text>'
            f'<rect x="200" y="{y}" width="{share * 400:.1f}" height="16" fill="#2b6cb0"/>'
            f'<text x="{205 + share * 400:.1f}" y="{y + 13}" font-size="11">{100 * share:.1f} %</text>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="680" height="{height}" role="img" '
            f'aria-label="{html.escape(title)}"><text x="0" y="16" font-size="14" font-weight="bold">'
            f'{html.escape(title)}</text>{"".join(bars)}</svg>')


def write_report(layout: WorkLayout, decision: DecisionSummary, files: list[RecipientFile], run_id: str) -> Path:
    households = pd.read_parquet(layout.decisions / "households.parquet")
    summaries = {s: SourceSummary.load(layout, s) for s in SOURCE_ORDER if (layout.summaries / f"{s}.json").exists()}
    municipalities = municipality_rows(households)
    lived = int((households["members"] > 0).sum())

    quarantine_rows = [[s.source, s.records, s.staged, reason, count]
                       for s in summaries.values() for reason, count in s.quarantined.items()]
    file_rows = [[f.path, f.recipient_kind, f.rows] for f in files]
    sections = [
        f"# EIKIS run report — {layout.period}",
        f"Run `{run_id}`, policy `{decision.policy_version}` ({decision.policy_digest[:19]}…).",
        "## Summary",
        _table(["measure", "value"], [
            ["persons counting (ACTIVE + ALIVE)", decision.persons_counting],
            ["households", decision.households],
            ["households with a counting member", lived],
            ["eligible households", f"{decision.eligible} ({_share(decision.eligible, lived)})"],
            ["households for REVIEW (staff)", decision.review],
            ["quarantined income/benefit records matching no counted person",
             decision.unmatched_income_records],
            ["support types on", ", ".join(decision.support_types_on) or "none"],
            ["prices for P (EUR/MWh)", ", ".join(f"{k} {v}" for k, v in decision.prices.items())],
        ]),
        "## Connections",
        _table(["commodity", "objects", "eligible", "address errors"],
               [[c, v["objects"], v["eligible"], v["address_errors"]] for c, v in decision.connections.items()]),
        "## By municipality",
        _table(["municipality", "ARIS code", "households", "eligible", "share"], municipalities),
        "## By recipient",
        _table(["recipient", "reg. no.", "objects", "eligible", "share"], recipient_rows(layout)),
        "## Sources and quarantine",
        _table(["source", "files", "records", "staged", "quarantined", "seconds"],
               [[s.source, len(s.files), s.records, s.staged, s.quarantined_total, s.seconds]
                for s in summaries.values()]),
        _table(["source", "records", "staged", "reason", "count"], quarantine_rows) if quarantine_rows
        else "No record was quarantined.",
        "## Recipient files",
        _table(["file", "recipient", "rows"], file_rows),
        "## Since the previous month",
        "\n".join(f"- {line}" for line in changes_since(layout, households)),
    ]
    markdown = "\n\n".join(sections) + "\n"
    layout.report.mkdir(parents=True, exist_ok=True)
    (layout.report / "report.md").write_text(markdown, encoding="utf-8")
    chart = bar_chart_svg(municipalities, "Eligible share of households by municipality")
    page = ("<!doctype html><html><head><meta charset='utf-8'><title>EIKIS " + html.escape(layout.period)
            + "</title><style>body{font-family:sans-serif;max-width:980px;margin:2em auto}"
            "pre{white-space:pre-wrap}</style></head><body>" + chart
            + "<pre>" + html.escape(markdown) + "</pre></body></html>\n")
    path = layout.report / "report.html"
    path.write_text(page, encoding="utf-8")
    (layout.report / "run.json").write_text(json.dumps({"run_id": run_id, "files": len(files)}) + "\n",
                                            encoding="utf-8")
    return path
