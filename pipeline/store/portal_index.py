"""What the staff portal (CONTRACTS §14) reads, derived from one decided period and written by `record_period` in
the same transaction as the period's other rows.

- `portal_persons`: each counting person's key (the HMAC of the code), household and sealed display name;
- `portal_name_tokens`: one row per (name-token key, person) and per (pair of its tokens, person), for
  diacritics-insensitive, any-order name search that reads a name-and-surname's few rows (`pair_key`);
- `portal_households`: the folded address for prefix search and the household's income by month and source;
- `portal_household_ids`: one random opaque id per address, kept across periods (URLs never carry the code);
- `portal_review_records`: per REVIEW household, where its members' quarantined records stand and why.

All vectorised: at national scale (≈1.9 M persons, ≈0.9 M households) this is a few column operations. Rows come
in their table's primary-key order, so the month's indexes are built from presorted rows when it is attached.
"""

from __future__ import annotations

import secrets

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline import engine
from pipeline.config import WorkLayout
from pipeline.decide.rules import is_counting_person
from pipeline.quality.pseudonym import fold_array

PORTAL_PERIOD_TABLES = ("portal_persons", "portal_name_tokens", "portal_households", "portal_review_records")
REVIEW_RECORD_COLUMNS = ["aris_code", "source", "file", "record", "line", "reason"]


def person_rows(layout: WorkLayout) -> tuple[pa.Table, pa.Table]:
    """Counting persons (person_key, aris_code, name_sealed) and their name-token rows (token_key, person_key), each
    in the order of its table's primary key (`in_key_order`). Both stay Arrow tables: they are written to the store
    as they are (`copy_arrow`), never as pandas objects."""
    staged = pq.read_table(layout.staged("pmlp"), columns=["person_key", "aris_code", "status", "vital", "name_keys",
                                                           "name_sealed"])
    counting = is_counting_person(staged["status"].to_numpy(zero_copy_only=False),
                                  staged["vital"].to_numpy(zero_copy_only=False))
    staged = staged.filter(pa.array(counting))
    staged = in_key_order(staged.select(["person_key", "aris_code", "name_sealed", "name_keys"]), ["person_key"])
    return staged.select(["person_key", "aris_code", "name_sealed"]), token_rows(staged)


def token_rows(staged: pa.Table) -> pa.Table:
    """Rows (token key, person) for each distinct token of the space-joined `name_keys`, and rows (pair key,
    person) for every two distinct tokens of a person (`pair_key`: the two joined, the lesser first), in key order.
    `staged` (person_key, name_keys) is in person_key order.

    Ordered by two integers, not by ≈5.6 M national pairs of strings: each key's rank among the month's distinct keys
    (`_rank`) and its person's place in `staged`, one 64-bit number per row that numpy sorts in a moment."""
    lists = pc.split_pattern(staged["name_keys"], " ")
    owner = pc.list_parent_indices(lists)
    tokens = pa.table({"token_key": pc.list_flatten(lists), "owner": owner})
    tokens = tokens.filter(pc.not_equal(tokens["token_key"], ""))
    rows = pa.concat_tables([tokens, _pairs(lists, tokens)])
    keys = staged["person_key"]
    person_rank = np.cumsum(np.concatenate(([0], pc.not_equal(keys[1:], keys[:-1]).to_numpy(zero_copy_only=False)))
                            if len(keys) else np.zeros(0, dtype=np.int64))  # one rank for a key staged twice
    order = (_rank(rows["token_key"]).astype(np.uint64) << np.uint64(32)) | person_rank[
        rows["owner"].to_numpy()].astype(np.uint64)
    sort = np.argsort(order, kind="stable")
    ordered = order[sort]
    first = np.concatenate((np.ones(min(len(ordered), 1), dtype=bool), ordered[1:] != ordered[:-1]))
    once = sort[first]  # a token twice in one name counts once
    rows = rows.take(pa.array(once))
    return pa.table({"token_key": rows["token_key"], "person_key": pc.take(staged["person_key"], rows["owner"])})


def _pairs(lists: pa.ListArray | pa.ChunkedArray, tokens: pa.Table) -> pa.Table:
    """(pair key, owner) for every two distinct tokens of each name: a name of two tokens (almost all) is paired in
    place; the few longer ones through a join of their tokens."""
    lengths = pc.list_value_length(lists)
    two = pc.equal(lengths, 2)
    first, second = pc.list_element(lists.filter(two), 0), pc.list_element(lists.filter(two), 1)
    ordered = pc.less(first, second)
    paired = pa.table({"token_key": pc.binary_join_element_wise(pc.if_else(ordered, first, second),
                                                                pc.if_else(ordered, second, first), ""),
                       "owner": pc.indices_nonzero(two).cast(tokens["owner"].type)})
    paired = paired.filter(pc.and_(pc.not_equal(first, second),
                                   pc.and_(pc.not_equal(first, ""), pc.not_equal(second, ""))))
    longer = tokens.filter(pc.is_in(tokens["owner"], value_set=pc.indices_nonzero(pc.greater(lengths, 2)).cast(
        tokens["owner"].type)))
    joined = longer.rename_columns(["first", "owner"]).join(longer.rename_columns(["second", "owner"]), keys="owner")
    joined = joined.filter(pc.less(joined["first"], joined["second"]))
    return pa.concat_tables([paired, pa.table({
        "token_key": pc.binary_join_element_wise(joined["first"], joined["second"], ""), "owner": joined["owner"]})])


