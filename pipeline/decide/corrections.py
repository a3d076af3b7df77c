"""What a confirmed appeal changes for each recipient of P (CONTRACTS §16): the rows of the next correction set.

The households a confirmed UPHELD decision covers for P become ELIGIBLE; every connection at their address (an
INDIVIDUAL one at the household's code, a COMMON one at its building) is decided again exactly as the month's run
decides it (`decide.connections`), with the support types on for P. Each recipient's new row is compared with what
that recipient has — the original file with every earlier correction set applied (`sources.corrections`) — and
only a row that differs is a change: `ADDED` when the object was not eligible in what the recipient had, else
`CHANGED`. A withdrawn decision whose change was already published gives the row back its original values
(`CHANGED`). Nothing else of P is read or decided again: the month's inputs are not re-ingested.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from pipeline.config import WorkLayout
from pipeline.decide.connections import decide_connections, eligible_counts
from pipeline.decide.rules import ELIGIBLE
from pipeline.sources.corrections import (
    ADDED,
    CHANGED,
    MUNICIPALITY_CHANGE_COLUMNS,
    SUPPLIER_CHANGE_COLUMNS,
    CorrectionSet,
    merged_municipality_rows,
    merged_supplier_objects,
)
from pipeline.sources.published import PublishedObject, PublishedOutbox

COMMODITIES = ("electricity", "gas", "heat")
NOT_PUBLISHED = PublishedObject(False, 0, frozenset())


@dataclass(frozen=True)
class RecipientChanges:
    """One recipient's `changes.csv`: its folder, the header and the rows (sorted by object id or ARIS code)."""

    folder: str
    header: tuple[str, ...]
    rows: list[tuple[object, ...]]


def decide_changes(layout: WorkLayout, support_on: list[str], upheld: Mapping[str, str],
                   original: PublishedOutbox, sets: list[CorrectionSet]) -> list[RecipientChanges]:
    """Every recipient's changes for P. `upheld`: ARIS code -> case reference of each household a confirmed UPHELD
    decision makes ELIGIBLE for P now."""
    households = pd.read_parquet(layout.decided("households"))
    corrected = households.copy()
    corrected.loc[corrected["aris_code"].isin(list(upheld)), "status"] = ELIGIBLE
    touched = set(upheld) | _corrected_before(households, original, sets)
    of_interest = households.loc[households["aris_code"].isin(list(touched))]
    refs = _case_refs(of_interest, upheld)
    changes = _municipality_changes(of_interest, corrected, upheld, original, sets)
    codes = set(of_interest["aris_code"]) | set(of_interest["building_code"].fillna(of_interest["aris_code"]))
    counts = eligible_counts(corrected)
    for commodity in COMMODITIES:
        decided = pd.read_parquet(layout.decided(commodity))
        rows = decided.loc[decided["address_error"].isna() & decided["aris_code"].isin(list(codes))]
        if rows.empty:
            continue
        again = decide_connections(rows, counts, support_on, commodity).sort_values("object_id", kind="stable")
        changes += _supplier_changes(commodity, again, refs, original, sets)
    return sorted((item for item in changes if item.rows), key=lambda item: item.folder)


def _corrected_before(households: pd.DataFrame, original: PublishedOutbox, sets: list[CorrectionSet]) -> set[str]:
    """Addresses an earlier set changed: a withdrawal must be able to give them back their original values."""
    if not sets:
        return set()
    found: set[str] = set()
    for municipality in households["municipality_code"].dropna().unique():
        rows = merged_municipality_rows(original, sets, f"municipalities/{municipality}")
        found |= {code for code, row in rows.items() if row.correction_set}
    return found


def _case_refs(of_interest: pd.DataFrame, upheld: Mapping[str, str]) -> dict[str, dict[str, set[str]]]:
    """Case references by the household's own code (INDIVIDUAL connections) and by its building (COMMON ones)."""
    by_code: dict[str, set[str]] = {}
    by_building: dict[str, set[str]] = {}
    for code, building in zip(of_interest["aris_code"], of_interest["building_code"].fillna(of_interest["aris_code"]),
                              strict=True):
        if code in upheld:
            by_code.setdefault(code, set()).add(upheld[code])
            by_building.setdefault(building, set()).add(upheld[code])
    return {"INDIVIDUAL": by_code, "COMMON": by_building}


def _supplier_changes(commodity: str, again: pd.DataFrame, refs: dict[str, dict[str, set[str]]],
                      original: PublishedOutbox, sets: list[CorrectionSet]) -> list[RecipientChanges]:
    recipients: dict[str, pd.DataFrame] = {}
    if commodity == "heat":
        for reg_no, own in again.groupby("company_reg_no", sort=True):
            recipients[f"heat/{reg_no}"] = own
    else:
        recipients[f"dso_{commodity}"] = again
        for reg_no, own in again.groupby("company_reg_no", sort=True):
            recipients[f"traders_{commodity}/{reg_no}"] = own
    changes = []
    for folder, own in recipients.items():
        had = merged_supplier_objects(original, sets, folder)
        listed_all = not folder.startswith("traders_")   # a trader's file lists its eligible objects only
        rows = []
        for row in own.itertuples(index=False):
            before = had.get(row.object_id)
            if before is None and listed_all:
                continue    # not in what this recipient was sent (its address was in error): nothing to correct
            before = before or NOT_PUBLISHED
            types = frozenset(t for t in str(row.support_types).split("|") if t)
            if (before.eligible, before.eligible_dwellings, before.support_types) == (
                    bool(row.eligible), int(row.eligible_dwellings), types):
                continue
            change = ADDED if row.eligible and not before.eligible else CHANGED
            case_ref = "|".join(sorted(refs.get(str(row.connection_kind), {}).get(row.aris_code, set())))
            rows.append((row.object_id, row.aris_code, row.address, row.connection_kind, int(row.eligible),
                         int(row.eligible_dwellings), row.support_types, change, case_ref))
        changes.append(RecipientChanges(folder, SUPPLIER_CHANGE_COLUMNS, rows))
    return changes


def _municipality_changes(of_interest: pd.DataFrame, corrected: pd.DataFrame, upheld: Mapping[str, str],
                          original: PublishedOutbox, sets: list[CorrectionSet]) -> list[RecipientChanges]:
    """The municipality gets each changed address with its new status (§16)."""
    status_now = dict(zip(corrected["aris_code"], corrected["status"], strict=True))
    changes = []
    lived_in = of_interest.loc[of_interest["members"] > 0].sort_values("aris_code", kind="stable")
    for municipality, own in lived_in.groupby("municipality_code", sort=True):
        folder = f"municipalities/{municipality}"
        had = merged_municipality_rows(original, sets, folder)
        rows = []
        for row in own.itertuples(index=False):
            before, status = had.get(row.aris_code), status_now[row.aris_code]
            if before is None:
                continue
            eligible = status == ELIGIBLE
            if before.eligible == eligible and before.status in ("", status):
                continue
            rows.append((row.aris_code, row.address, int(eligible), status,
                         ADDED if eligible and not before.eligible else CHANGED, upheld.get(row.aris_code, "")))
        changes.append(RecipientChanges(folder, MUNICIPALITY_CHANGE_COLUMNS, rows))
    return changes
