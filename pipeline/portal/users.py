"""Portal users: argon2id password hashes (argon2-cffi), roles, disabling, and the sign-in lock-out.

A sign-in is refused while the user name or the client address has `max_failures` failed attempts within the
window, whatever the password: guessing is capped per account and per machine, and a locked-out attacker learns
nothing from the answer. A successful sign-in clears the user's failures.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Engine, text

from pipeline.errors import EikisError

ROLES = ("staff", "auditor", "admin")
# What each role may do, enforced on the server for every request. Admins manage users but do not read the
# access log that records their own use (separation of duties); only auditors do.
PERMISSIONS = {"staff": {"search"}, "auditor": {"search", "audit"}, "admin": {"search", "users"}}
_USERNAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_HASHER = PasswordHasher()  # argon2id with the library's maintained defaults (RFC 9106 low-memory profile)
# Verified against when the user does not exist, so an unknown name costs the same time as a wrong password.
_DUMMY_HASH = _HASHER.hash("eikis-no-such-user")
MIN_PASSWORD = 12


@dataclass(frozen=True)
class User:
    username: str
    role: str

    def can(self, permission: str) -> bool:
        return permission in PERMISSIONS.get(self.role, set())


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def add_user(engine: Engine, username: str, role: str, password: str) -> None:
    if not _USERNAME.match(username):
        raise EikisError("a user name is 1-64 letters, digits, '.', '_' or '-'")
    if role not in ROLES:
        raise EikisError(f"role must be one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise EikisError(f"a password needs at least {MIN_PASSWORD} characters")
    with engine.begin() as conn:
        if conn.execute(text("SELECT 1 FROM portal_users WHERE username = :u"), {"u": username}).first():
            raise EikisError(f"user {username} already exists")
        conn.execute(text("INSERT INTO portal_users (username, password_hash, role, disabled, created_at) "
                          "VALUES (:u, :h, :r, 0, :at)"),
                     {"u": username, "h": _HASHER.hash(password), "r": role, "at": now()})


def disable_user(engine: Engine, username: str) -> None:
    with engine.begin() as conn:
        result = conn.execute(text("UPDATE portal_users SET disabled = 1 WHERE username = :u"), {"u": username})
    if result.rowcount == 0:
        raise EikisError(f"no user {username}")


def list_users(engine: Engine) -> list[tuple[str, str, bool]]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT username, role, disabled FROM portal_users ORDER BY username"))
        return [(row[0], row[1], bool(row[2])) for row in rows]


def active_user(engine: Engine, username: str | None) -> User | None:
    """The signed-in user as the store says now (a disabled user or a changed role takes effect at once)."""
    if not username:
        return None
    with engine.connect() as conn:
        row = conn.execute(text("SELECT username, role FROM portal_users WHERE username = :u AND disabled = 0"),
                           {"u": username}).first()
    return User(row[0], row[1]) if row else None


def locked_out(engine: Engine, subjects: list[str], max_failures: int, window_minutes: int) -> bool:
    since = now() - dt.timedelta(minutes=window_minutes)
    with engine.connect() as conn:
        for subject in subjects:
            count = conn.execute(text("SELECT count(*) FROM portal_login_failures WHERE subject = :s AND at >= :t"),
                                 {"s": subject, "t": since}).scalar_one()
            if count >= max_failures:
                return True
    return False


def record_failure(engine: Engine, subjects: list[str]) -> None:
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM portal_login_failures WHERE at < :t"), {"t": now() - dt.timedelta(days=1)})
        for subject in subjects:
            conn.execute(text("INSERT INTO portal_login_failures (subject, at) VALUES (:s, :at)"),
                         {"s": subject, "at": now()})


def clear_failures(engine: Engine, subject: str) -> None:
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM portal_login_failures WHERE subject = :s"), {"s": subject})


def check_password(engine: Engine, username: str, password: str) -> User | None:
    """The user when the name and password match an enabled account, else None (same cost either way)."""
    with engine.connect() as conn:
        row = conn.execute(text("SELECT password_hash, role, disabled FROM portal_users WHERE username = :u"),
                           {"u": username[:64]}).first()
    try:
        _HASHER.verify(row[0] if row else _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    return User(username, row[1]) if row and not row[2] else None


def attempt_sign_in(engine: Engine, username: str, password: str, client: str, max_failures: int,
                    window_minutes: int) -> tuple[User | None, bool]:
    """One sign-in attempt: (the user or None, whether it was refused by the lock-out).

    Blocking (argon2 is slow and takes 64 MiB, on purpose): the web app runs it in a worker thread, a few at a time.
    """
    subjects = [f"user:{username}", f"client:{client}"]
    if locked_out(engine, subjects, max_failures, window_minutes):
        return None, True
    user = check_password(engine, username, password)
    if user is None:
        record_failure(engine, subjects)
        return None, False
    clear_failures(engine, f"user:{username}")
    return user, False
