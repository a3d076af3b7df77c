-- The national month's record (issue 23.1): two indexes that no query uses are built for every month no more.
--
-- `household_members_by_key` (person_key) served a search by person across months; on PostgreSQL the members'
-- primary key now leads with the person, as the portal's tables do since `015_search_keys.sql`, so the key itself
-- serves that search and the uniqueness (the month's members are copied in that order, so the key is built from
-- presorted rows). `household_decisions_by_status` (period, status): every reader of the decisions asks by address
-- (the portal), or for a whole month (the anomaly gate's history), which the primary key and the month's partition
-- serve. Each went with 1.85 M and 0.83 M entries a national month, built at every attach and kept for 24 months.

-- dialect: postgresql
DROP INDEX IF EXISTS household_members_by_key;
DROP INDEX IF EXISTS household_decisions_by_status;
ALTER TABLE household_members DROP CONSTRAINT household_members_pkey;
ALTER TABLE household_members ADD PRIMARY KEY (person_key, aris_code, period);

-- dialect: sqlite
DROP INDEX IF EXISTS household_members_by_key;
DROP INDEX IF EXISTS household_decisions_by_status;
