"""Appeal decisions (CONTRACTS §16): registered by staff, confirmed or sent back by a second user, withdrawn.

BVKB's decision on an appeal must reach the suppliers and the claims check, so it is data, not a note — and data
that moves money, so it takes four eyes: a registration changes nothing until another user (a `decider`, which the
portal checks) confirms it, and the store refuses a confirmation by the user who registered it. Every step is a new
row of `appeal_decisions` (append-only, `sql/011_appeals.sql`); at most one review and one withdrawal per decision
(a unique index), so two deciders confirming at once cannot both succeed.

The effective status of a household in a month: `ELIGIBLE` (reason `APPEAL_UPHELD`, with the case reference) when a
confirmed, not withdrawn `UPHELD` decision covers the month; otherwise the original status. `REJECTED` changes
nothing. The original decision stays where it is (`household_decisions`).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import IntegrityError

from pipeline.errors import EikisError
from pipeline.period import parse_month

REGISTERED, CONFIRMED, SENT_BACK, WITHDRAWN = "REGISTERED", "CONFIRMED", "SENT_BACK", "WITHDRAWN"
UPHELD, REJECTED = "UPHELD", "REJECTED"
OUTCOMES = (UPHELD, REJECTED)
REASON_CODES = ("INCOME_EVIDENCE", "HOUSEHOLD_COMPOSITION", "ADDRESS", "OTHER")
APPEAL_UPHELD = "APPEAL_UPHELD"
CASE_REF = re.compile(r"[A-Za-z0-9./-]{1,40}")
_STAGE = {REGISTERED: 0, CONFIRMED: 1, SENT_BACK: 1, WITHDRAWN: 2}
_COLUMNS = ("event_id", "decision_id", "stage", "action", "at", "username", "period", "aris_code", "household_id",
            "case_ref", "outcome", "months", "reason_code")


class AppealError(EikisError):
    """A refused appeal step (one line: which decision and why)."""


@dataclass(frozen=True)
class Appeal:
    """One registered decision and what became of it."""

    decision_id: str
    period: str
    aris_code: str
    household_id: str
    case_ref: str
    outcome: str
    months: tuple[str, ...]
    reason_code: str
    registered_by: str
    registered_at: dt.datetime
    reviewed: str = ""          # CONFIRMED | SENT_BACK | "" (waiting)
    reviewed_by: str = ""
    withdrawn_by: str = ""

    @property
    def state(self) -> str:
        return WITHDRAWN if self.withdrawn_by else self.reviewed or REGISTERED

    @property
    def effective(self) -> bool:
        """Only a confirmed, not withdrawn decision changes anything."""
        return self.reviewed == CONFIRMED and not self.withdrawn_by


@dataclass(frozen=True)
class Upheld:
    """A confirmed UPHELD decision covering a month: the household is ELIGIBLE there with this case reference."""

    aris_code: str
    case_ref: str
    decision_id: str


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def decided_months(conn: Connection) -> list[str]:
    return [row[0] for row in conn.execute(text("SELECT DISTINCT period FROM runs ORDER BY period"))]


def _checked(conn: Connection, period: str, case_ref: str, outcome: str, months: list[str],
             reason_code: str) -> tuple[str, ...]:
    if not CASE_REF.fullmatch(case_ref or ""):
        raise AppealError("case reference must be 1-40 of A-Z a-z 0-9 . / - (no personal data)")
    if outcome not in OUTCOMES:
        raise AppealError(f"outcome must be one of {', '.join(OUTCOMES)}")
    if reason_code not in REASON_CODES:
        raise AppealError(f"reason code must be one of {', '.join(REASON_CODES)}")
    decided = decided_months(conn)
    covered = tuple(sorted(set(months) | {period}))
    for month in covered:
        parse_month(month)
        if month < period or month not in decided:
            raise AppealError(f"month {month} is not a decided month from {period} on")
    return covered


def _insert(conn: Connection, row: dict[str, object]) -> None:
    conn.execute(text(f"INSERT INTO appeal_decisions ({', '.join(_COLUMNS)}) "
                      f"VALUES ({', '.join(':' + c for c in _COLUMNS)})"), row)


def register(engine: Engine, username: str, *, period: str, aris_code: str, household_id: str, case_ref: str,
             outcome: str, months: list[str], reason_code: str) -> str:
    """Record a staff user's appeal decision for the household at `aris_code`; returns its decision id."""
    decision_id = uuid.uuid4().hex
    with engine.begin() as conn:
        covered = _checked(conn, period, case_ref, outcome, months, reason_code)
        _insert(conn, {"event_id": decision_id, "decision_id": decision_id, "stage": 0, "action": REGISTERED,
                       "at": _now(), "username": username, "period": period, "aris_code": aris_code,
                       "household_id": household_id, "case_ref": case_ref, "outcome": outcome,
                       "months": "|".join(covered), "reason_code": reason_code})
    return decision_id


