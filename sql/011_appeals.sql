-- EIKIS store: appeal decisions and court holds (CONTRACTS §16, issue 25). Every step of an appeal decision is a
-- new row, never an edit: the registration (staff), its confirmation or sending back (a second user, a decider),
-- its withdrawal. One review and one withdrawal per decision at most (the unique index on (decision_id, stage)),
-- so two deciders confirming at once cannot both succeed. Court holds are HOLD / RELEASE rows per case reference.
-- Both tables are append-only like the access log: triggers on both dialects, and on PostgreSQL the application
-- role has SELECT and INSERT only (pipeline/store/roles.py). Personal data: the ARIS code of the household and the
-- months it covers; no personal code, name or income. The case reference is the bureau's, `[A-Za-z0-9./-]{1,40}`.

-- dialect: all
CREATE TABLE IF NOT EXISTS appeal_decisions (
    event_id      TEXT PRIMARY KEY,
    decision_id   TEXT NOT NULL,
    stage         INTEGER NOT NULL,      -- 0 registered, 1 reviewed (CONFIRMED / SENT_BACK), 2 withdrawn
    action        TEXT NOT NULL,         -- REGISTERED | CONFIRMED | SENT_BACK | WITHDRAWN
    at            TIMESTAMP NOT NULL,
    username      TEXT NOT NULL,
    period        TEXT NOT NULL,         -- the decided month the decision was registered on
    aris_code     TEXT NOT NULL,
    household_id  TEXT NOT NULL,
    case_ref      TEXT NOT NULL,
    outcome       TEXT NOT NULL,         -- UPHELD | REJECTED
    months        TEXT NOT NULL,         -- the covered months, '|'-joined, ascending
    reason_code   TEXT NOT NULL          -- INCOME_EVIDENCE | HOUSEHOLD_COMPOSITION | ADDRESS | OTHER
);
CREATE UNIQUE INDEX IF NOT EXISTS appeal_decisions_one_per_stage ON appeal_decisions (decision_id, stage);
CREATE INDEX IF NOT EXISTS appeal_decisions_by_household ON appeal_decisions (aris_code);
CREATE INDEX IF NOT EXISTS appeal_decisions_by_case ON appeal_decisions (case_ref);

CREATE TABLE IF NOT EXISTS appeal_holds (
    at        TIMESTAMP NOT NULL,
    username  TEXT NOT NULL,
    case_ref  TEXT NOT NULL,
    action    TEXT NOT NULL              -- HOLD | RELEASE
);
CREATE INDEX IF NOT EXISTS appeal_holds_by_case ON appeal_holds (case_ref, at);

-- dialect: postgresql
CREATE OR REPLACE FUNCTION appeals_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP;
END;
$$;

-- Appeal rows are personal data of the months they cover (§16): a decision's rows may be deleted once its last
-- covered month is past the 24-month horizon, through the owner-rights `appeal_decisions_purge` only (the
-- application role has no DELETE), which spares every case on court hold.
CREATE OR REPLACE FUNCTION appeal_decisions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND right(OLD.months, 7) <
            to_char(date_trunc('month', now() AT TIME ZONE 'UTC') - interval '24 months', 'YYYY-MM') THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'appeal_decisions is append-only: % refused', TG_OP;
END;
$$;

CREATE OR REPLACE TRIGGER appeal_decisions_append_only
    BEFORE UPDATE OR DELETE ON appeal_decisions
    FOR EACH ROW EXECUTE FUNCTION appeal_decisions_append_only();

CREATE OR REPLACE FUNCTION appeal_decisions_purge(last_month text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    removed bigint;
BEGIN
    DELETE FROM public.appeal_decisions d
     WHERE right(d.months, 7) = last_month
       AND d.case_ref NOT IN (SELECT h.case_ref FROM public.appeal_holds h WHERE h.action = 'HOLD'
                                 AND NOT EXISTS (SELECT 1 FROM public.appeal_holds r WHERE r.case_ref = h.case_ref
                                                 AND r.action = 'RELEASE' AND r.at >= h.at));
    GET DIAGNOSTICS removed = ROW_COUNT;
    RETURN removed;
END;
$$;
REVOKE ALL ON FUNCTION appeal_decisions_purge(text) FROM PUBLIC;

CREATE OR REPLACE TRIGGER appeal_decisions_no_truncate
    BEFORE TRUNCATE ON appeal_decisions
    FOR EACH STATEMENT EXECUTE FUNCTION appeals_refuse_change();

CREATE OR REPLACE TRIGGER appeal_holds_append_only
    BEFORE UPDATE OR DELETE ON appeal_holds
    FOR EACH ROW EXECUTE FUNCTION appeals_refuse_change();

CREATE OR REPLACE TRIGGER appeal_holds_no_truncate
    BEFORE TRUNCATE ON appeal_holds
    FOR EACH STATEMENT EXECUTE FUNCTION appeals_refuse_change();

-- dialect: sqlite
CREATE TRIGGER IF NOT EXISTS appeal_decisions_no_update BEFORE UPDATE ON appeal_decisions
BEGIN
    SELECT RAISE(ABORT, 'appeal_decisions is append-only: UPDATE refused');
END;

CREATE TRIGGER IF NOT EXISTS appeal_decisions_no_delete BEFORE DELETE ON appeal_decisions
WHEN substr(OLD.months, -7) >= strftime('%Y-%m', 'now', 'start of month', '-24 months')
BEGIN
    SELECT RAISE(ABORT, 'appeal_decisions is append-only: DELETE refused');
END;

CREATE TRIGGER IF NOT EXISTS appeal_holds_no_update BEFORE UPDATE ON appeal_holds
BEGIN
    SELECT RAISE(ABORT, 'appeal_holds is append-only: UPDATE refused');
END;

CREATE TRIGGER IF NOT EXISTS appeal_holds_no_delete BEFORE DELETE ON appeal_holds
BEGIN
    SELECT RAISE(ABORT, 'appeal_holds is append-only: DELETE refused');
END;
