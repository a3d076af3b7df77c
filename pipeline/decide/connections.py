"""Matching every connection to the ELIGIBLE households at once (CONTRACTS §6, §9, §10), as named DuckDB queries.

`ELIGIBLE_DWELLINGS` is `rules.eligible_dwellings` (INDIVIDUAL: 1 when its code holds an ELIGIBLE household;
COMMON: the ELIGIBLE households whose `rules.building_of` is its code; DISCONNECTED: never) and
`CONNECTION_DECISION` is `rules.is_connection_eligible` and `rules.connection_support_types`. A row whose
aris_code is not an existing (EKS) address is not decided: it goes back to its sender.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipeline import engine
from pipeline.decide.rules import ELIGIBLE, connection_support_types

ADDRESS_ERROR_REASONS = {"UNKNOWN": "UNKNOWN_ADDRESS", "DEL": "ADDRESS_DELETED", "ERR": "ADDRESS_ERRONEOUS"}

ELIGIBLE_DWELLINGS = """
-- §9: "An INDIVIDUAL connection is eligible when its aris_code holds an ELIGIBLE household. A COMMON connection at
-- a building code is eligible when any ELIGIBLE household lives at the building code or at a premises (type 109)
-- under it; eligible_dwellings counts them." §10: "1 or 0 for an INDIVIDUAL one"; a DISCONNECTED object, or one
-- at an address that does not exist (not EKS), is never flagged.
CREATE TEMP VIEW dwellings AS
WITH at_code AS (SELECT aris_code, count(*) AS eligible FROM eligible_households GROUP BY aris_code),
     in_building AS (SELECT building AS aris_code, count(*) AS eligible FROM eligible_households GROUP BY building)
SELECT c.row,
       CASE WHEN c.status <> 'ACTIVE' OR c.address_status IS DISTINCT FROM 'EKS' THEN 0
            WHEN c.connection_kind = 'COMMON' THEN coalesce(in_building.eligible, 0)
            ELSE least(coalesce(at_code.eligible, 0), 1)
       END AS eligible_dwellings
FROM connections c LEFT JOIN at_code USING (aris_code) LEFT JOIN in_building USING (aris_code)
"""

CONNECTION_DECISION = """
-- §10: "eligible 1/0" (rules.is_connection_eligible); "support_types: for an eligible object the types on for P
-- for that commodity" (rules.connection_support_types), empty otherwise; a non-existing address's reason code.
SELECT c.* EXCLUDE (row),
       (d.eligible_dwellings > 0)::BIGINT AS eligible, d.eligible_dwellings::BIGINT AS eligible_dwellings,
       CASE WHEN d.eligible_dwellings > 0 THEN $support_types ELSE '' END AS support_types,
       CASE WHEN c.address_status IS DISTINCT FROM 'EKS' THEN e.reason END AS address_error
FROM connections c JOIN dwellings d USING (row)
LEFT JOIN address_error_reasons e USING (address_status)
ORDER BY c.row
"""


def eligible_households(households: pd.DataFrame) -> pa.Table:
    """The ELIGIBLE households' codes and buildings (`rules.building_of`: the parent building of a premises, the
    code itself otherwise), taken once per month and handed to every commodity's decision."""
    # filtered in Arrow: a pandas filter copies the texts through a slower take
    eligible = pa.array((households["status"] == ELIGIBLE).to_numpy())
    codes = pa.array(households["aris_code"], type=pa.string())
    buildings = pc.coalesce(pa.array(households["building_code"], type=pa.string()), codes)
    return pa.table({"aris_code": codes.filter(eligible), "building": buildings.filter(eligible)})


def decide_connections(connections: pd.DataFrame, eligible: pa.Table, support_on: list[str],
                       commodity: str) -> pd.DataFrame:
    """Decision columns for every staged connection whose address exists; others get `address_error`."""
    reasons = pa.table({"address_status": list(ADDRESS_ERROR_REASONS), "reason": list(ADDRESS_ERROR_REASONS.values())})
    with _dwellings(pa.Table.from_pandas(connections, preserve_index=False), eligible) as db:
        db.register("address_error_reasons", reasons)
        decided = db.sql(CONNECTION_DECISION, params={
            "support_types": connection_support_types(commodity, support_on)}).to_arrow_table()
    return decided.to_pandas()


def eligible_dwellings_total(connections: pa.Table, eligible: pa.Table) -> int:
    """Σ `eligible_dwellings` over one commodity's connections: `ELIGIBLE_DWELLINGS`, the statement
    `decide_connections` runs, counted without the decision's other columns (a simulated variant's count;
    `connections` needs only `aris_code`, `connection_kind`, `status` and `address_status`)."""
    with _dwellings(connections, eligible) as db:
        return int(db.execute("SELECT coalesce(sum(eligible_dwellings), 0) FROM dwellings").fetchone()[0])


def _dwellings(staged: pa.Table, eligible: pa.Table) -> duckdb.DuckDBPyConnection:
    """A DuckDB holding the connections (numbered `row`), the ELIGIBLE households and the `dwellings` view."""
    db = engine.connect()
    db.register("connections", staged.append_column("row", pa.array(np.arange(staged.num_rows, dtype=np.int64))))
    db.register("eligible_households", eligible)
    db.execute(ELIGIBLE_DWELLINGS)
    return db


def returned_rows(decided: pd.DataFrame, quarantined: pd.DataFrame) -> pd.DataFrame:
    """Rows that go back to their sender (`address_errors.csv`, §10): non-existing addresses, and rows quarantined
    with their reason code, each with the `company_reg_no` of the sender file it came from (a heat supplier gets
    only its own rows back; a rejected row of a file with no valid row has no known sender and stays in the
    quarantine only). Sorted by `object_id` then `reason`."""
    unknown = decided.loc[decided["address_error"].notna(), ["object_id", "aris_code", "address", "address_error",
                                                               "file", "company_reg_no"]]
    unknown = unknown.rename(columns={"address_error": "reason"})
    sender_of_file = decided.groupby("file")["company_reg_no"].agg(lambda values: values.mode().iloc[0])
    rejected = quarantined.rename(columns={"record_key": "object_id", "sender_text": "address"})
    rejected = rejected.loc[rejected["object_id"].notna(), ["object_id", "aris_code", "address", "reason", "file"]]
    rejected["company_reg_no"] = rejected["file"].map(sender_of_file)
    both = pd.concat([unknown, rejected], ignore_index=True)
    return both.sort_values(["object_id", "reason"], kind="stable").reset_index(drop=True)
