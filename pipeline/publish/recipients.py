"""Who each recipient is, in words: the company or municipality behind a recipient id.

Recipient ids are the outbox folders (`dso_electricity`, `traders_gas/<reg no>`, `heat/<reg no>`,
`municipalities/<ARIS code>`); people recognise companies by name, so the report and the Airflow delivery tasks
show the name the connection lists carry (CONTRACTS §6 `trader_name`/`supplier_name`) and the municipality's name
from the address register. Names are public company or municipality names, never a person's.
"""

from __future__ import annotations

import pandas as pd

from pipeline.config import WorkLayout

DSO_NAMES = {"dso_electricity": "electricity DSO", "dso_gas": "gas DSO"}


def company_names(layout: WorkLayout, commodity: str) -> dict[str, str]:
    """Registration number → the name the connection list gives (the most frequent spelling, then the first)."""
    decided = pd.read_parquet(layout.decided(commodity), columns=["company_name", "company_reg_no"])
    names: dict[str, str] = {}
    for reg_no, group in decided.groupby("company_reg_no", sort=True):
        counts = group["company_name"].value_counts()
        names[str(reg_no)] = str(counts.index[0]) if len(counts) else ""
    return names


def municipality_names(layout: WorkLayout) -> dict[str, str]:
    own = pd.read_parquet(layout.decided("municipalities"))   # handed over by decide
    return {str(code): str(name) for code, name in zip(own["municipality_code"], own["municipality_name"],
                                                          strict=True)}


def recipient_names(layout: WorkLayout) -> dict[str, str]:
    """Recipient id → display name, for every recipient P's outbox can hold."""
    names = dict(DSO_NAMES)
    for commodity in ("electricity", "gas"):
        names.update({f"traders_{commodity}/{reg}": name for reg, name in company_names(layout, commodity).items()})
    names.update({f"heat/{reg}": name for reg, name in company_names(layout, "heat").items()})
    names.update({f"municipalities/{code}": name for code, name in municipality_names(layout).items()})
    return names
