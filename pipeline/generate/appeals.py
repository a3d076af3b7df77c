"""Sample appeal decisions on a recorded month (CONTRACTS §16), so a newcomer can walk the loop on the sample.

On the month's NOT_ELIGIBLE households (ARIS code order, deterministic): two UPHELD decisions registered by the
sample staff user and confirmed by the sample decider (each reaches the suppliers at the next `eikis
corrections`), one REJECTED and confirmed (changes nothing), one UPHELD still waiting for a decider (changes
nothing until confirmed). Case references `SAMPLE/<P>-<n>`: no personal data. Re-running adds nothing for a case
reference already registered.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, text

from pipeline.store import appeals

STAFF, DECIDER = "sample-staff", "sample-decider"
PLAN = (("UPHELD", True, "INCOME_EVIDENCE"), ("UPHELD", True, "HOUSEHOLD_COMPOSITION"),
        ("REJECTED", True, "OTHER"), ("UPHELD", False, "ADDRESS"))


@dataclass(frozen=True)
class SampleAppeal:
    case_ref: str
    outcome: str
    state: str


def generate_appeals(engine: Engine, period: str) -> list[SampleAppeal]:
    """Register (and, per PLAN, confirm) the sample decisions of `period`; returns what exists afterwards."""
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT d.aris_code, i.household_id FROM household_decisions d JOIN portal_household_ids i "
            "ON i.aris_code = d.aris_code WHERE d.period = :p AND d.status = 'NOT_ELIGIBLE' AND d.members > 0 "
            "ORDER BY d.aris_code"), {"p": period}).all()
    made = []
    pairs = zip(PLAN, rows, strict=False)   # fewer NOT_ELIGIBLE households than PLAN: fewer samples
    for number, ((outcome, confirmed, reason), (aris_code, household_id)) in enumerate(pairs, start=1):
        case_ref = f"SAMPLE/{period}-{number}"
        with engine.connect() as conn:
            existing = appeals.of_case(conn, case_ref)
        if existing:
            made.append(SampleAppeal(case_ref, outcome, existing[0].state))
            continue
        decision = appeals.register(engine, STAFF, period=period, aris_code=aris_code, household_id=household_id,
                                    case_ref=case_ref, outcome=outcome, months=[], reason_code=reason)
        state = appeals.confirm(engine, decision, DECIDER).state if confirmed else appeals.REGISTERED
        made.append(SampleAppeal(case_ref, outcome, state))
    return made
