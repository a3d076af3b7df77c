"""What the staff portal (CONTRACTS §14) reads, derived from one decided period and written by `record_period` in
the same transaction as the period's other rows.

- `portal_persons`: each counting person's key (the HMAC of the code), household and sealed display name;
- `portal_name_tokens`: one row per (name-token key, person), for diacritics-insensitive, any-order name search;
- `portal_households`: the folded address for prefix search and the household's income by month and source;
- `portal_household_ids`: one random opaque id per address, kept across periods (URLs never carry the code).

All vectorised: at national scale (≈1.9 M persons, ≈0.9 M households) this is a few column operations.
"""

from __future__ import annotations

import secrets

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from pipeline.config import WorkLayout
from pipeline.quality.pseudonym import fold

PORTAL_PERIOD_TABLES = ("portal_persons", "portal_name_tokens", "portal_households")


def person_rows(layout: WorkLayout) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Counting persons (person_key, aris_code, name_sealed) and their name-token rows (token_key, person_key)."""
    staged = pq.read_table(layout.staged("pmlp"),
                           columns=["person_key", "aris_code", "counts", "name_keys", "name_sealed"]).to_pandas()
    persons = staged.loc[staged["counts"], ["person_key", "aris_code", "name_sealed", "name_keys"]]
    tokens = (persons[["person_key"]].assign(token_key=persons["name_keys"].str.split(" "))
              .explode("token_key").dropna().drop_duplicates())
    tokens = tokens.loc[tokens["token_key"] != ""]
    return persons.drop(columns="name_keys"), tokens[["token_key", "person_key"]]


def household_rows(layout: WorkLayout, households: pd.DataFrame) -> pd.DataFrame:
    """Per household: folded address and `income_months` = `YYYY-MM=<VID cents>/<VSAA cents>` joined by `|`.

    Each member's month is taken as recorded in members.parquet (rounded to the cent there) and summed exactly
    in integer cents."""
    members = pd.read_parquet(layout.decided("members"))
    months = sorted(c[len("vid_"):] for c in members.columns if c.startswith("vid_"))
    cents = pd.DataFrame({"aris_code": members["aris_code"]})
    for source in ("vid", "vsaa"):
        for month in months:
            cents[f"{source}_{month}"] = np.rint(members[f"{source}_{month}"].to_numpy() * 100).astype(np.int64)
    totals = cents.groupby("aris_code", sort=False).sum()
    totals = totals.reindex(households["aris_code"].to_numpy(), fill_value=0)
    parts = [month + "=" + totals[f"vid_{month}"].astype(str) + "/" + totals[f"vsaa_{month}"].astype(str)
             for month in months]
    income = parts[0].str.cat(parts[1:], sep="|") if parts else pd.Series("", index=totals.index)
    return pd.DataFrame({"aris_code": households["aris_code"].to_numpy(),
                         "address_search": households["address"].fillna("").map(fold).to_numpy(),
                         "income_months": income.to_numpy()})


def new_household_ids(known: set[str], aris_codes: pd.Series) -> list[tuple[str, str]]:
    """A random opaque id for every address that has none yet (kept forever: an address id is not personal)."""
    return [(code, secrets.token_urlsafe(15)) for code in sorted(set(aris_codes.astype(str)) - known)]
