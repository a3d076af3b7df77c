"""Every recipient's file for period P (CONTRACTS §10), written into a build folder.

Row order is stable and documented: supplier and trader files by `object_id`, address errors by `object_id` then
`reason`, municipality files by `aris_code` (all plain code-point order). Only these columns ever leave: object
ids, ARIS codes, address texts, connection kinds and flags. No personal code, name or income.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from pipeline.config import WorkLayout
from pipeline.csvio import render_csv
from pipeline.decide.households import ELIGIBLE
from pipeline.logs import get_logger

log = get_logger("publish.files")

SUPPLIER_COLUMNS = ("object_id", "aris_code", "address", "connection_kind", "eligible", "eligible_dwellings",
                    "support_types")
ERROR_COLUMNS = ("object_id", "aris_code", "address", "reason")
MUNICIPALITY_COLUMNS = ("aris_code", "address", "eligible")


@dataclass(frozen=True)
class RecipientFile:
    """One file written for a recipient: its path under `<outbox>/<P>`, who gets it, and its row count."""

    path: str
    recipient_kind: str
    recipient_id: str
    rows: int


def _write(build: Path, relative: str, header: tuple[str, ...], frame: pd.DataFrame, kind: str,
           recipient: str) -> RecipientFile:
    target = build / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    rows = frame[list(header)].itertuples(index=False, name=None)
    target.write_bytes(render_csv(header, rows))
    return RecipientFile(relative, kind, recipient, len(frame))


def _sorted(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    return frame.sort_values(list(columns), kind="stable")


def address_errors(decided: pd.DataFrame, quarantined: pd.DataFrame) -> pd.DataFrame:
    """Rows returned to the sender: non-existing addresses, and rows quarantined with their reason code."""
    unknown = decided.loc[decided["address_error"].notna(), ["object_id", "aris_code", "address", "address_error",
                                                               "file"]]
    unknown = unknown.rename(columns={"address_error": "reason"})
    rejected = quarantined.rename(columns={"record_key": "object_id", "sender_text": "address"})
    rejected = rejected.loc[rejected["object_id"].notna(), ["object_id", "aris_code", "address", "reason", "file"]]
    return _sorted(pd.concat([unknown, rejected], ignore_index=True), "object_id", "reason")


def build_recipient_files(layout: WorkLayout, build: Path) -> list[RecipientFile]:
    """Write every recipient file for P into `build` and return what was written."""
    written: list[RecipientFile] = []
    for commodity in ("electricity", "gas"):
        decided = pd.read_parquet(layout.decisions / f"{commodity}.parquet")
        quarantined = pq.read_table(layout.quarantined(commodity)).to_pandas()
        good = _sorted(decided.loc[decided["address_error"].isna()], "object_id")
        folder = f"dso_{commodity}"
        written.append(_write(build, f"{folder}/eligibility.csv", SUPPLIER_COLUMNS, good, "dso", commodity))
        errors = address_errors(decided, quarantined)
        if len(errors):
            written.append(_write(build, f"{folder}/address_errors.csv", ERROR_COLUMNS, errors, "dso", commodity))
        for trader, objects in good.groupby("company_reg_no", sort=True):
            eligible = objects.loc[objects["eligible"] == 1]
            written.append(_write(build, f"traders_{commodity}/{trader}/eligibility.csv", SUPPLIER_COLUMNS,
                                  eligible, f"trader_{commodity}", str(trader)))
    written.extend(_heat_files(layout, build))
    written.extend(_municipality_files(layout, build))
    log.info("built %d recipient files", len(written))
    return sorted(written, key=lambda item: item.path)


def _heat_files(layout: WorkLayout, build: Path) -> list[RecipientFile]:
    """Each heat supplier gets only its own objects; its rejected rows go back to its own folder."""
    decided = pd.read_parquet(layout.decisions / "heat.parquet")
    quarantined = pq.read_table(layout.quarantined("heat")).to_pandas()
    supplier_of_file = decided.groupby("file")["company_reg_no"].agg(lambda values: values.mode().iloc[0])
    quarantined["company_reg_no"] = quarantined["file"].map(supplier_of_file)
    orphans = quarantined["company_reg_no"].isna() & quarantined["record_key"].notna()
    if orphans.any():
        log.warning("heat: %d rejected rows come from files with no valid row; they stay in the quarantine only",
                    int(orphans.sum()))
    written = []
    suppliers = sorted(set(decided["company_reg_no"]) | set(quarantined["company_reg_no"].dropna()))
    for supplier in suppliers:
        own = decided.loc[decided["company_reg_no"] == supplier]
        good = _sorted(own.loc[own["address_error"].isna()], "object_id")
        written.append(_write(build, f"heat/{supplier}/eligibility.csv", SUPPLIER_COLUMNS, good, "heat", supplier))
        errors = address_errors(own, quarantined.loc[quarantined["company_reg_no"] == supplier])
        if len(errors):
            written.append(_write(build, f"heat/{supplier}/address_errors.csv", ERROR_COLUMNS, errors, "heat",
                                  supplier))
    return written


def _municipality_files(layout: WorkLayout, build: Path) -> list[RecipientFile]:
    """Every municipality gets every address in its territory where a counting person lives, with the flag."""
    households = pd.read_parquet(layout.decisions / "households.parquet")
    register = pq.read_table(layout.staged("aris"), columns=["aris_code", "status", "municipality_code"]).to_pandas()
    municipalities = register.loc[(register["aris_code"] == register["municipality_code"])
                                  & (register["status"] == "EKS"), "aris_code"]
    lived_in = households.loc[households["members"] > 0].copy()
    lived_in["eligible"] = (lived_in["status"] == ELIGIBLE).astype("int64")
    written = []
    for municipality in sorted(municipalities):
        own = _sorted(lived_in.loc[lived_in["municipality_code"] == municipality], "aris_code")
        written.append(_write(build, f"municipalities/{municipality}/households.csv", MUNICIPALITY_COLUMNS, own,
                              "municipality", municipality))
    return written
