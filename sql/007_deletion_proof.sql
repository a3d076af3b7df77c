-- Retention's proof written ahead (issue 20.5): each deletion is a STARTED row, committed before anything is
-- deleted, and a COMPLETED row with the same deletion_id after; a deletion that was interrupted (a killed process,
-- a store that failed after the files went) is a STARTED row with no COMPLETED row, which `--verify` reports.
-- The deletion log is the proof, so it is append-only like the access log: no UPDATE, DELETE or TRUNCATE.
-- Rows written before this version were written in the deleting transaction: they are COMPLETED.

-- dialect: all
ALTER TABLE deletion_log ADD COLUMN deletion_id TEXT NOT NULL DEFAULT '';
ALTER TABLE deletion_log ADD COLUMN state TEXT NOT NULL DEFAULT 'COMPLETED';
CREATE INDEX IF NOT EXISTS deletion_log_by_target ON deletion_log (month, kind, target);

-- dialect: postgresql
CREATE OR REPLACE FUNCTION deletion_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'deletion_log is append-only: % refused', TG_OP;
END;
$$;

CREATE OR REPLACE TRIGGER deletion_log_append_only
    BEFORE UPDATE OR DELETE ON deletion_log
    FOR EACH ROW EXECUTE FUNCTION deletion_log_refuse_change();

CREATE OR REPLACE TRIGGER deletion_log_no_truncate
    BEFORE TRUNCATE ON deletion_log
    FOR EACH STATEMENT EXECUTE FUNCTION deletion_log_refuse_change();

-- dialect: sqlite
CREATE TRIGGER IF NOT EXISTS deletion_log_no_update BEFORE UPDATE ON deletion_log
BEGIN
    SELECT RAISE(ABORT, 'deletion_log is append-only: UPDATE refused');
END;

CREATE TRIGGER IF NOT EXISTS deletion_log_no_delete BEFORE DELETE ON deletion_log
BEGIN
    SELECT RAISE(ABORT, 'deletion_log is append-only: DELETE refused');
END;
