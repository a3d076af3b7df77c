-- PostgreSQL only (files named *.postgresql.sql run only there; statements are separated by lines holding `;;`).
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
$$
;;
DROP TRIGGER IF EXISTS access_log_append_only ON access_log
;;
CREATE TRIGGER access_log_append_only BEFORE UPDATE OR DELETE ON access_log
    FOR EACH ROW EXECUTE FUNCTION access_log_append_only()
;;
DROP TRIGGER IF EXISTS access_log_no_truncate ON access_log
;;
CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON access_log
    FOR EACH STATEMENT EXECUTE FUNCTION access_log_append_only()
