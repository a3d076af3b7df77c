-- ALDIS protected-user runs (CONTRACTS §12): one row per period, counts only (no personal data, no names).
-- Re-running a period replaces its row.

CREATE TABLE IF NOT EXISTS aldis_runs (
    period        TEXT PRIMARY KEY,
    run_id        TEXT NOT NULL,
    sopa_records  INTEGER NOT NULL,
    passed        INTEGER NOT NULL,
    returned      INTEGER NOT NULL,
    passed_per_trader   TEXT NOT NULL,
    returned_per_reason TEXT NOT NULL,
    files         TEXT NOT NULL,
    recorded_at   TIMESTAMP NOT NULL
);