def confirm(engine: Engine, decision_id: str, username: str) -> Appeal:
    return _step(engine, decision_id, username, CONFIRMED)


def send_back(engine: Engine, decision_id: str, username: str) -> Appeal:
    return _step(engine, decision_id, username, SENT_BACK)


def withdraw(engine: Engine, decision_id: str, username: str) -> Appeal:
    return _step(engine, decision_id, username, WITHDRAWN)


def _step(engine: Engine, decision_id: str, username: str, action: str) -> Appeal:
    with engine.begin() as conn:
        appeal = _one(conn, decision_id)
        if action != WITHDRAWN and username == appeal.registered_by:
            raise AppealError(f"appeal {decision_id}: the user who registered it cannot {action_verb(action)} it "
                              "(four eyes)")
        if action != WITHDRAWN and appeal.state != REGISTERED:
            raise AppealError(f"appeal {decision_id} is {appeal.state}, not waiting for a decider")
        if action == WITHDRAWN and appeal.state in (WITHDRAWN, SENT_BACK):
            raise AppealError(f"appeal {decision_id} is {appeal.state}: nothing to withdraw")
        try:
            with conn.begin_nested():
                _insert(conn, {"event_id": uuid.uuid4().hex, "decision_id": decision_id, "stage": _STAGE[action],
                               "action": action, "at": _now(), "username": username, "period": appeal.period,
                               "aris_code": appeal.aris_code, "household_id": appeal.household_id,
                               "case_ref": appeal.case_ref, "outcome": appeal.outcome,
                               "months": "|".join(appeal.months), "reason_code": appeal.reason_code})
        except IntegrityError:
            raise AppealError(f"appeal {decision_id} was {action_verb(action)}ed by someone else meanwhile") from None
        return _one(conn, decision_id)


def action_verb(action: str) -> str:
    return {CONFIRMED: "confirm", SENT_BACK: "send back", WITHDRAWN: "withdraw"}[action]


def _one(conn: Connection, decision_id: str) -> Appeal:
    found = _appeals(conn, "decision_id = :d", {"d": decision_id})
    if not found:
        raise AppealError(f"no appeal decision {decision_id!r}")
    return found[0]


def _appeals(conn: Connection, where: str, params: dict[str, object]) -> list[Appeal]:
    rows = conn.execute(text(f"SELECT {', '.join(_COLUMNS)} FROM appeal_decisions WHERE {where} "
                             "ORDER BY at, stage"), params).mappings().all()
    registered: dict[str, dict[str, object]] = {}
    for row in rows:
        if row["action"] == REGISTERED:
            registered[row["decision_id"]] = {
                "decision_id": row["decision_id"], "period": row["period"], "aris_code": row["aris_code"],
                "household_id": row["household_id"], "case_ref": row["case_ref"], "outcome": row["outcome"],
                "months": tuple(m for m in str(row["months"]).split("|") if m), "reason_code": row["reason_code"],
                "registered_by": row["username"], "registered_at": row["at"]}
    for row in rows:
        fields = registered.get(row["decision_id"])
        if fields is None:
            continue
        if row["action"] in (CONFIRMED, SENT_BACK):
            fields.update(reviewed=row["action"], reviewed_by=row["username"])
        elif row["action"] == WITHDRAWN:
            fields["withdrawn_by"] = row["username"]
    return [Appeal(**fields) for fields in registered.values()]  # type: ignore[arg-type]


def get(engine: Engine, decision_id: str) -> Appeal:
    with engine.connect() as conn:
        return _one(conn, decision_id)


def history(engine: Engine, aris_code: str) -> list[Appeal]:
    """Every decision registered for the household, oldest first."""
    with engine.connect() as conn:
        return _appeals(conn, "aris_code = :a", {"a": aris_code})


def of_case(conn: Connection, case_ref: str) -> list[Appeal]:
    return _appeals(conn, "case_ref = :c", {"c": case_ref})


