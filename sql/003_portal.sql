-- Staff portal (CONTRACTS §14) and retention (§15). Portable SQL (PostgreSQL and SQLite).
-- Personal data here is only in the form search needs: person keys and name-token keys are HMACs under the
-- pseudonym secret, display names are sealed (AES-GCM) under EIKIS_PORTAL_DATA_KEY. Period rows are replaced
-- with the period's other rows in one transaction (pipeline.store.db.record_period) and deleted by retention.

CREATE TABLE IF NOT EXISTS portal_persons (
    period       TEXT NOT NULL,
    person_key   TEXT NOT NULL,
    aris_code    TEXT NOT NULL,
    name_sealed  TEXT NOT NULL,
    PRIMARY KEY (period, person_key)
);

CREATE TABLE IF NOT EXISTS portal_name_tokens (
    period      TEXT NOT NULL,
    token_key   TEXT NOT NULL,
    person_key  TEXT NOT NULL,
    PRIMARY KEY (period, token_key, person_key)
);

-- One opaque id per address, stable across periods, so a household page URL never carries the ARIS code.
CREATE TABLE IF NOT EXISTS portal_household_ids (
    aris_code     TEXT PRIMARY KEY,
    household_id  TEXT NOT NULL UNIQUE
);

-- Per household and period: the searchable address and the household's income by month and source (JSON
-- {"YYYY-MM": ["vid EUR", "vsaa EUR"]}; each member's month rounded to the cent, summed exactly).
CREATE TABLE IF NOT EXISTS portal_households (
    period          TEXT NOT NULL,
    aris_code       TEXT NOT NULL,
    address_search  TEXT NOT NULL,
    income_months   TEXT NOT NULL,
    PRIMARY KEY (period, aris_code)
);

CREATE TABLE IF NOT EXISTS portal_users (
    username       TEXT PRIMARY KEY,
    password_hash  TEXT NOT NULL,
    role           TEXT NOT NULL,
    disabled       INTEGER NOT NULL DEFAULT 0,
    created_at     TIMESTAMP NOT NULL
);

-- Failed sign-ins per subject (`user:<name>` or `client:<address>`), for the lock-out; pruned after a day.
CREATE TABLE IF NOT EXISTS portal_login_failures (
    subject  TEXT NOT NULL,
    at       TIMESTAMP NOT NULL
);

-- Append-only access log: who, when, what kind, how many results, which household. Never a code or a name.
CREATE TABLE IF NOT EXISTS access_log (
    at            TIMESTAMP NOT NULL,
    username      TEXT NOT NULL,
    action        TEXT NOT NULL,
    kind          TEXT,
    result_count  INTEGER,
    household_id  TEXT,
    period        TEXT
);

-- What retention deleted: month, kind, what, how many, sha256 of the deleted content. No personal data.
CREATE TABLE IF NOT EXISTS deletion_log (
    at       TIMESTAMP NOT NULL,
    as_of    TEXT NOT NULL,
    month    TEXT NOT NULL,
    kind     TEXT NOT NULL,
    target   TEXT NOT NULL,
    items    BIGINT NOT NULL,
    sha256   TEXT NOT NULL
);

CREATE INDEX IF NOT EXISTS portal_persons_by_key ON portal_persons (person_key);
CREATE INDEX IF NOT EXISTS portal_name_tokens_by_token ON portal_name_tokens (token_key);
CREATE INDEX IF NOT EXISTS portal_households_by_address ON portal_households (address_search);
CREATE INDEX IF NOT EXISTS portal_households_by_code ON portal_households (aris_code);
CREATE INDEX IF NOT EXISTS access_log_by_at ON access_log (at);
CREATE INDEX IF NOT EXISTS portal_login_failures_by_subject ON portal_login_failures (subject, at);

-- dialect: postgresql
-- The access log is append-only: no UPDATE, no TRUNCATE, and DELETE only of rows older than the 24-month
-- retention horizon (the retention job's deletion). Rows of the last 24 months cannot be removed by anyone
-- using the application's role, whatever the code does.
CREATE OR REPLACE FUNCTION access_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND OLD.at < date_trunc('month', now() AT TIME ZONE 'UTC') - interval '24 months' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'access_log is append-only (% refused)', TG_OP;
END;
$$;
DROP TRIGGER IF EXISTS access_log_append_only ON access_log;
CREATE TRIGGER access_log_append_only BEFORE UPDATE OR DELETE ON access_log
    FOR EACH ROW EXECUTE FUNCTION access_log_append_only();
DROP TRIGGER IF EXISTS access_log_no_truncate ON access_log;
CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON access_log
    FOR EACH STATEMENT EXECUTE FUNCTION access_log_append_only();

-- dialect: sqlite
-- The same append-only rule for the embedded store.
CREATE TRIGGER IF NOT EXISTS access_log_no_update BEFORE UPDATE ON access_log
BEGIN
    SELECT RAISE(ABORT, 'access_log is append-only (UPDATE refused)');
END;
CREATE TRIGGER IF NOT EXISTS access_log_old_rows_only BEFORE DELETE ON access_log
WHEN OLD.at >= datetime('now', 'start of month', '-24 months')
BEGIN
    SELECT RAISE(ABORT, 'access_log is append-only (DELETE refused)');
END;

-- dialect: all
