"""Which households the suppliers' lists reach (CONTRACTS §17 "Coverage"), and the eligible ones they cannot.

A household is reached by a commodity when that commodity's list holds an `ACTIVE` connection at an existing
address that would carry its support (§9): an `INDIVIDUAL` connection at the household's own code, or a `COMMON`
connection at its building (`rules.building_of`: the parent building of a premises, the code itself for a
building). That is exactly what `decide.connections` counts in `eligible_dwellings`, read from the household's
side: the sum over households of the connections reaching them equals the sum of `eligible_dwellings` over the
connections, for any set of ELIGIBLE households (`reaching_connections`), which the simulation also uses to split
its dwellings by municipality, household size and income decile.

Eligible households no list reaches are the ones to reach directly: each municipality gets them in
`unreached.csv` (§17), and `summaries/coverage.csv` counts them per municipality.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline.catalog import CONNECTION_COMMODITIES
from pipeline.config import WorkLayout
from pipeline.csvio import read_columns, render_columns
from pipeline.decide.rules import ELIGIBLE

COVERAGE_FILE = "coverage.csv"      # in `<workdir>/<P>/summaries/`: counts only, kept past retention
COVERAGE_COLUMNS = ("municipality", "eligible_households", "with_electricity", "with_gas", "with_heat", "with_none")
UNREACHED_COLUMNS = ("aris_code", "address", "municipality_code")


CONNECTION_COLUMNS = ["aris_code", "connection_kind", "status", "address_status"]    # what reaching reads


def count_at(codes: pd.Series, counts: pa.StructArray) -> np.ndarray:
    """The count of every code in `counts` (Arrow's `value_counts`), 0 where it has none: one Arrow hash look-up
    (`Series.map` over text keys goes cell by cell in Python, over the 900 000 national electricity objects)."""
    at = pc.index_in(pa.array(codes, type=pa.string()), value_set=counts.field("values").cast(pa.string()))
    found = pc.take(counts.field("counts").cast(pa.int64()), at)
    return pc.fill_null(found, 0).to_numpy()


def reaching_connections(households: pd.DataFrame, connections: pa.Table) -> np.ndarray:
    """Per household (in the frame's order), how many of one commodity's connections could carry its support:
    active, at an existing (`EKS`) address, `INDIVIDUAL` at its own code or `COMMON` at its building."""
    usable = connections.filter(pc.and_(pc.equal(connections["status"], "ACTIVE"),
                                        pc.equal(connections["address_status"], "EKS")))   # a null is neither
    common = pc.fill_null(pc.equal(usable["connection_kind"], "COMMON"), False)
    individual_at = pc.value_counts(usable.filter(pc.invert(common))["aris_code"])
    common_at = pc.value_counts(usable.filter(common)["aris_code"])
    building = households["building_code"].fillna(households["aris_code"])     # rules.building_of
    return count_at(households["aris_code"], individual_at) + count_at(building, common_at)


def household_reach(households: pd.DataFrame, connections: dict[str, pa.Table]) -> pd.DataFrame:
    """One column per commodity: the connections reaching each household (`reaching_connections`)."""
    return pd.DataFrame({commodity: reaching_connections(households, connections[commodity])
                         for commodity in CONNECTION_COMMODITIES}, index=households.index)


def coverage_by_municipality(households: pd.DataFrame, reach: pd.DataFrame,
                             municipalities: pd.Series) -> pd.DataFrame:
    """`summaries/coverage.csv`'s rows: for every municipality (in code order), its ELIGIBLE households, those
    reached by each commodity, and those reached by none."""
    eligible = (households["status"] == ELIGIBLE).to_numpy()
    reached = reach.loc[eligible] > 0
    counts = pd.DataFrame({"municipality": households.loc[eligible, "municipality_code"].to_numpy(),
                           "eligible_households": 1,
                           **{f"with_{c}": reached[c].to_numpy().astype("int64") for c in CONNECTION_COMMODITIES},
                           "with_none": (~reached.any(axis=1)).to_numpy().astype("int64")})
    per = counts.groupby("municipality").sum()
    every = sorted(set(municipalities.dropna()) | set(per.index.dropna()))
    per = per.reindex(every, fill_value=0).astype("int64")
    return per.rename_axis("municipality").reset_index()[list(COVERAGE_COLUMNS)]


def unreached_households(households: pd.DataFrame, reach: pd.DataFrame) -> pd.DataFrame:
    """The ELIGIBLE households no list reaches: address code, address text and municipality, in code order."""
    lost = (households["status"] == ELIGIBLE).to_numpy() & ~(reach > 0).any(axis=1).to_numpy()
    unreached = households.loc[lost, list(UNREACHED_COLUMNS)]
    return unreached.sort_values("aris_code", kind="stable").reset_index(drop=True)


def write_coverage(layout: WorkLayout, households: pd.DataFrame) -> pd.DataFrame:
    """After the connections are decided: `summaries/coverage.csv` and `decisions/unreached.parquet` (which
    publish turns into each municipality's `unreached.csv`). Returns the coverage rows."""
    connections = {commodity: pq.read_table(layout.decided(commodity), columns=CONNECTION_COLUMNS)
                   for commodity in CONNECTION_COMMODITIES}
    reach = household_reach(households, connections)
    municipalities = pd.read_parquet(layout.decided("municipalities"), columns=["municipality_code"])
    coverage = coverage_by_municipality(households, reach, municipalities["municipality_code"])
    unreached_households(households, reach).to_parquet(layout.decided("unreached"), index=False)
    layout.summaries.mkdir(parents=True, exist_ok=True)
    (layout.summaries / COVERAGE_FILE).write_bytes(
        render_columns(COVERAGE_COLUMNS, [coverage[name].tolist() for name in COVERAGE_COLUMNS]))
    return coverage


def read_coverage(layout: WorkLayout) -> pd.DataFrame | None:
    """P's `summaries/coverage.csv` as counts, or None for a month decided before coverage was counted."""
    path = layout.summaries / COVERAGE_FILE
    if not path.exists():
        return None
    _, columns = read_columns(path, COVERAGE_COLUMNS)
    return pd.DataFrame(columns).astype({"municipality": "string", **{name: "int64" for name in COVERAGE_COLUMNS[1:]}})
