-- Staff portal sign-in sessions (issue 20.9). The session cookie carries a random id; the store keeps only its
-- SHA-256, the user and the expiry, so signing out (or an expiry) ends the session for every copy of the cookie.
-- Portable SQL (PostgreSQL and SQLite); rows are deleted on sign-out and pruned after they expire.

CREATE TABLE IF NOT EXISTS portal_sessions (
    session_digest  TEXT PRIMARY KEY,
    username        TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    expires_at      TIMESTAMP NOT NULL
);

CREATE INDEX IF NOT EXISTS portal_sessions_by_user ON portal_sessions (username);
