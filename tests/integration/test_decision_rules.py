"""Every CONTRACTS §9 rule on a hand-made month with hand-computed expectations.

P = 2025-01, window 2024-01 … 2024-12, minimal policy: threshold 500.00 EUR, electricity 150, gas 60, heat 70.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.config import Settings
from pipeline.csvio import read_rows
from pipeline.errors import SourceError
from pipeline.flows.monthly import run_month
from tests.builders import InboxBuilder, months, person_code
from tests.conftest import MINIMAL_POLICY

P = "2025-01"
WINDOW = months("2024-01", 12)

# address codes
EXACT, OVER, EDGES, SPAN, FRACTION, CORRECTED = 101000001, 101000002, 101000003, 101000004, 101000005, 101000006
UA, INACTIVE_HOME, REVIEW_HOME, DUPLICATE_HOME, DUPLICATE_OTHER = 101000007, 101000008, 101000009, 101000010, 101000011
BLOCK, FLAT_1, FLAT_2, FLAT_3 = 101100001, 105000001, 105000002, 105000003


def build_month(period: str = P) -> InboxBuilder:
    b = InboxBuilder(period)
    b.standard_tree()
    for code, name in ((EXACT, "Ozoli"), (OVER, "Liepas"), (EDGES, "Kalni"), (SPAN, "Lejas"), (FRACTION, "Priedes"),
                       (CORRECTED, "Egles"), (UA, "Birzes"), (INACTIVE_HOME, "Ievas"), (REVIEW_HOME, "Rozes"),
                       (DUPLICATE_HOME, "Vītoli"), (DUPLICATE_OTHER, "Kļavas")):
        b.house(code, name)
    b.address(101000099, 108, 100015122, 105, "Ausekļi", '"Ausekļi", Vecates pag.', status="DEL")
    b.building(BLOCK, "1")
    for flat, number in ((FLAT_1, "1"), (FLAT_2, "2"), (FLAT_3, "3")):
        b.apartment(flat, BLOCK, number)

    b.monthly(b.person(1, EXACT), "500.00", WINDOW)                      # avg exactly 500.00 -> ELIGIBLE
    over = b.person(2, OVER)
    b.monthly(over, "500.00", WINDOW[:11])
    b.document(over, "500.01", WINDOW[11])                                # avg 500.000833 -> NOT_ELIGIBLE
    edges = b.person(3, EDGES)
    b.document(edges, "1200.00", "2024-01")                               # P-12: counts
    b.document(edges, "10000.00", "2023-12")                              # P-13: outside
    b.document(edges, "10000.00", "2025-01")                              # P itself: outside -> avg 100
    span = b.person(4, SPAN)
    b.document(span, "12000.12", "2023-07", "2024-06", kind="ANNUAL_DECLARATION")  # 6 of 12 months: 6000.06
    fraction = b.person(5, FRACTION)
    b.benefit(fraction, "499.99", WINDOW)                                 # 5999.88
    b.document(fraction, "0.37", "2024-12", "2025-02", kind="MICROENTERPRISE_DECLARATION")  # + 0.12333… -> over
    corrected = b.person(6, CORRECTED)
    b.document(corrected, "1000.00", "2024-01", document_id="DDZ-C", submitted="2024-03-01T09:00:00")
    b.document(corrected, "9000.00", "2024-01", document_id="DDZ-C", submitted="2024-02-15T10:00:00")
    b.person(7, UA, kind="UA_CONTACT")                                    # no income -> ELIGIBLE
    earner = b.person(8, INACTIVE_HOME)
    b.monthly(earner, "1000.00", WINDOW)
    b.person(9, INACTIVE_HOME, status="INACTIVE")
    b.person(10, INACTIVE_HOME, vital="DECEASED")                        # still 1 member -> avg 1000
    reviewed = b.person(11, REVIEW_HOME)
    b.document(reviewed, "-5.00", "2024-03")                              # NEGATIVE_AMOUNT -> REVIEW
    twice = person_code(12)
    b.person(12, DUPLICATE_HOME, code=twice)
    b.person(13, DUPLICATE_OTHER, code=twice)                             # DUPLICATE_PERSON -> both REVIEW

    b.benefit(b.person(14, FLAT_1), "300.00", WINDOW)                     # ELIGIBLE
    two = b.person(15, FLAT_2)
    b.person(16, FLAT_2)
    b.benefit(two, "800.00", WINDOW)                                      # 2 members, avg 400 -> ELIGIBLE
    b.benefit(b.person(17, FLAT_3), "2000.00", WINDOW)                    # NOT_ELIGIBLE
    b.person(18, BLOCK)                                                   # at the building code, no income

    b.connection("electricity", "E1", EXACT)
    b.connection("electricity", "E2", OVER)
    b.connection("electricity", "E3", EXACT, status="DISCONNECTED")
    b.connection("electricity", "E4", BLOCK, kind="COMMON")
    b.connection("electricity", "E5", FLAT_3)
    b.connection("electricity", "E6", FLAT_1, company=('SIA "Tet"', "40003052786"))
    b.connection("electricity", "E7", "199999999")
    b.connection("electricity", "E8", 101000099)
    b.connection("electricity", "E9", REVIEW_HOME)
    b.connection("electricity", "E10", UA)
    b.connection("gas", "G1", EXACT)
    b.connection("heat", "H1", BLOCK, kind="COMMON", company=('AS "Rīgas siltums"', "40003286750"))
    b.price(P, electricity="150.01", gas="60.00", woodchip="80.00")      # heat index (60+80)/2 = 70 = threshold
    b.price("2025-06", electricity="150.01", gas="90.00", woodchip="90.00")
    return b


@pytest.fixture(scope="module")
def decided(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    root = tmp_path_factory.mktemp("rules")
    build_month().write(root / "inbox")
    settings = Settings(pseudonym_secret=b"test-secret", workers=1, data_docs=False, quarantine_tolerance=0.5)
    result = run_month(P, root / "inbox", root / "outbox", MINIMAL_POLICY, root / "work", settings)
    households = pd.read_parquet(root / "work" / P / "decisions" / "households.parquet").set_index("aris_code")
    electricity = {row["object_id"]: row for _, row in
                   read_rows(root / "outbox" / P / "dso_electricity" / "eligibility.csv",
                             ("object_id", "aris_code", "address", "connection_kind", "eligible",
                              "eligible_dwellings", "support_types"))}
    return {"result": result, "households": households, "electricity": electricity, "root": root}


def status(decided: dict[str, object], code: int) -> str:
    return decided["households"].loc[str(code), "status"]  # type: ignore[index]


def test_average_exactly_at_threshold_is_eligible(decided):
    assert status(decided, EXACT) == "ELIGIBLE"
    assert decided["households"].loc[str(EXACT), "avg_income_eur"] == "500.00"


def test_one_cent_over_threshold_is_not_eligible_although_it_rounds_to_500(decided):
    assert decided["households"].loc[str(OVER), "avg_income_eur"] == "500.00"
    assert status(decided, OVER) == "NOT_ELIGIBLE"


def test_window_is_p_minus_12_to_p_minus_1(decided):
    assert decided["households"].loc[str(EDGES), "total_income_eur"] == "1200.00"
    assert status(decided, EDGES) == "ELIGIBLE"


def test_declaration_spanning_the_window_start_counts_only_window_months(decided):
    assert decided["households"].loc[str(SPAN), "total_income_eur"] == "6000.06"
    assert status(decided, SPAN) == "NOT_ELIGIBLE"


def test_a_third_of_a_cent_is_not_rounded_away(decided):
    # 5999.88 + 0.37/3 = 6000.00333…: shown as 6000.00 (avg 500.00) but over 12 × 500.00, so not eligible.
    assert decided["households"].loc[str(FRACTION), "total_income_eur"] == "6000.00"
    assert decided["households"].loc[str(FRACTION), "avg_income_eur"] == "500.00"
    assert status(decided, FRACTION) == "NOT_ELIGIBLE"


def test_latest_submitted_correction_wins_regardless_of_file_order(decided):
    assert decided["households"].loc[str(CORRECTED), "total_income_eur"] == "1000.00"
    assert status(decided, CORRECTED) == "ELIGIBLE"


def test_ua_contact_address_counts_as_a_household(decided):
    assert status(decided, UA) == "ELIGIBLE"
    assert decided["electricity"]["E10"]["eligible"] == "1"


def test_inactive_and_deceased_persons_are_not_members(decided):
    assert decided["households"].loc[str(INACTIVE_HOME), "members"] == 1
    assert status(decided, INACTIVE_HOME) == "NOT_ELIGIBLE"


def test_quarantined_member_data_puts_household_in_review_and_never_flags_it(decided):
    assert status(decided, REVIEW_HOME) == "REVIEW"
    assert "NEGATIVE_AMOUNT" in decided["households"].loc[str(REVIEW_HOME), "reason"]
    assert decided["electricity"]["E9"]["eligible"] == "0"


def test_duplicate_person_sends_both_households_to_review(decided):
    assert status(decided, DUPLICATE_HOME) == "REVIEW"
    assert status(decided, DUPLICATE_OTHER) == "REVIEW"


def test_individual_connection_follows_its_household(decided):
    rows = decided["electricity"]
    assert (rows["E1"]["eligible"], rows["E1"]["eligible_dwellings"]) == ("1", "1")
    assert (rows["E2"]["eligible"], rows["E2"]["eligible_dwellings"], rows["E2"]["support_types"]) == ("0", "0", "")
    assert rows["E5"]["eligible"] == "0" and rows["E6"]["eligible"] == "1"


def test_disconnected_object_is_never_flagged(decided):
    assert (decided["electricity"]["E3"]["eligible"], decided["electricity"]["E3"]["eligible_dwellings"]) == ("0", "0")


def test_common_connection_counts_eligible_dwellings_in_building_and_its_premises(decided):
    row = decided["electricity"]["E4"]
    # FLAT_1 (avg 300) + FLAT_2 (avg 400) + the household at the building code (0); FLAT_3 (2000) is not.
    assert (row["eligible"], row["eligible_dwellings"]) == ("1", "3")
    assert row["support_types"] == "ELECTRICITY_BASE|ELECTRICITY_HEATING"


def test_unknown_and_deleted_addresses_go_back_to_the_sender(decided):
    errors = list(read_rows(decided["root"] / "outbox" / P / "dso_electricity" / "address_errors.csv",
                            ("object_id", "aris_code", "address", "reason")))
    assert [(row["object_id"], row["reason"]) for _, row in errors] == [("E7", "UNKNOWN_ADDRESS"),
                                                                        ("E8", "ADDRESS_DELETED")]
    assert "E7" not in decided["electricity"] and "E8" not in decided["electricity"]


def test_price_equal_to_threshold_leaves_the_type_off(decided):
    result = decided["result"]
    assert result.decision.support_types_on == ["ELECTRICITY_BASE", "ELECTRICITY_HEATING"]
    gas = list(read_rows(decided["root"] / "outbox" / P / "dso_gas" / "eligibility.csv",
                         ("object_id", "aris_code", "address", "connection_kind", "eligible", "eligible_dwellings",
                          "support_types")))
    assert gas[0][1]["eligible"] == "1" and gas[0][1]["support_types"] == ""


def test_trader_file_holds_only_that_traders_eligible_objects(decided):
    path = decided["root"] / "outbox" / P / "traders_electricity" / "40003052786" / "eligibility.csv"
    assert path.read_text(encoding="utf-8").splitlines()[1:] == [
        f"E6;{FLAT_1};adrese;INDIVIDUAL;1;1;ELECTRICITY_BASE|ELECTRICITY_HEATING"]
    latvenergo = (decided["root"] / "outbox" / P / "traders_electricity" / "40003032949" / "eligibility.csv")
    ids = [line.split(";")[0] for line in latvenergo.read_text(encoding="utf-8").splitlines()[1:]]
    assert ids == ["E1", "E10", "E4"]


def test_municipality_file_lists_every_lived_in_address_with_its_flag(decided):
    riga = decided["root"] / "outbox" / P / "municipalities" / "100003003" / "households.csv"
    lines = riga.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "aris_code;address;eligible;status"
    assert [line.split(";")[0] + ";" + ";".join(line.split(";")[-2:]) for line in lines[1:]] == [
        f"{BLOCK};1;ELIGIBLE", f"{FLAT_1};1;ELIGIBLE", f"{FLAT_2};1;ELIGIBLE", f"{FLAT_3};0;NOT_ELIGIBLE"]


def test_municipality_file_tells_review_apart_from_not_eligible(decided):
    """CONTRACTS v1.2 §10: a household being checked is `REVIEW`, not a bare `0` like one over the threshold."""
    rows = {row["aris_code"]: row for path in sorted((decided["root"] / "outbox" / P / "municipalities").glob(
        "*/households.csv")) for _, row in read_rows(path, ("aris_code", "address", "eligible", "status"))}
    assert (rows[str(REVIEW_HOME)]["eligible"], rows[str(REVIEW_HOME)]["status"]) == ("0", "REVIEW")
    assert (rows[str(OVER)]["eligible"], rows[str(OVER)]["status"]) == ("0", "NOT_ELIGIBLE")
    assert (rows[str(EXACT)]["eligible"], rows[str(EXACT)]["status"]) == ("1", "ELIGIBLE")


@pytest.fixture
def settings() -> Settings:
    """A hand-made month quarantines a large share on purpose."""
    return Settings(pseudonym_secret=b"test-secret", workers=1, data_docs=False, quarantine_tolerance=0.5)


def test_off_season_month_switches_only_the_base_electricity_support(tmp_path, settings):
    build_month("2025-06").write(tmp_path / "inbox")
    result = run_month("2025-06", tmp_path / "inbox", tmp_path / "outbox", MINIMAL_POLICY, tmp_path / "work", settings)
    assert result.decision.support_types_on == ["ELECTRICITY_BASE"]


def test_missing_price_for_the_period_stops_the_run_and_publishes_nothing(tmp_path, settings):
    builder = build_month()
    builder.prices = [row for row in builder.prices if not (row[0] == P and row[1] == "GAS")]
    builder.write(tmp_path / "inbox")
    with pytest.raises(SourceError, match="missing price for 2025-01: GAS"):
        run_month(P, tmp_path / "inbox", tmp_path / "outbox", MINIMAL_POLICY, tmp_path / "work", settings)
    assert not (tmp_path / "outbox" / P).exists()
    assert not list(Path(tmp_path / "outbox").glob(".build-*")) if (tmp_path / "outbox").exists() else True


def test_no_decided_table_holds_money_or_anything_else_as_a_float(decided):
    """§9 is decided in integer cents (DuckDB HUGEINT, then EUR text): no float column in the decision records of
    the households, their members (whole cents, the store's and the portal's input) and the connections."""
    decisions = decided["root"] / "work" / P / "decisions"  # type: ignore[operator]
    tables = ["households", "members",
              *(f"{c}{kind}" for c in ("electricity", "gas", "heat") for kind in ("", "_returned"))]
    for name in tables:
        schema = pq.read_schema(decisions / f"{name}.parquet")
        floats = [field.name for field in schema if pa.types.is_floating(field.type)]
        assert floats == [], f"{name}: float columns {floats}"
