"""Four eyes on a payout (issue 22.4): the person who approves is not the one who started the check.

A rule, not plumbing: it takes who triggered the run, who answered the approval request (Airflow's HITL
`responded_by_user`) and the configured approvers, and says who approved or why nobody validly did.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pipeline.errors import EikisError


class ApprovalRefused(EikisError):
    """An approval that does not name exactly the checked payout, or not by a second person: nothing is recorded."""


def four_eyes(approvers: Sequence[str], responder: Mapping[str, Any] | None, triggered_by: str | None) -> str:
    """Who approved, as recorded; refused unless a second person did: the approver is known, is not the user who
    triggered the run (by id or name), and, when approvers are configured, is one of them. Airflow itself lets
    only `assigned_users` answer; this holds even where it does not (no approvers configured, another answer path).
    """
    user_id = str((responder or {}).get("id") or "")
    name = str((responder or {}).get("name") or user_id)
    if not user_id:
        raise ApprovalRefused("the approval carries no approver identity; nothing was recorded")
    if not triggered_by:
        raise ApprovalRefused("the run has no triggering user, so four eyes cannot be shown; trigger it as a named "
                              "user; nothing was recorded")
    if triggered_by in (user_id, name):
        raise ApprovalRefused(f"user {name} triggered this run and cannot also approve its payout (four eyes): "
                              "another approver must answer; nothing was recorded")
    if approvers and user_id not in approvers:
        raise ApprovalRefused(f"user {name} is not among the payout approvers (EIKIS_CLAIMS_APPROVERS); nothing was "
                              "recorded")
    return name if name == user_id else f"{name} (id {user_id})"
