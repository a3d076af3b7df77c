"""Portal users: argon2id password hashes (argon2-cffi), roles, disabling, and the sign-in lock-out.

A sign-in is refused, whatever the password (a locked-out guesser learns nothing from the answer), while within
the window
- the user name has `max_failures` failed attempts: guessing one account's password is capped from anywhere, and
  an admin lifts it with `eikis portal-user unlock` for the colleague who really forgot;
- the client address has `max_failures` failures with user names that do not exist: scanning for names is capped
  per machine, while one colleague's wrong passwords do not lock the others behind the same address (issue 24.4);
- the client address has `client_max_failures` failures of any kind (a higher bound): spraying a few guesses over
  many real accounts from one machine is capped too.
A successful sign-in clears the user's failures.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Engine, text

from pipeline.errors import EikisError

ROLES = ("staff", "auditor", "admin", "decider")
# What each role may do, enforced on the server for every request. Admins manage users but do not read the
# access log that records their own use (separation of duties); only auditors do. Staff register appeal decisions,
# deciders confirm or send them back (CONTRACTS §16: four eyes; the store refuses the registrant as reviewer).
PERMISSIONS = {"staff": {"search", "appeal_register"}, "auditor": {"search", "audit"}, "admin": {"search", "users"},
               "decider": {"search", "appeal_decide"}}
_USERNAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_HASHER = PasswordHasher()  # argon2id with the library's maintained defaults (RFC 9106 low-memory profile)
# Verified against when the user does not exist, so an unknown name costs the same time as a wrong password.
_DUMMY_HASH = _HASHER.hash("eikis-no-such-user")
MIN_PASSWORD = 12


@dataclass(frozen=True)
class User:
    username: str
    role: str
    language: str | None = None     # the portal language the user chose while signed in; None: the browser's

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
        row = conn.execute(text("SELECT username, role, language FROM portal_users WHERE username = :u "
                                "AND disabled = 0"), {"u": username}).first()
    return User(row[0], row[1], row[2]) if row else None


def set_language(engine: Engine, username: str, language: str) -> None:
    """Remember the user's page language, so the next sign-in speaks it on any browser (the caller checks that
    `language` is one the portal has)."""
    with engine.begin() as conn:
        conn.execute(text("UPDATE portal_users SET language = :l WHERE username = :u"),
                     {"l": language, "u": username})


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
        row = conn.execute(text("SELECT password_hash, role, disabled, language FROM portal_users "
                                "WHERE username = :u"), {"u": username[:64]}).first()
    try:
        _HASHER.verify(row[0] if row else _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    return User(username, row[1], row[3]) if row and not row[2] else None


@dataclass(frozen=True)
class SignIn:
    """What one sign-in attempt came to."""

    user: User | None       # the user when the name and password matched an enabled account
    locked: bool            # refused by the lock-out, whatever the password
    known: bool             # the user name exists (else what was typed is not logged: it may be a code or a name)


def attempt_sign_in(engine: Engine, username: str, password: str, client: str, limits: tuple[int, int, int]
                    ) -> SignIn:
    """One sign-in attempt. `limits` is (max_failures, client_max_failures, window_minutes).

    Blocking (argon2 is slow and takes 64 MiB, on purpose): the web app runs it in a worker thread, a few at a time.
    """
    max_failures, client_max, window = limits
    known = user_exists(engine, username)
    if (locked_out(engine, [f"user:{username}", f"unknown-name:{client}"], max_failures, window)
            or locked_out(engine, [f"client:{client}"], client_max, window)):
        return SignIn(None, True, known)
    user = check_password(engine, username, password)
    if user is None:
        subjects = [f"user:{username}", f"client:{client}"]
        if not known:
            subjects.append(f"unknown-name:{client}")
        record_failure(engine, subjects)
        return SignIn(None, False, known)
    clear_failures(engine, f"user:{username}")
    return SignIn(user, False, known)


def user_exists(engine: Engine, username: str) -> bool:
    with engine.connect() as conn:
        return conn.execute(text("SELECT 1 FROM portal_users WHERE username = :u"), {"u": username[:64]}).first() \
            is not None


def unlock_user(engine: Engine, username: str) -> None:
    """Lift the user's lock-out now (the admin's answer to a colleague who mistyped, instead of waiting)."""
    if not user_exists(engine, username):
        raise EikisError(f"no user {username}")
    clear_failures(engine, f"user:{username}")
