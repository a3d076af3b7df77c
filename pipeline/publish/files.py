"""Every recipient's file for period P (CONTRACTS §10), written into a build folder from the decision tables.

Row order is stable and documented: supplier and trader files by `object_id`, address errors by `object_id` then
`reason`, municipality files by `aris_code` (all plain code-point order). Only these columns ever leave: object
ids, ARIS codes, address texts, connection kinds and flags. No personal code, name or income.
Publish reads only what decide handed over (`<workdir>/<P>/decisions/`): never the staging or the quarantine.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipeline.config import WorkLayout
from pipeline.csvio import render_columns
from pipeline.decide.rules import ELIGIBLE
from pipeline.handoff import RecipientFile
from pipeline.logs import get_logger
from pipeline.publish.companion import with_companions

log = get_logger("publish.files")

SUPPLIER_COLUMNS = ("object_id", "aris_code", "address", "connection_kind", "eligible", "eligible_dwellings",
                    "support_types")
ERROR_COLUMNS = ("object_id", "aris_code", "address", "reason")
MUNICIPALITY_COLUMNS = ("aris_code", "address", "eligible", "status")
UNREACHED_COLUMNS = ("aris_code", "address")


def _write(build: Path, relative: str, header: tuple[str, ...], frame: pd.DataFrame) -> list[RecipientFile]:
    """The file (its spreadsheet companion comes after every CSV is written: `build_recipient_files`)."""
    target = build / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(render_columns(header, [frame[name].tolist() for name in header]))  # nan stays `nan`
    return [RecipientFile(relative, len(frame))]


def _sorted(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    return frame.sort_values(list(columns), kind="stable")


def _groups(frame: pd.DataFrame, column: str) -> dict[str, pd.DataFrame]:
    """The frame's rows per value of `column`, each in the frame's order (one pass, not one scan per value)."""
    return {str(value): group for value, group in frame.groupby(column, sort=False)}


def build_recipient_files(layout: WorkLayout, build: Path) -> list[RecipientFile]:
    """Write every recipient file for P into `build`, then the spreadsheet companions of the kinds people open
    (`publish.companion`), and return what was written, sorted by path. The files fall into groups that read
    different decision tables and write different folders; a failed group fails the whole build."""
    written = [
        *_dso_files(layout, build, "electricity"),
        *_municipality_files(layout, build),
        *_trader_files(layout, build, "electricity"),
        *_dso_files(layout, build, "gas"),
        *_heat_files(layout, build),
        *_trader_files(layout, build, "gas"),
        *_unreached_files(layout, build),
    ]
    written = with_companions(build, written)
    log.info("built %d recipient files", len(written))
    return sorted(written, key=lambda item: item.path)


def _good_objects(layout: WorkLayout, commodity: str, *extra: str) -> pd.DataFrame:
    """The commodity's decided objects whose address exists, with the columns a supplier file shows (and
    `extra`), in the decided order: the jobs read only what they write."""
    decided = pd.read_parquet(layout.decided(commodity), columns=[*SUPPLIER_COLUMNS, *extra, "address_error"])
    return decided.loc[decided["address_error"].isna()]


def _dso_files(layout: WorkLayout, build: Path, commodity: str) -> list[RecipientFile]:
    """The DSO's list of every object of one commodity, and the rows that go back to it."""
    folder = f"dso_{commodity}"
    good = _sorted(_good_objects(layout, commodity), "object_id")
    written = _write(build, f"{folder}/eligibility.csv", SUPPLIER_COLUMNS, good)
    returned = pd.read_parquet(layout.decided(f"{commodity}_returned"))
    if len(returned):
        written.extend(_write(build, f"{folder}/address_errors.csv", ERROR_COLUMNS, returned))
    return written


def _trader_files(layout: WorkLayout, build: Path, commodity: str) -> list[RecipientFile]:
    """Each trader of one commodity gets its eligible objects by `object_id` (a trader with none gets the header
    only). Only the eligible rows are sorted: a stable sort of them keeps the order they have in the DSO's list."""
    good = _good_objects(layout, commodity, "company_reg_no")
    eligible = _groups(_sorted(good.loc[good["eligible"] == 1], "object_id"), "company_reg_no")
    written = []
    for trader in sorted(good["company_reg_no"].dropna().unique()):   # in C: a set() of 900 000 texts is not
        written.extend(_write(build, f"traders_{commodity}/{trader}/eligibility.csv", SUPPLIER_COLUMNS,
                              eligible.get(trader, good.iloc[:0])))
    return written


def _heat_files(layout: WorkLayout, build: Path) -> list[RecipientFile]:
    """Each heat supplier gets only its own objects; its rejected rows go back to its own folder."""
    decided = pd.read_parquet(layout.decided("heat"))
    returned = pd.read_parquet(layout.decided("heat_returned"))
    orphans = returned["company_reg_no"].isna()
    if orphans.any():
        log.warning("heat: %d rejected rows come from files with no valid row; they stay in the quarantine only",
                    int(orphans.sum()))
    good = _groups(_sorted(decided.loc[decided["address_error"].isna()], "object_id"), "company_reg_no")
    errors_of = _groups(returned, "company_reg_no")
    written = []
    for supplier in sorted(set(decided["company_reg_no"])):
        written.extend(_write(build, f"heat/{supplier}/eligibility.csv", SUPPLIER_COLUMNS,
                              good.get(supplier, decided.iloc[:0])))
        errors = errors_of.get(supplier, returned.iloc[:0])
        if len(errors):
            written.extend(_write(build, f"heat/{supplier}/address_errors.csv", ERROR_COLUMNS, errors))
    return written


def _municipality_files(layout: WorkLayout, build: Path) -> list[RecipientFile]:
    """Every municipality gets every address in its territory where a counting person lives, with the flag and
    the household's status (CONTRACTS v1.2 §10): `eligible` is 1 only for `ELIGIBLE`, and `status` lets a social
    worker tell a household being checked (`REVIEW`) from one that is `NOT_ELIGIBLE`."""
    households = pd.read_parquet(layout.decided("households"))
    municipalities = pd.read_parquet(layout.decided("municipalities"))["municipality_code"]
    lived_in = households.loc[households["members"] > 0].copy()
    lived_in["eligible"] = (lived_in["status"] == ELIGIBLE).astype("int64")
    by_municipality = _groups(_sorted(lived_in, "aris_code"), "municipality_code")
    written = []
    for municipality in sorted(municipalities):
        own = by_municipality.get(municipality, lived_in.iloc[:0])
        written.extend(_write(build, f"municipalities/{municipality}/households.csv", MUNICIPALITY_COLUMNS, own))
    return written


def _unreached_files(layout: WorkLayout, build: Path) -> list[RecipientFile]:
    """Every municipality gets its ELIGIBLE addresses that no supplier list reaches (§17, decided in
    `decide.coverage`): the households to reach directly. Header-only where there are none."""
    unreached = pd.read_parquet(layout.decided("unreached"))
    municipalities = pd.read_parquet(layout.decided("municipalities"))["municipality_code"]
    by_municipality = _groups(_sorted(unreached, "aris_code"), "municipality_code")
    return [item for municipality in sorted(municipalities)
            for item in _write(build, f"municipalities/{municipality}/unreached.csv", UNREACHED_COLUMNS,
                               by_municipality.get(municipality, unreached.iloc[:0]))]