def _rank(keys: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Each key's rank (from 0) in the byte order of the distinct keys: equal keys share one."""
    encoded = pc.dictionary_encode(keys)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.unify_dictionaries().combine_chunks() if encoded.num_chunks else pa.array(
            [], pa.dictionary(pa.int32(), pa.string()))
    ranks = pc.rank(encoded.dictionary, sort_keys="ascending").to_numpy() - 1
    return ranks[encoded.indices.to_numpy(zero_copy_only=False)]


def in_key_order(rows: pa.Table, keys: list[str]) -> pa.Table:
    """`rows` ordered by `keys`, the leading columns of the primary key of the table they are copied into.

    A month's indexes are built when it is attached; PostgreSQL's sort finds rows already in order in one pass,
    where it otherwise compares each key ≈20 times under the database's collation (every key column is ASCII, for
    which the byte order DuckDB sorts by is the collation's order; if it were not, only the speed would differ)."""
    with engine.connect() as db:
        db.register("unordered", rows)
        return db.sql(f"SELECT * FROM unordered ORDER BY {', '.join(keys)}").to_arrow_table()


def household_rows(layout: WorkLayout, households: pa.Table) -> pa.Table:
    """Per household: folded address and `income_months` = `YYYY-MM=<VID cents>/<VSAA cents>` joined by `|`.

    Each member's month is taken as recorded in members.parquet (whole cents, rounded there) and summed exactly, as
    int64 in Arrow's hash aggregation: the members' columns are never turned into pandas objects (≈1.9 M national
    members × two sources × twelve months)."""
    path = layout.decided("members")
    months = sorted(c[len("vid_cents_"):] for c in pq.read_schema(path).names if c.startswith("vid_cents_"))
    columns = [f"{source}_cents_{month}" for source in ("vid", "vsaa") for month in months]
    members = pq.read_table(path, columns=["aris_code", *columns])
    totals = members.group_by("aris_code").aggregate([(c, "sum") for c in columns])
    codes = pc.cast(households["aris_code"], pa.string())
    # Each household's row of totals; a household nobody counts in (REVIEW) has none and sums to 0.
    row = pc.index_in(codes, value_set=pc.cast(totals["aris_code"], pa.string()))

    def cents(column: str) -> pa.Array:
        return pc.cast(pc.fill_null(pc.take(totals[f"{column}_sum"], row), 0), pa.string())

    parts = [pc.binary_join_element_wise(f"{month}=", cents(f"vid_cents_{month}"), "/", cents(f"vsaa_cents_{month}"),
                                         "") for month in months]
    income = pc.binary_join_element_wise(*parts, "|") if parts else pa.array([""] * len(codes), type=pa.string())
    address = pc.cast(households["address"], pa.string())
    return pa.table({"aris_code": codes, "address_search": fold_array(address), "income_months": income})


def new_household_ids(known: set[str], aris_codes: pa.Array | pa.ChunkedArray) -> pa.Table:
    """A random opaque id for every address that has none yet (kept forever: an address id is not personal), as
    rows (aris_code, household_id). The first month of a store gives every national address one (≈0.8 M): the
    random bytes are drawn at once and cut into ids, not drawn per address.

    Hex, not URL-safe base64: a base64 id may begin with `-`, which the auditors' CSV export must neutralise as a
    spreadsheet formula (`'-…`), so the id in the export would no longer match the one in the URL."""
    codes = pc.unique(pc.cast(aris_codes, pa.string()))
    if known:
        codes = codes.filter(pc.invert(pc.is_in(codes, value_set=pa.array(sorted(known), type=pa.string()))))
    codes = pc.take(codes, pc.sort_indices(codes))
    hexed = np.frombuffer(secrets.token_bytes(16 * len(codes)).hex().encode("ascii"), dtype="S32")
    return pa.table({"aris_code": codes, "household_id": pa.array(hexed, type=pa.binary()).cast(pa.string())})


def review_record_rows(layout: WorkLayout, households: pa.Table, members: pa.Table) -> pd.DataFrame:
    """Per REVIEW household, its members' quarantined records as `REVIEW_RECORD_COLUMNS`: never a key, code, name
    or amount, only where each record stands and the reason code.

    A record is a household's as `pipeline.decide.households.REVIEW_ADDRESSES` decides it: a PMLP record by the
    address it carries, a VID or VSAA record by its person key among the decided members. Only the records that
    send a household to REVIEW (`marks_review`) are read, a tiny share of a month: the members are scanned once for
    their few keys."""
    parts = [pq.read_table(path, columns=["person_key", *REVIEW_RECORD_COLUMNS], filters=[("marks_review", "==", True)])
             for path in sorted(layout.quarantine.glob("*.parquet"))]
    marked = pa.concat_tables(parts).to_pandas() if parts else pd.DataFrame(columns=["person_key",
                                                                                     *REVIEW_RECORD_COLUMNS])
    by_address = marked.loc[marked["aris_code"].notna(), REVIEW_RECORD_COLUMNS]
    by_key = marked.loc[marked["aris_code"].isna() & marked["person_key"].notna()].drop(columns="aris_code")
    keys = pa.array(sorted(set(by_key["person_key"])), type=pa.string())
    owners = members.select(["person_key", "aris_code"]).filter(
        pc.is_in(pc.cast(members["person_key"], pa.string()), value_set=keys)).to_pandas()
    records = pd.concat([by_address, by_key.merge(owners, on="person_key")[REVIEW_RECORD_COLUMNS]],
                        ignore_index=True)
    review = set(households.filter(pc.equal(households["status"], "REVIEW"))["aris_code"].to_pylist())
    records = records.loc[records["aris_code"].astype(str).isin(review)].drop_duplicates()
    return records.astype({"record": "int64", "line": "int64"}).sort_values(REVIEW_RECORD_COLUMNS,
                                                                             ignore_index=True)
