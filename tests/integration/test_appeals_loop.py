"""Issue 25's Done-when, end to end on the sample month: a staff user registers an upheld appeal for a NOT_ELIGIBLE
household in the portal, a second user (a decider) confirms it, `eikis corrections` publishes set 01 with exactly
the affected supplier and municipality rows, a re-run publishes nothing, a claim for that object is ACCEPTED
against set 01, and retention holds then releases the case."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import text

from pipeline.cli import main
from pipeline.portal.app import create_app
from pipeline.portal.users import add_user
from pipeline.store.db import connect
from tests.appeals_month import recorded_sample_month
from tests.conftest import SAMPLE_PERIOD
from tests.integration.test_corrections import (
    a_household,
    claim_check,
    corrections,
    decided,
    expected_supplier_rows,
    published_set,
    url,
)
from tests.portal.conftest import PASSWORD, csrf_of, portal_settings, sign_in

CASE = "BVKB/2026-117"


def signed(app, username: str) -> TestClient:
    client = TestClient(app, raise_server_exceptions=False)
    assert sign_in(client, username).status_code == 303
    return client


def test_the_whole_appeal_loop_on_the_sample_month(tmp_path, capsys):
    root = recorded_sample_month(tmp_path / "m")
    engine = connect(url(root))
    for name, role in (("sandra", "staff"), ("dace", "decider")):
        add_user(engine, name, role, PASSWORD)
    app = create_app(portal_settings(url(root)))
    household = a_household(root, in_common_building=False)
    with engine.connect() as conn:
        household_id = conn.execute(text("SELECT household_id FROM portal_household_ids WHERE aris_code = :a"),
                                    {"a": household["aris_code"]}).scalar_one()

    staff, decider = signed(app, "sandra"), signed(app, "dace")
    page = staff.get(f"/household/{household_id}").text
    assert staff.post(f"/household/{household_id}/appeals", follow_redirects=False, data={
        "csrf_token": csrf_of(page), "period": SAMPLE_PERIOD, "case_ref": CASE, "outcome": "UPHELD",
        "reason_code": "INCOME_EVIDENCE"}).status_code == 303
    with engine.connect() as conn:
        decision_id = conn.execute(text("SELECT decision_id FROM appeal_decisions WHERE case_ref = :c"),
                                   {"c": CASE}).scalar_one()
    page = staff.get(f"/household/{household_id}").text
    assert staff.post(f"/appeals/{decision_id}/confirm", data={"csrf_token": csrf_of(page)}).status_code == 403
    assert corrections(root, capsys) == "corrections 2026-11: nothing new to publish"   # unconfirmed: no change

    page = decider.get(f"/household/{household_id}").text
    assert f'action="/appeals/{decision_id}/confirm"' in page
    assert decider.post(f"/appeals/{decision_id}/confirm", data={"csrf_token": csrf_of(page)},
                        follow_redirects=False).status_code == 303
    page = decider.get(f"/household/{household_id}").text
    assert re.search(rf"APPEAL_UPHELD · {re.escape(CASE)}", page)

    assert corrections(root, capsys).startswith("corrections 2026-11: published set 01 (")
    _, rows = published_set(root, "01")
    suppliers = {key: (row["change"], int(row["eligible_dwellings"])) for key, row in rows.items()
                 if not key[0].startswith("municipalities/")}
    assert suppliers == expected_supplier_rows(root, household) and suppliers
    assert {key for key in rows if key[0].startswith("municipalities/")} == {
        (f"municipalities/{household['municipality_code']}", household["aris_code"])}
    assert {row["case_ref"] for row in rows.values()} == {CASE}
    assert corrections(root, capsys) == "corrections 2026-11: nothing new to publish"

    electricity = decided(root, "electricity")
    own = electricity.loc[(electricity["aris_code"] == household["aris_code"]) & (electricity["status"] == "ACTIVE")
                          & electricity["address_error"].isna()].iloc[0]
    result = claim_check(root, [own["company_reg_no"],
                                f"C-1;2026-12-01T10:00:00;{own['object_id']};ELECTRICITY_BASE;1;10.000;1.00"])["C-1"]
    assert (result["status"], result["correction_set"]) == ("ACCEPTED", "01")

    args = ["--db", url(root), "--workdir", str(root / "work")]
    assert main(["retention", "--hold", CASE, *args]) == 0
    capsys.readouterr()
    main(["retention", "--verify", *args])
    assert f"HELD\t{CASE}\t{SAMPLE_PERIOD}\t1 household(s)" in capsys.readouterr().out.splitlines()
    assert main(["retention", "--release", CASE, *args]) == 0
    main(["retention", "--verify", *args])
    assert "HELD" not in capsys.readouterr().out
    with engine.connect() as conn:
        logged = [row[0] for row in conn.execute(text(
            "SELECT action FROM access_log WHERE action LIKE 'appeal_%' ORDER BY at"))]
    assert logged == ["appeal_register", "appeal_confirm"]
