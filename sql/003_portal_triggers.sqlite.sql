-- SQLite only: the same append-only rule for the embedded store (see 003_portal_triggers.postgresql.sql).
CREATE TRIGGER IF NOT EXISTS access_log_no_update BEFORE UPDATE ON access_log
BEGIN
    SELECT RAISE(ABORT, 'access_log is append-only (UPDATE refused)');
END
;;
CREATE TRIGGER IF NOT EXISTS access_log_old_rows_only BEFORE DELETE ON access_log
WHEN OLD.at >= datetime('now', 'start of month', '-24 months')
BEGIN
    SELECT RAISE(ABORT, 'access_log is append-only (DELETE refused)');
END