def upheld(engine: Engine | Connection, month: str) -> dict[str, Upheld]:
    """The households a confirmed, not withdrawn UPHELD decision makes ELIGIBLE in `month`, by ARIS code (the
    latest confirmed decision for a household wins; a later REJECTED one does not undo an earlier UPHELD one)."""
    def read(conn: Connection) -> dict[str, Upheld]:
        found: dict[str, Upheld] = {}
        for appeal in _appeals(conn, "months LIKE :m", {"m": f"%{month}%"}):
            if appeal.effective and appeal.outcome == UPHELD and month in appeal.months:
                found[appeal.aris_code] = Upheld(appeal.aris_code, appeal.case_ref, appeal.decision_id)
        return found

    if isinstance(engine, Connection):
        return read(engine)
    with engine.connect() as conn:
        return read(conn)


def effective_status(original: str, upheld_here: Upheld | None) -> tuple[str, str]:
    """(status, reason) of a household in a month: ELIGIBLE with APPEAL_UPHELD under a confirmed UPHELD decision,
    else the original status with no appeal reason."""
    return ("ELIGIBLE", APPEAL_UPHELD) if upheld_here else (original, "")


def confirmed_months(engine: Engine) -> list[str]:
    """Every month a confirmed decision covers (withdrawn ones too: their withdrawal may need a correction)."""
    with engine.connect() as conn:
        months = {month for (text_months,) in conn.execute(text(
            "SELECT months FROM appeal_decisions WHERE action = :c"), {"c": CONFIRMED})
            for month in str(text_months).split("|") if month}
    return sorted(months)


# ---------------------------------------------------------------- court holds (§16 / §15)
HOLD, RELEASE = "HOLD", "RELEASE"
# The case references on hold now: a HOLD row with no RELEASE row after it.
ACTIVE_HOLDS_SQL = ("SELECT DISTINCT h.case_ref FROM appeal_holds h WHERE h.action = 'HOLD' AND NOT EXISTS ("
                    "SELECT 1 FROM appeal_holds r WHERE r.case_ref = h.case_ref AND r.action = 'RELEASE' "
                    "AND r.at >= h.at)")
# The ARIS codes whose rows of month `:month` a hold keeps (any registered decision of a held case covering it).
HELD_CODES_SQL = ("SELECT d.aris_code FROM appeal_decisions d WHERE d.stage = 0 AND d.months LIKE "
                  f"'%' || :month || '%' AND d.case_ref IN ({ACTIVE_HOLDS_SQL})")


@dataclass(frozen=True)
class Hold:
    case_ref: str
    months: tuple[str, ...]
    households: int


def active_holds(conn: Connection) -> list[Hold]:
    held = [row[0] for row in conn.execute(text(ACTIVE_HOLDS_SQL + " ORDER BY 1"))]
    holds = []
    for case_ref in held:
        decisions = of_case(conn, case_ref)
        months = tuple(sorted({month for appeal in decisions for month in appeal.months}))
        holds.append(Hold(case_ref, months, len({appeal.aris_code for appeal in decisions})))
    return holds


def hold(engine: Engine, case_ref: str, username: str) -> Hold:
    """Put a court case on hold: retention keeps its households' rows of the months it covers until released."""
    return _hold_step(engine, case_ref, username, HOLD)


def release(engine: Engine, case_ref: str, username: str) -> Hold:
    """Release a hold: the rows become eligible for deletion at the next retention run."""
    return _hold_step(engine, case_ref, username, RELEASE)


def _hold_step(engine: Engine, case_ref: str, username: str, action: str) -> Hold:
    with engine.begin() as conn:
        if not of_case(conn, case_ref):
            raise AppealError(f"no appeal decision with case reference {case_ref!r}: nothing to {action.lower()}")
        on_hold = {item.case_ref: item for item in active_holds(conn)}
        if (case_ref in on_hold) == (action == HOLD):
            raise AppealError(f"case {case_ref} is {'already' if action == HOLD else 'not'} on hold")
        conn.execute(text("INSERT INTO appeal_holds (at, username, case_ref, action) VALUES (:at, :u, :c, :a)"),
                     {"at": _now(), "u": username, "c": case_ref, "a": action})
        decisions = of_case(conn, case_ref)
    return Hold(case_ref, tuple(sorted({m for a in decisions for m in a.months})),
                len({a.aris_code for a in decisions}))
