-- The portal's searches over 24 national months (issue 23.2).
--
-- 1. Keys led by what is searched. A month's partition holds one period, so a key led by `period` serves a search
--    by person, token or address only by reading the whole index; each such table had a second index for the
--    search. The primary keys now lead with the searched column and end with the period: one index per table
--    serves both the search and the uniqueness, read without the table (the month's record builds two fewer).
-- 2. Name search by pairs: besides a row per (name-token key, person), a month holds a row per pair of a person's
--    tokens, keyed by the two token keys joined, the lesser first (`pipeline.quality.pseudonym.pair_key`). A search
--    for a name and a surname then reads the few hundred bearers of both instead of the tens of thousands of bearers
--    of each. Months recorded before this revision get their pairs here, from their own token rows; a store that
--    has some already (brought back by hand) keeps them.

-- dialect: postgresql
ALTER TABLE portal_name_tokens DROP CONSTRAINT portal_name_tokens_pkey;
ALTER TABLE portal_name_tokens ADD PRIMARY KEY (token_key, person_key, period);
DROP INDEX IF EXISTS portal_name_tokens_by_token;
ALTER TABLE portal_persons DROP CONSTRAINT portal_persons_pkey;
ALTER TABLE portal_persons ADD PRIMARY KEY (person_key, period);
DROP INDEX IF EXISTS portal_persons_by_key;
ALTER TABLE portal_households DROP CONSTRAINT portal_households_pkey;
ALTER TABLE portal_households ADD PRIMARY KEY (aris_code, period);
DROP INDEX IF EXISTS portal_households_by_code;

INSERT INTO portal_name_tokens (period, token_key, person_key)
SELECT a.period, a.token_key || b.token_key, a.person_key
  FROM portal_name_tokens a
  JOIN portal_name_tokens b ON b.period = a.period AND b.person_key = a.person_key AND a.token_key < b.token_key
 WHERE length(a.token_key) = 16 AND length(b.token_key) = 16
ON CONFLICT DO NOTHING;

-- dialect: sqlite
-- (SQLite keeps its keys: changing one rebuilds the table, and an embedded store is not searched at scale.)
INSERT OR IGNORE INTO portal_name_tokens (period, token_key, person_key)
SELECT a.period, a.token_key || b.token_key, a.person_key
  FROM portal_name_tokens a
  JOIN portal_name_tokens b ON b.period = a.period AND b.person_key = a.person_key AND a.token_key < b.token_key
 WHERE length(a.token_key) = 16 AND length(b.token_key) = 16;
