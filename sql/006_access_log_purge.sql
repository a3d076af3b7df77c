-- Retention of the access log under separate database roles (issue 20.6). The application role has only SELECT
-- and INSERT on the access log; the rows past the 24-month horizon are removed through this function, which runs
-- with its owner's rights and deletes nothing younger than the horizon, whatever range it is given.

-- dialect: postgresql
CREATE OR REPLACE FUNCTION access_log_purge(from_at timestamp, to_at timestamp) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    removed bigint;
BEGIN
    DELETE FROM public.access_log
     WHERE at >= from_at AND at < to_at
       AND at < date_trunc('month', now() AT TIME ZONE 'UTC') - interval '24 months';
    GET DIAGNOSTICS removed = ROW_COUNT;
    RETURN removed;
END;
$$;
REVOKE ALL ON FUNCTION access_log_purge(timestamp, timestamp) FROM PUBLIC;
