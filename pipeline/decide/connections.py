"""Matching every connection to the ELIGIBLE households at once (CONTRACTS §6, §9, §10).

The vectorised form of `rules.eligible_dwellings` (INDIVIDUAL: 1 when its code holds an ELIGIBLE household;
COMMON: the ELIGIBLE households whose `rules.building_of` is its code; DISCONNECTED: never) and of
`rules.connection_support_types`. A row whose aris_code is not an existing (EKS) address is not decided: it goes
back to its sender.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.decide.rules import ELIGIBLE, connection_support_types

ADDRESS_ERROR_REASONS = {"UNKNOWN": "UNKNOWN_ADDRESS", "DEL": "ADDRESS_DELETED", "ERR": "ADDRESS_ERRONEOUS"}


@dataclass(frozen=True)
class EligibleCounts:
    """ELIGIBLE households per exact ARIS code, and per building (`rules.building_of`)."""

    per_code: pd.Series
    per_building: pd.Series


def eligible_counts(households: pd.DataFrame) -> EligibleCounts:
    """Counted once per month and handed to every commodity's job: each counting them again grouped the 830 000
    national households by text three times over."""
    eligible = households.loc[households["status"] == ELIGIBLE]
    per_code = eligible.groupby("aris_code").size()
    building = eligible["building_code"].fillna(eligible["aris_code"])
    per_building = eligible.groupby(building.to_numpy()).size()
    return EligibleCounts(per_code, per_building)


def count_at(codes: pd.Series, counts: pd.Series) -> np.ndarray:
    """`counts[code]` for every code, 0 where it has none: one Arrow hash look-up (`Series.map` over text keys
    goes cell by cell in Python, seconds for the 900 000 electricity objects)."""
    at = pc.index_in(pa.array(codes, type=pa.string()), value_set=pa.array(counts.index, type=pa.string()))
    found = pc.take(pa.array(counts.to_numpy(dtype=np.int64)), at)
    return pc.fill_null(found, 0).to_numpy()


def decide_connections(connections: pd.DataFrame, eligible: EligibleCounts, support_on: list[str],
                       commodity: str) -> pd.DataFrame:
    """Decision columns for every staged connection whose address exists; others get `address_error`."""
    frame = connections.copy()
    exists = frame["address_status"] == "EKS"
    active = frame["status"] == "ACTIVE"
    common = frame["connection_kind"] == "COMMON"
    at_code = count_at(frame["aris_code"], eligible.per_code)
    in_building = count_at(frame["aris_code"], eligible.per_building)
    dwellings = np.where(common, in_building, np.minimum(at_code, 1))
    dwellings = np.where(active & exists, dwellings, 0)
    frame["eligible"] = (dwellings > 0).astype("int64")
    frame["eligible_dwellings"] = dwellings.astype("int64")
    types = connection_support_types(commodity, support_on)
    frame["support_types"] = np.where(frame["eligible"] == 1, types, "")
    frame["address_error"] = np.where(exists, None, frame["address_status"].map(ADDRESS_ERROR_REASONS))
    return frame


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
