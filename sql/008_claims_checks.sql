-- EIKIS store: what each claims check showed (CONTRACTS §13, issue 20.2). An approval must pay exactly what the
-- person approved: the check returns the digest of its payout rows (period, run id, every row of payout.csv) and
-- keeps it here, outside the outbox it describes, so an outbox edited after the check (a file and its manifest
-- entry together) cannot be approved. One row per (period, run_id): the same run always gives the same rows.
-- Append-only like the ledger it guards (an approval compares against it).
-- Sections: `-- dialect: all | postgresql | sqlite` (see pipeline/store/db.py).

-- dialect: all
CREATE TABLE IF NOT EXISTS claims_checks (
    period          TEXT NOT NULL,
    run_id          TEXT NOT NULL,
    payout_digest   TEXT NOT NULL,
    checked_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (period, run_id)
);

-- dialect: postgresql
-- A ledger created before approvals named their approver (sql/002_claims.sql now creates the column; SQLite: migration 0004). Looked up
-- first: ALTER TABLE takes the table's strongest lock even when the column exists.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM information_schema.columns
                   WHERE table_schema = current_schema() AND table_name = 'payout_ledger'
                     AND column_name = 'approved_by') THEN
        ALTER TABLE payout_ledger ADD COLUMN approved_by TEXT NOT NULL DEFAULT '';
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION claims_checks_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'claims_checks is append-only: % refused', TG_OP;
END;
$$;

CREATE OR REPLACE TRIGGER claims_checks_append_only
    BEFORE UPDATE OR DELETE ON claims_checks
    FOR EACH ROW EXECUTE FUNCTION claims_checks_refuse_change();

-- dialect: sqlite
CREATE TRIGGER IF NOT EXISTS claims_checks_no_update BEFORE UPDATE ON claims_checks
BEGIN
    SELECT RAISE(ABORT, 'claims_checks is append-only: UPDATE refused');
END;

CREATE TRIGGER IF NOT EXISTS claims_checks_no_delete BEFORE DELETE ON claims_checks
BEGIN
    SELECT RAISE(ABORT, 'claims_checks is append-only: DELETE refused');
END;
