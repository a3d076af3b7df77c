-- A store of 24 national months (issue 23.2): what the portal's queries and a month's record need once every month
-- is there.
--
-- 1. Address search is `address_search LIKE 'prefix%'`. A plain B-tree serves that only under the "C" collation;
--    a store created under any other (C.UTF-8, lv_LV.UTF-8, en_US.UTF-8 …) scanned every month's households.
--    `text_pattern_ops` compares bytes, so the prefix is an index range whatever the database's collation; the
--    household and month ride along, so the search reads the index alone.
-- 2. A month's tables are loaded as `<partition>_load` and swapped in whole by `eikis_attach_period_tables`: a
--    new month is renamed and attached; a month recorded again has its attached partition detached and dropped
--    first, in the same transaction, instead of millions of DELETEs that leave the month's pages dead. Either way
--    the month is ANALYZEd as it is attached: a month loaded in bulk has no planner statistics until autovacuum
--    reaches it, and without them the planner scans whole months for a one-household query.

-- dialect: postgresql
DROP INDEX IF EXISTS portal_households_by_address;
CREATE INDEX portal_households_by_address ON portal_households (address_search text_pattern_ops)
    INCLUDE (aris_code, period);

-- The month's tables to load (`<partition>_load`, empty, owned by the owner role), whether or not the month is
-- attached already; always true (it once told a new month from a re-record, which now differ only at attach).
CREATE OR REPLACE FUNCTION eikis_new_period_tables(p text) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    tab text;
    part text;
BEGIN
    FOREACH tab IN ARRAY public.eikis_period_tables() LOOP
        part := public.eikis_partition_name(tab, p) || '_load';
        EXECUTE format('DROP TABLE IF EXISTS public.%I', part);
        EXECUTE format('CREATE TABLE public.%I (LIKE public.%I INCLUDING DEFAULTS INCLUDING CONSTRAINTS, '
                       'CHECK (period = %L))', part, tab, p);
        EXECUTE format('GRANT SELECT, INSERT ON public.%I TO %I', part, session_user);
    END LOOP;
    RETURN true;
END;
$$;

-- Swap the loaded month in: the attached month it replaces (if any) is detached and dropped, the loaded tables take
-- the partitions' names, are attached (their indexes built here, once) and analysed. A table without its loaded
-- twin is refused, so this never removes a month it does not replace (retention has `eikis_drop_period_table`).
CREATE OR REPLACE FUNCTION eikis_attach_period_tables(p text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    tab text;
    part text;
BEGIN
    FOREACH tab IN ARRAY public.eikis_period_tables() LOOP
        part := public.eikis_partition_name(tab, p);
        IF to_regclass(format('public.%I', part || '_load')) IS NULL THEN
            RAISE EXCEPTION 'month % of % was not loaded: nothing to attach', p, tab;
        END IF;
        IF to_regclass(format('public.%I', part)) IS NOT NULL THEN
            EXECUTE format('ALTER TABLE public.%I DETACH PARTITION public.%I', tab, part);
            EXECUTE format('DROP TABLE public.%I', part);
        END IF;
        EXECUTE format('ALTER TABLE public.%I RENAME TO %I', part || '_load', part);
        EXECUTE format('ALTER TABLE public.%I ATTACH PARTITION public.%I FOR VALUES IN (%L)', tab, part, p);
        EXECUTE format('ANALYZE public.%I', part);
    END LOOP;
END;
$$;

REVOKE ALL ON FUNCTION eikis_new_period_tables(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION eikis_attach_period_tables(text) FROM PUBLIC;
