"""Server-side sign-in sessions: what makes signing out (and disabling a user) end every copy of a cookie.

The signed cookie alone cannot be revoked: a copy of it opens the portal until it expires, whatever the owner did
(issue 20.9). So the cookie carries a random session id, and a request is signed in only while the store holds
that id's SHA-256 unexpired. The store keeps the digest, not the id, so a reader of the database cannot build a
session from it (and would also need the session key to sign the cookie).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import Engine, text

from pipeline.portal.users import now


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def open_session(engine: Engine, username: str, hours: int) -> str:
    """A new session for `username`, valid `hours`; returns the id for the cookie. Expired rows are pruned."""
    session_id = secrets.token_urlsafe(32)
    at = now()
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM portal_sessions WHERE expires_at < :at"), {"at": at})
        conn.execute(text("INSERT INTO portal_sessions (session_digest, username, created_at, expires_at) "
                          "VALUES (:d, :u, :at, :until)"),
                     {"d": _digest(session_id), "u": username, "at": at, "until": at + dt.timedelta(hours=hours)})
    return session_id


def session_user(engine: Engine, session_id: object) -> str | None:
    """The user name of a live session, None for a missing, revoked or expired one."""
    if not isinstance(session_id, str) or not session_id:
        return None
    with engine.connect() as conn:
        return conn.execute(text("SELECT username FROM portal_sessions WHERE session_digest = :d AND "
                                 "expires_at >= :at"), {"d": _digest(session_id[:128]), "at": now()}).scalar()


def close_session(engine: Engine, session_id: object) -> None:
    """Revoke a session: every copy of its cookie is signed out from now on."""
    if isinstance(session_id, str) and session_id:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM portal_sessions WHERE session_digest = :d"),
                         {"d": _digest(session_id[:128])})
