-- A month whole (issue 23.1): on PostgreSQL the five tables holding a month's personal rows are partitioned by
-- period. A month recorded for the first time is loaded into tables of its own (no index upkeep row by row, no
-- other month touched) and attached whole; retention detaches and drops a month's partition instead of millions
-- of DELETEs. The partitions belong to the owner role: the application asks for them through the functions below,
-- which run with the owner's rights and do only this (a period `YYYY-MM`, the five tables, nothing else; a drop
-- only of a month past the 24-month horizon). SQLite keeps plain tables (one user, no partitions).

-- dialect: postgresql
CREATE OR REPLACE FUNCTION eikis_period_tables() RETURNS text[] LANGUAGE sql IMMUTABLE AS $$
    SELECT ARRAY['household_decisions', 'household_members', 'portal_persons', 'portal_name_tokens',
                 'portal_households']
$$;

CREATE OR REPLACE FUNCTION eikis_partition_name(tab text, p text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF p !~ '^[0-9]{4}-[0-9]{2}$' OR NOT tab = ANY (public.eikis_period_tables()) THEN
        RAISE EXCEPTION 'not a period table and month: % %', tab, p;
    END IF;
    RETURN tab || '_p' || replace(p, '-', '_');
END;
$$;

DO $$
DECLARE
    tab text;
    key text;
    p text;
BEGIN
    FOREACH tab IN ARRAY eikis_period_tables() LOOP
        SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY k.ord) INTO key
          FROM pg_constraint c
          CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)
          JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
         WHERE c.conrelid = format('public.%I', tab)::regclass AND c.contype = 'p';
        EXECUTE format('ALTER TABLE public.%I RENAME TO %I', tab, tab || '_unpartitioned');
        EXECUTE format('CREATE TABLE public.%I (LIKE public.%I INCLUDING DEFAULTS INCLUDING CONSTRAINTS) '
                       'PARTITION BY LIST (period)', tab, tab || '_unpartitioned');
        FOR p IN EXECUTE format('SELECT DISTINCT period FROM public.%I ORDER BY 1', tab || '_unpartitioned') LOOP
            EXECUTE format('CREATE TABLE public.%I PARTITION OF public.%I FOR VALUES IN (%L)',
                           eikis_partition_name(tab, p), tab, p);
        END LOOP;
        EXECUTE format('INSERT INTO public.%I SELECT * FROM public.%I', tab, tab || '_unpartitioned');
        EXECUTE format('DROP TABLE public.%I', tab || '_unpartitioned');
        EXECUTE format('ALTER TABLE public.%I ADD PRIMARY KEY (%s)', tab, key);
    END LOOP;
END;
$$;

CREATE INDEX household_members_by_key ON household_members (person_key);
CREATE INDEX household_decisions_by_status ON household_decisions (period, status);
CREATE INDEX portal_persons_by_key ON portal_persons (person_key);
CREATE INDEX portal_name_tokens_by_token ON portal_name_tokens (token_key);
CREATE INDEX portal_households_by_address ON portal_households (address_search);
CREATE INDEX portal_households_by_code ON portal_households (aris_code);

-- A month's own tables, to load before attaching; false when the month is attached already (a re-record).
CREATE OR REPLACE FUNCTION eikis_new_period_tables(p text) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    tab text;
    part text;
BEGIN
    IF to_regclass(format('public.%I', public.eikis_partition_name('household_members', p))) IS NOT NULL THEN
        RETURN false;
    END IF;
    FOREACH tab IN ARRAY public.eikis_period_tables() LOOP
        part := public.eikis_partition_name(tab, p);
        EXECUTE format('CREATE TABLE public.%I (LIKE public.%I INCLUDING DEFAULTS INCLUDING CONSTRAINTS, '
                       'CHECK (period = %L))', part, tab, p);
        EXECUTE format('GRANT SELECT, INSERT ON public.%I TO %I', part, session_user);
    END LOOP;
    RETURN true;
END;
$$;

-- Attach the month's loaded tables whole (their indexes are built here, once, not row by row).
CREATE OR REPLACE FUNCTION eikis_attach_period_tables(p text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    tab text;
BEGIN
    FOREACH tab IN ARRAY public.eikis_period_tables() LOOP
        EXECUTE format('ALTER TABLE public.%I ATTACH PARTITION public.%I FOR VALUES IN (%L)', tab,
                       public.eikis_partition_name(tab, p), p);
    END LOOP;
END;
$$;

-- Retention: detach and drop one table's month, only a month past the 24-month horizon; returns its row count.
CREATE OR REPLACE FUNCTION eikis_drop_period_table(tab text, p text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    part text := public.eikis_partition_name(tab, p);
    removed bigint;
BEGIN
    IF p >= to_char(date_trunc('month', now() AT TIME ZONE 'UTC') - interval '24 months', 'YYYY-MM') THEN
        RAISE EXCEPTION 'month % of % is within the 24-month retention', p, tab;
    END IF;
    IF to_regclass(format('public.%I', part)) IS NULL THEN
        RETURN 0;
    END IF;
    EXECUTE format('SELECT count(*) FROM public.%I', part) INTO removed;
    EXECUTE format('ALTER TABLE public.%I DETACH PARTITION public.%I', tab, part);
    EXECUTE format('DROP TABLE public.%I', part);
    RETURN removed;
END;
$$;

REVOKE ALL ON FUNCTION eikis_new_period_tables(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION eikis_attach_period_tables(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION eikis_drop_period_table(text, text) FROM PUBLIC;
