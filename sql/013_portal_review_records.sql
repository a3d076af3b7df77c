-- The quarantined records behind each REVIEW household (issue 24.3: "REVIEW causes linked to the quarantined
-- records' reason and source file, never their personal data"): per period and household, each of its members'
-- quarantined records as where it stands (source, file, record number, line) and why (reason code). No personal
-- code, key, name or amount; the ARIS code ties it to a household, so it is a month's personal row like the
-- household's own: written by `record_period` in the same transaction, partitioned by period on PostgreSQL,
-- deleted by retention (pipeline/store/partitions.py PERSONAL_PERIOD_TABLES). A tiny table: quarantines are a
-- small fraction of a month's records.

-- dialect: sqlite
CREATE TABLE IF NOT EXISTS portal_review_records (
    period     TEXT NOT NULL,
    aris_code  TEXT NOT NULL,
    source     TEXT NOT NULL,
    file       TEXT NOT NULL,
    record     BIGINT NOT NULL,     -- the record's number in its file (1 = the first)
    line       BIGINT NOT NULL,     -- the line it starts on (0 where the reader has none)
    reason     TEXT NOT NULL        -- a quarantine reason code (pipeline/quality/reasons.py)
);
CREATE INDEX IF NOT EXISTS portal_review_records_by_household ON portal_review_records (period, aris_code);

-- dialect: postgresql
CREATE TABLE portal_review_records (
    period     TEXT NOT NULL,
    aris_code  TEXT NOT NULL,
    source     TEXT NOT NULL,
    file       TEXT NOT NULL,
    record     BIGINT NOT NULL,
    line       BIGINT NOT NULL,
    reason     TEXT NOT NULL
) PARTITION BY LIST (period);
CREATE INDEX portal_review_records_by_household ON portal_review_records (period, aris_code);

-- The sixth table of a month (sql/009): new months get its partition with the other five, retention drops it.
CREATE OR REPLACE FUNCTION eikis_period_tables() RETURNS text[] LANGUAGE sql IMMUTABLE AS $$
    SELECT ARRAY['household_decisions', 'household_members', 'portal_persons', 'portal_name_tokens',
                 'portal_households', 'portal_review_records']
$$;

-- Months recorded before this revision are attached already (their `household_members` partition is there): a
-- re-record writes through the parent table, so each of them gets its (empty) partition now.
DO $$
DECLARE
    p text;
BEGIN
    FOR p IN SELECT replace(right(c.relname, 7), '_', '-') FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
              WHERE i.inhparent = 'public.household_members'::regclass ORDER BY 1 LOOP
        EXECUTE format('CREATE TABLE public.%I PARTITION OF public.portal_review_records FOR VALUES IN (%L)',
                       public.eikis_partition_name('portal_review_records', p), p);
    END LOOP;
END;
$$;

-- A month's `portal_review_records` partition is empty when nobody was in REVIEW (and for every month recorded
-- before this revision): retention lists only tables holding rows of the month, so an empty partition would stay
-- after its month expired and block a later `eikis_new_period_tables` of that month. So when a month's
-- `household_members` partition (the mark that the month's tables exist) goes, its empty partitions go with it;
-- one holding rows (a court hold, or a table retention has not reached yet) is left to its own deletion.
CREATE OR REPLACE FUNCTION eikis_drop_period_table(tab text, p text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    part text := public.eikis_partition_name(tab, p);
    removed bigint;
    other text;
    other_part text;
    empty boolean;
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
    IF tab = 'household_members' THEN
        FOREACH other IN ARRAY public.eikis_period_tables() LOOP
            other_part := public.eikis_partition_name(other, p);
            CONTINUE WHEN to_regclass(format('public.%I', other_part)) IS NULL;
            EXECUTE format('SELECT NOT EXISTS (SELECT 1 FROM public.%I)', other_part) INTO empty;
            IF empty THEN
                EXECUTE format('ALTER TABLE public.%I DETACH PARTITION public.%I', other, other_part);
                EXECUTE format('DROP TABLE public.%I', other_part);
            END IF;
        END LOOP;
    END IF;
    RETURN removed;
END;
$$;
REVOKE ALL ON FUNCTION eikis_drop_period_table(text, text) FROM PUBLIC;
