"""The report's table "eligible share by municipality" (`report.municipality_rows`), counted in one grouped pass:
households with members only, a missing municipality shown as "(none)" / "–", Latvian order, and two
municipalities of one name kept apart in code order."""

from __future__ import annotations

import pandas as pd

from pipeline.decide.rules import ELIGIBLE
from pipeline.publish.report import municipality_rows


def households(rows: list[tuple[str | None, str | None, int, str]]) -> pd.DataFrame:
    codes, names, members, status = zip(*rows, strict=True)
    return pd.DataFrame({"municipality_code": pd.array(codes, dtype="string"),
                         "municipality_name": pd.array(names, dtype="string"),
                         "members": list(members), "status": pd.array(status, dtype="str")})


def test_counts_shares_and_latvian_order() -> None:
    frame = households([
        ("0002", "Ādažu novads", 2, ELIGIBLE), ("0002", "Ādažu novads", 1, "NOT_ELIGIBLE"),
        ("0001", "Aizkraukles novads", 3, ELIGIBLE),
        ("0009", "Zilupes novads", 0, ELIGIBLE),                     # nobody lives there: not counted
        ("0004", "Rīga", 1, "NOT_ELIGIBLE"), ("0003", "Rīga", 1, ELIGIBLE),  # one name, two codes
        (None, None, 1, ELIGIBLE),
    ])
    rows = municipality_rows(frame)
    assert [(r["name"], r["code"], r["households"], r["eligible"], r["share_text"]) for r in rows] == [
        ("(none)", "–", 1, 1, "100.0 %"),
        ("Aizkraukles novads", "0001", 1, 1, "100.0 %"),
        ("Ādažu novads", "0002", 2, 1, "50.0 %"),
        ("Rīga", "0003", 1, 1, "100.0 %"),
        ("Rīga", "0004", 1, 0, "0.0 %"),
    ]
    assert rows[2]["share"] == 0.5 and all(type(r["households"]) is int and type(r["eligible"]) is int
                                           for r in rows)


def test_no_households_no_rows() -> None:
    assert municipality_rows(households([("0001", "Rīga", 0, ELIGIBLE)])) == []
