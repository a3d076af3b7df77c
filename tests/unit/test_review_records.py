"""`portal_review_records` rows from a hand-made quarantine: a record is the household's whose address it carries
(PMLP) or whose decided member its person key is (VID/VSAA); records that send nobody to REVIEW, or whose key is
nobody's, belong to no household; no key, code or detail is kept."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.config import WorkLayout
from pipeline.quality.reasons import Reason
from pipeline.sources.common import Quarantine
from pipeline.store.portal_index import REVIEW_RECORD_COLUMNS, review_record_rows


def write(layout: WorkLayout, source: str, rows: list[dict]) -> None:
    quarantine = Quarantine(source)
    for row in rows:
        quarantine.add(**row)
    pq.write_table(quarantine.table(), layout.quarantine / f"{source}.parquet")


def test_each_record_goes_to_its_own_review_household_only(tmp_path):
    layout = WorkLayout(tmp_path, "2026-11")
    layout.quarantine.mkdir(parents=True)
    write(layout, "pmlp", [
        {"file": "pmlp/a.xml", "record": 4, "line": 9, "reason": Reason.INVALID_PERSON_CODE, "detail": "shape",
         "aris_code": "100000001", "marks_review": True},
        {"file": "pmlp/a.xml", "record": 5, "line": 11, "reason": Reason.UNKNOWN_ADDRESS, "detail": "not in ARIS",
         "person_key": "k-away", "marks_review": False}])                      # sends nobody to REVIEW
    write(layout, "vid", [
        {"file": "vid/b.xml", "record": 2, "line": 0, "reason": Reason.NEGATIVE_AMOUNT, "detail": "below 0",
         "person_key": "k-two", "marks_review": True},
        {"file": "vid/b.xml", "record": 3, "line": 0, "reason": Reason.BAD_PERIOD, "detail": "month 13",
         "person_key": "k-nobody", "marks_review": True}])                     # nobody's key: no household
    write(layout, "aris", [])
    households = pa.table({"aris_code": ["100000001", "100000002", "100000003"],
                           "status": ["REVIEW", "REVIEW", "ELIGIBLE"]})
    members = pa.table({"aris_code": ["100000002", "100000003"], "person_key": ["k-two", "k-three"]})

    rows = review_record_rows(layout, households, members)

    assert list(rows.columns) == REVIEW_RECORD_COLUMNS
    assert [tuple(row) for row in rows.itertuples(index=False)] == [
        ("100000001", "pmlp", "pmlp/a.xml", 4, 9, "INVALID_PERSON_CODE"),
        ("100000002", "vid", "vid/b.xml", 2, 0, "NEGATIVE_AMOUNT")]
