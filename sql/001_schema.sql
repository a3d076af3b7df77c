-- EIKIS store, version 1. Portable SQL: runs on PostgreSQL (production) and SQLite (embedded default).
-- Every table is keyed by period; re-running a month replaces that month's rows in one transaction.
-- Personal data: only pseudonymous person keys (HMAC) are stored; retention is 24 months (eikis purge).

CREATE TABLE IF NOT EXISTS runs (
    period          TEXT PRIMARY KEY,
    run_id          TEXT NOT NULL,
    status          TEXT NOT NULL,
    policy_version  TEXT NOT NULL,
    policy_digest   TEXT NOT NULL,
    support_types   TEXT NOT NULL,
    persons         INTEGER NOT NULL,
    households      INTEGER NOT NULL,
    eligible        INTEGER NOT NULL,
    review          INTEGER NOT NULL,
    recorded_at     TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS source_files (
    period       TEXT NOT NULL,
    source       TEXT NOT NULL,
    file         TEXT NOT NULL,
    sha256       TEXT NOT NULL,
    bytes        BIGINT NOT NULL,
    records      BIGINT NOT NULL,
    quarantined  BIGINT NOT NULL,
    PRIMARY KEY (period, source, file)
);

CREATE TABLE IF NOT EXISTS source_summaries (
    period       TEXT NOT NULL,
    source       TEXT NOT NULL,
    records      BIGINT NOT NULL,
    staged       BIGINT NOT NULL,
    quarantined  BIGINT NOT NULL,
    reasons      TEXT NOT NULL,
    PRIMARY KEY (period, source)
);

CREATE TABLE IF NOT EXISTS household_decisions (
    period               TEXT NOT NULL,
    aris_code            TEXT NOT NULL,
    address              TEXT,
    municipality_code    TEXT,
    members              INTEGER NOT NULL,
    quarantined_members  INTEGER NOT NULL,
    total_income_eur     NUMERIC(14, 2) NOT NULL,
    avg_income_eur       NUMERIC(14, 2),
    threshold_eur        NUMERIC(14, 2) NOT NULL,
    policy_version       TEXT NOT NULL,
    status               TEXT NOT NULL,
    reason               TEXT NOT NULL,
    PRIMARY KEY (period, aris_code)
);

CREATE TABLE IF NOT EXISTS household_members (
    period      TEXT NOT NULL,
    aris_code   TEXT NOT NULL,
    person_key  TEXT NOT NULL,
    total_eur   NUMERIC(14, 2) NOT NULL,
    PRIMARY KEY (period, person_key, aris_code)
);

CREATE TABLE IF NOT EXISTS recipient_files (
    period          TEXT NOT NULL,
    path            TEXT NOT NULL,
    recipient_kind  TEXT NOT NULL,
    recipient_id    TEXT NOT NULL,
    rows            BIGINT NOT NULL,
    sha256          TEXT NOT NULL,
    PRIMARY KEY (period, path)
);

CREATE TABLE IF NOT EXISTS deliveries (
    period        TEXT NOT NULL,
    recipient     TEXT NOT NULL,
    path          TEXT NOT NULL,
    remote_path   TEXT NOT NULL,
    sha256        TEXT NOT NULL,
    bytes         BIGINT NOT NULL,
    attempts      INTEGER NOT NULL,
    status        TEXT NOT NULL,
    started_at    TIMESTAMP NOT NULL,
    finished_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (period, recipient, path)
);

CREATE TABLE IF NOT EXISTS audit_events (
    period      TEXT NOT NULL,
    at          TIMESTAMP NOT NULL,
    run_id      TEXT NOT NULL,
    event       TEXT NOT NULL,
    detail      TEXT NOT NULL
);

CREATE INDEX IF NOT EXISTS household_members_by_key ON household_members (person_key);
CREATE INDEX IF NOT EXISTS household_decisions_by_status ON household_decisions (period, status);
CREATE INDEX IF NOT EXISTS audit_events_by_period ON audit_events (period);
