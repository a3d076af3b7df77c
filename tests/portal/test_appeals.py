"""Appeal decisions in the portal (CONTRACTS §16, issue 25): staff register on the household page, a decider
confirms or sends back, the same user cannot do both, the page shows the history and the original and effective
status per month, and every step is in the access log without the case reference."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from pipeline.portal.users import add_user
from pipeline.store import appeals
from pipeline.store.db import connect
from tests.conftest import SAMPLE_PERIOD
from tests.portal.conftest import PASSWORD, csrf_of, sign_in


@pytest.fixture(scope="module")
def users(portal_store) -> None:
    engine = connect(portal_store.url)
    with engine.connect() as conn:
        known = {row[0] for row in conn.execute(text("SELECT username FROM portal_users"))}
    for name, role in (("dace", "decider"), ("staff2", "staff")):
        if name not in known:
            add_user(engine, name, role, PASSWORD)


@pytest.fixture
def client(app, users):
    def make(username: str) -> TestClient:
        signed = TestClient(app, raise_server_exceptions=False)
        assert sign_in(signed, username).status_code == 303
        return signed
    return make


def not_eligible_household(portal_store) -> tuple[str, str]:
    """(opaque household id, ARIS code) of a NOT_ELIGIBLE household of the sample month no test appealed yet."""
    with connect(portal_store.url).connect() as conn:
        rows = conn.execute(text(
            "SELECT i.household_id, d.aris_code FROM household_decisions d JOIN portal_household_ids i "
            "ON i.aris_code = d.aris_code WHERE d.period = :p AND d.status = 'NOT_ELIGIBLE' AND d.aris_code NOT IN "
            "(SELECT aris_code FROM appeal_decisions) ORDER BY d.aris_code"), {"p": SAMPLE_PERIOD}).all()
    return rows[0][0], rows[0][1]


def register(staff: TestClient, household_id: str, case_ref: str = "BVKB/2026-17", outcome: str = "UPHELD"):
    token = csrf_of(staff.get(f"/household/{household_id}").text)
    return staff.post(f"/household/{household_id}/appeals", follow_redirects=False, data={
        "csrf_token": token, "period": SAMPLE_PERIOD, "case_ref": case_ref, "outcome": outcome,
        "reason_code": "INCOME_EVIDENCE"})


def step(user: TestClient, household_id: str, step_name: str):
    """Press the page's button for `step_name` (the page offers it only to a user who may)."""
    html = user.get(f"/household/{household_id}").text
    action = re.search(rf'action="(/appeals/[0-9a-f]+/{step_name})"', html).group(1)
    return user.post(action, data={"csrf_token": csrf_of(html)}, follow_redirects=False)


def effective_row(html: str, month: str) -> str:
    table = html.split('class="appeal-months"', 1)[1].split("</table>", 1)[0]
    return re.sub(r"\s+", " ", re.search(rf"<tr><th scope=\"row\">{month}</th>(.*?)</tr>", table, re.S).group(1))


def test_staff_registers_a_decider_confirms_and_the_month_becomes_eligible(client, portal_store):
    household_id, _ = not_eligible_household(portal_store)
    staff, decider = client("staff"), client("dace")
    assert register(staff, household_id).status_code == 303
    page = staff.get(f"/household/{household_id}").text
    assert "BVKB/2026-17" in page and 'data-state="REGISTERED"' in page
    row = effective_row(page, SAMPLE_PERIOD)
    assert row.count('class="status not_eligible"') == 2          # unconfirmed: original and effective alike
    assert "/confirm" not in page and "/send-back" not in page    # staff is offered no confirm / send back
    assert step(decider, household_id, "confirm").status_code == 303
    page = decider.get(f"/household/{household_id}").text
    row = effective_row(page, SAMPLE_PERIOD)
    assert 'class="status not_eligible"' in row and 'class="status eligible"' in row
    assert '</span> <span class="muted">APPEAL_UPHELD · BVKB/2026-17' in row
    assert 'data-state="CONFIRMED"' in page
    with connect(portal_store.url).connect() as conn:
        logged = conn.execute(text("SELECT username, action, household_id FROM access_log WHERE action LIKE "
                                   "'appeal_%' AND household_id = :h ORDER BY at"), {"h": household_id}).all()
        assert not conn.execute(text("SELECT count(*) FROM access_log WHERE kind LIKE '%BVKB%' OR "
                                     "household_id LIKE '%BVKB%'")).scalar_one()
    assert [tuple(row) for row in logged] == [("staff", "appeal_register", household_id),
                                              ("dace", "appeal_confirm", household_id)]


def test_the_same_user_cannot_confirm_and_a_staff_user_cannot_decide(client, portal_store):
    household_id, _ = not_eligible_household(portal_store)
    staff = client("staff2")
    assert register(staff, household_id, case_ref="BVKB/2026-20").status_code == 303
    engine = connect(portal_store.url)
    with engine.connect() as conn:
        decision_id = conn.execute(text("SELECT decision_id FROM appeal_decisions WHERE case_ref = 'BVKB/2026-20'"
                                        )).scalar_one()
    token = csrf_of(staff.get(f"/household/{household_id}").text)
    assert staff.post(f"/appeals/{decision_id}/confirm", data={"csrf_token": token}).status_code == 403
    # a decider who registered (through the store) cannot confirm their own decision either
    own = appeals.register(engine, "dace", period=SAMPLE_PERIOD, aris_code=not_eligible_household(portal_store)[1],
                           household_id="x", case_ref="BVKB/2026-21", outcome="UPHELD", months=[],
                           reason_code="OTHER")
    decider = client("dace")
    refused = decider.post(f"/appeals/{own}/confirm",
                           data={"csrf_token": csrf_of(decider.get(f"/household/{household_id}").text)})
    assert refused.status_code == 400 and "four eyes" in refused.text
    assert appeals.get(engine, own).state == "REGISTERED"
    assert step(decider, household_id, "send-back").status_code == 303
    assert appeals.get(engine, decision_id).state == "SENT_BACK"


def test_a_case_reference_with_personal_data_is_refused_in_one_line(client, portal_store):
    household_id, _ = not_eligible_household(portal_store)
    refused = register(client("staff"), household_id, case_ref="261148-13241 Bērziņš")
    assert refused.status_code == 400 and "case reference must be" in refused.text
    assert "261148-13241" not in refused.text


def test_the_appeal_posts_need_sign_in_and_a_csrf_token(app, client, portal_store):
    anonymous = TestClient(app)
    posts = {route.path for route in app.routes if getattr(route, "methods", set()) == {"POST"}}
    assert posts - {"/search", "/login", "/logout", "/language"} == {"/household/{household_id}/appeals",
                                                       "/appeals/{decision_id}/{step}"}
    for path in ("/household/anything/appeals", "/appeals/abc/confirm"):
        response = anonymous.post(path, data={}, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/login", path
    household_id, _ = not_eligible_household(portal_store)
    forged = client("staff").post(f"/household/{household_id}/appeals", data={
        "csrf_token": "forged", "period": SAMPLE_PERIOD, "case_ref": "BVKB/1", "outcome": "UPHELD",
        "reason_code": "OTHER"})
    assert forged.status_code == 400
    with connect(portal_store.url).connect() as conn:
        assert not conn.execute(text("SELECT count(*) FROM appeal_decisions WHERE case_ref = 'BVKB/1'")).scalar_one()
