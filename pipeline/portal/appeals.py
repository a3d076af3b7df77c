"""Appeal decisions on the household page (CONTRACTS §16): the history, the original and effective status per month,
and the forms that register (staff), confirm or send back (decider) and withdraw a decision.

The rules live in the store (`pipeline.store.appeals`): the case reference's form, the covered months, four eyes.
Here only the role is checked (on the server, for every POST, like every other page) and each step is written to
the access log (`appeal_register`, `appeal_confirm`, `appeal_send_back`, `appeal_withdraw`, with the opaque household
id and the month: never the case reference, which may be typed by hand). A refused step is a 400 page with the
store's one-line reason.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Engine, text

from pipeline.portal import access_log
from pipeline.portal.lookup import Household
from pipeline.portal.users import User
from pipeline.store import appeals
from pipeline.store.appeals import Appeal, AppealError

_MONTH_FIELD = re.compile(r"^month_(\d{4}-\d{2})$")
STEPS = {"confirm": (appeals.confirm, "appeal_decide", "appeal_confirm"),
         "send-back": (appeals.send_back, "appeal_decide", "appeal_send_back"),
         "withdraw": (appeals.withdraw, "", "appeal_withdraw")}


@dataclass(frozen=True)
class MonthStatus:
    month: str
    original: str
    effective: str
    case_ref: str        # the case that made it ELIGIBLE, if any


@dataclass(frozen=True)
class AppealsPanel:
    history: list[Appeal]
    months: list[MonthStatus]
    later_months: list[str]      # decided months after the page's month, which a decision may also cover
    reason_codes: tuple[str, ...] = appeals.REASON_CODES
    outcomes: tuple[str, ...] = appeals.OUTCOMES


def aris_code_of(engine: Engine, household_id: str) -> str | None:
    with engine.connect() as conn:
        row = conn.execute(text("SELECT aris_code FROM portal_household_ids WHERE household_id = :h"),
                           {"h": household_id[:64]}).first()
    return row[0] if row else None


def panel(engine: Engine, household: Household) -> AppealsPanel:
    """What the household page shows of appeals: every decision, and per decided month original and effective."""
    aris_code = aris_code_of(engine, household.household_id) or ""
    history = appeals.history(engine, aris_code)
    months = []
    for month, original in household.history:
        if original == "—":
            continue
        upheld = [a for a in history if a.effective and a.outcome == appeals.UPHELD and month in a.months]
        status, _ = appeals.effective_status(original, upheld[-1] if upheld else None)  # type: ignore[arg-type]
        months.append(MonthStatus(month, original, status, upheld[-1].case_ref if upheld else ""))
    later = sorted(p for p in household.periods if p > household.period)
    return AppealsPanel(history[::-1], months, later)


def may_step(user: User, appeal: Appeal, step: str) -> bool:
    """Whether to offer the button (the server checks again on POST, and the store checks four eyes)."""
    if step == "withdraw":
        return appeal.state in (appeals.REGISTERED, appeals.CONFIRMED) and (
            user.can("appeal_register") or user.can("appeal_decide"))
    return appeal.state == appeals.REGISTERED and user.can("appeal_decide") and user.username != appeal.registered_by


def add_routes(app: FastAPI, engine: Engine, page: Callable[..., HTMLResponse],
               require: Callable[[Request, str], User],
               posted: Callable[[Request], Awaitable[dict[str, str]]]) -> None:
    """The appeal POSTs, beside the household page they come from."""

    def refused(request: Request, exc: AppealError) -> HTMLResponse:
        return page(request, "error.html", 400, title="Not recorded", message=str(exc))

    @app.post("/household/{household_id}/appeals")
    async def register(request: Request, household_id: str) -> Response:
        user = require(request, "appeal_register")
        form = await posted(request)
        aris_code = aris_code_of(engine, household_id)
        if aris_code is None:
            return page(request, "error.html", 404, title="Not found", message="There is no such household.")
        period = form.get("period", "")
        months = [m.group(1) for key in form if (m := _MONTH_FIELD.match(key))]
        try:
            appeals.register(engine, user.username, period=period, aris_code=aris_code, household_id=household_id,
                             case_ref=form.get("case_ref", "").strip(), outcome=form.get("outcome", ""),
                             months=months, reason_code=form.get("reason_code", ""))
        except AppealError as exc:
            return refused(request, exc)
        access_log.append(engine, user.username, "appeal_register", household_id=household_id, period=period)
        return RedirectResponse(f"/household/{household_id}?month={period}", status_code=303)

    @app.post("/appeals/{decision_id}/{step}")
    async def review(request: Request, decision_id: str, step: str) -> Response:
        if step not in STEPS:
            return page(request, "error.html", 404, title="Not found", message="There is no such page.")
        act, permission, action = STEPS[step]
        user = require(request, permission or "search")
        if not permission and not (user.can("appeal_register") or user.can("appeal_decide")):
            require(request, "appeal_register")          # raises Denied: a 403 page
        await posted(request)
        try:
            appeal = act(engine, decision_id[:64], user.username)
        except AppealError as exc:
            return refused(request, exc)
        access_log.append(engine, user.username, action, household_id=appeal.household_id, period=appeal.period)
        return RedirectResponse(f"/household/{appeal.household_id}?month={appeal.period}", status_code=303)
