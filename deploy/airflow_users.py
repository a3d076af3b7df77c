"""Create the compose deployment's named Airflow users and EIKIS's two roles (run by `airflow-init`).

    python /opt/eikis/deploy/airflow_users.py /opt/eikis/config/airflow-users.yaml /run/secrets/airflow_user_passwords

Airflow signs in through the FAB auth manager, so every action in the UI (a trigger, a payout approval) carries a
person's user name. Two roles split the work the four-eyes rule of the claims payout needs:

- `EIKIS Operator` triggers and clears runs, reads logs: the Viewer's rights and the User's, but it cannot answer a
  Required Action (no `can_edit` on `HITL Detail`), so an operator never approves a payout;
- `EIKIS Approver` reads everything the Viewer reads and answers Required Actions (which needs `can_edit` on the
  DAG too), but cannot trigger or clear a run (no `can_create` on `DAG Runs`, no edits of task instances).

Each user has exactly one role; `Admin` (platform administration) and `Viewer` (auditors) are FAB's own. The users
file holds no secret (user name, role, e-mail); the initial passwords come from a compose secret, one
`username:password` line each, used only when the user is created (a user's later password change is kept). A
user who is no longer in the file is deactivated, never deleted (the audit trail keeps the name). Output: one line
per user, never a password, and the `EIKIS_CLAIMS_APPROVERS` value that addresses the claims DAG's payout approval
to the approvers (FAB identifies a user to that check by its numeric id).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

OPERATOR = "EIKIS Operator"
APPROVER = "EIKIS Approver"
ROLES = (OPERATOR, APPROVER, "Admin", "Viewer")


def read_users(users_file: Path) -> list[dict[str, str]]:
    """The users file, checked: unique user names, one known role each, an e-mail (FAB's key)."""
    document = yaml.safe_load(users_file.read_text(encoding="utf-8")) or {}
    users = document.get("users") or []
    seen: set[str] = set()
    for number, user in enumerate(users, 1):
        name = user.get("username") if isinstance(user, dict) else None
        if not name or not isinstance(name, str):
            raise ValueError(f"{users_file}: user {number} has no username")
        if name in seen:
            raise ValueError(f"{users_file}: user {name} is listed twice (one role per user)")
        seen.add(name)
        if user.get("role") not in ROLES:
            raise ValueError(f"{users_file}: user {name} has role {user.get('role')!r}; one of {', '.join(ROLES)}")
        if not user.get("email"):
            raise ValueError(f"{users_file}: user {name} has no email")
    return users


def read_passwords(password_file: Path) -> dict[str, str]:
    """`username:password` lines (the password may contain `:`); blank lines and `#` comments skipped."""
    passwords: dict[str, str] = {}
    for number, line in enumerate(password_file.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        name, sep, password = line.partition(":")
        if not sep or not name or len(password) < 12:
            raise ValueError(f"{password_file}: line {number} is not `username:password` with 12 or more characters")
        passwords[name] = password
    return passwords


def role_permissions(security_manager: Any) -> list[dict[str, Any]]:
    """EIKIS's two roles as FAB permission lists, built from FAB's own Viewer and User sets."""
    from airflow.providers.fab.www.security import permissions as p

    respond = (p.ACTION_CAN_EDIT, p.RESOURCE_HITL_DETAIL)
    viewer = list(security_manager.VIEWER_PERMISSIONS)
    operator = viewer + [perm for perm in security_manager.USER_PERMISSIONS if perm != respond]
    approver = viewer + [(p.ACTION_CAN_EDIT, p.RESOURCE_DAG), respond]
    return [{"role": OPERATOR, "perms": operator}, {"role": APPROVER, "perms": approver}]


def sync(users: list[dict[str, str]], passwords: dict[str, str]) -> list[str]:
    """Create the roles and users in Airflow's metadata database; return one line per user."""
    from airflow.providers.fab.auth_manager.cli_commands.utils import get_application_builder

    lines = []
    with get_application_builder() as appbuilder:
        sm = appbuilder.sm
        new = [user["username"] for user in users if sm.find_user(username=user["username"]) is None]
        missing = [name for name in new if name not in passwords]
        if missing:  # checked before anything changes: a half-made set of users helps nobody
            raise ValueError(f"user {missing[0]} has no line in the passwords file")
        sm.sync_roles()
        sm.bulk_sync_roles(role_permissions(sm))
        for user in users:
            role = sm.find_role(user["role"])
            existing = sm.find_user(username=user["username"])
            if existing is None:
                created = sm.add_user(user["username"], user.get("first_name") or user["username"],
                                      user.get("last_name") or "-", user["email"], role,
                                      passwords[user["username"]])
                if not created:
                    raise ValueError(f"user {user['username']} could not be created (is the e-mail taken?)")
                lines.append(f"created {user['username']} ({user['role']})")
            else:
                existing.roles, existing.active = [role], True
                sm.update_user(existing)
                lines.append(f"updated {user['username']} ({user['role']})")
        listed = {user["username"] for user in users}
        for other in sm.get_all_users():
            if other.username not in listed and other.active:
                other.active = False
                sm.update_user(other)
                lines.append(f"deactivated {other.username} (not in the users file)")
        # The claims DAG addresses its payout approval to Airflow user ids (FAB's numeric ids, not the names).
        approvers = sorted(sm.find_user(username=u["username"]).get_id() for u in users if u["role"] == APPROVER)
        lines.append(f"EIKIS_CLAIMS_APPROVERS={','.join(approvers)}   (the approvers' Airflow ids: put it in .env)")
    return lines


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: airflow_users.py USERS_YAML PASSWORDS_FILE", file=sys.stderr)
        return 2
    try:
        for line in sync(read_users(Path(argv[0])), read_passwords(Path(argv[1]))):
            print(f"airflow-users: {line}")
    except (OSError, ValueError, yaml.YAMLError) as exc:
        print(f"airflow-users: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
