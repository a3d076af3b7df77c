-- EIKIS store: the payout ledger of supplier compensation (CONTRACTS §13). Append-only: an approved payout is a
-- financial record, never updated or deleted (not even by `eikis purge`). A correction is a new entry that pays the
-- difference. Money is integer cents (exact on both PostgreSQL and SQLite, whose NUMERIC may hold a float).
-- Two approvals cannot pay twice: (period, supplier, seq) is the primary key and seq is "entries so far + 1",
-- computed in the approving transaction, so two approvals computed against the same ledger state collide and one
-- fails; (period, supplier, run_id) is unique, so one run is recorded at most once per supplier.
-- `approved_by`: who approved the entry (the Airflow user of the four-eyes approval, or `cli:<os user>`); a store
-- created before it gets the column from sql/006_claims_checks.sql (PostgreSQL).
-- Sections: `-- dialect: all | postgresql | sqlite` (see pipeline/store/db.py).

-- dialect: all
CREATE TABLE IF NOT EXISTS payout_ledger (
    period                 TEXT NOT NULL,
    supplier               TEXT NOT NULL,
    seq                    INTEGER NOT NULL,
    run_id                 TEXT NOT NULL,
    approved_at            TIMESTAMP NOT NULL,
    claimed_cents          BIGINT NOT NULL,
    accepted_cents         BIGINT NOT NULL,
    previously_paid_cents  BIGINT NOT NULL,
    payout_cents           BIGINT NOT NULL,
    payout_sha256          TEXT NOT NULL,
    approved_by            TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (period, supplier, seq),
    UNIQUE (period, supplier, run_id),
    CHECK (seq >= 1),
    CHECK (payout_cents = accepted_cents - previously_paid_cents)
);

-- dialect: postgresql
CREATE OR REPLACE FUNCTION payout_ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'payout_ledger is append-only: % refused', TG_OP;
END;
$$;

CREATE OR REPLACE TRIGGER payout_ledger_append_only
    BEFORE UPDATE OR DELETE ON payout_ledger
    FOR EACH ROW EXECUTE FUNCTION payout_ledger_refuse_change();

CREATE OR REPLACE TRIGGER payout_ledger_no_truncate
    BEFORE TRUNCATE ON payout_ledger
    FOR EACH STATEMENT EXECUTE FUNCTION payout_ledger_refuse_change();

-- dialect: sqlite
CREATE TRIGGER IF NOT EXISTS payout_ledger_no_update BEFORE UPDATE ON payout_ledger
BEGIN
    SELECT RAISE(ABORT, 'payout_ledger is append-only: UPDATE refused');
END;

CREATE TRIGGER IF NOT EXISTS payout_ledger_no_delete BEFORE DELETE ON payout_ledger
BEGIN
    SELECT RAISE(ABORT, 'payout_ledger is append-only: DELETE refused');
END;
