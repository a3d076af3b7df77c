-- Name search by pairs (issue 23.2): besides a row per (name-token key, person), a month holds a row per pair of a
-- person's tokens, keyed by the two token keys joined, the lesser first (`pipeline.quality.pseudonym.pair_key`). A
-- search for a name and a surname then reads the few hundred bearers of both instead of the tens of thousands of
-- bearers of each. Months recorded before this revision get their pairs here, from their own token rows; a store
-- that has some already (brought back by hand) keeps them.

-- dialect: postgresql
INSERT INTO portal_name_tokens (period, token_key, person_key)
SELECT a.period, a.token_key || b.token_key, a.person_key
  FROM portal_name_tokens a
  JOIN portal_name_tokens b ON b.period = a.period AND b.person_key = a.person_key AND a.token_key < b.token_key
 WHERE length(a.token_key) = 16 AND length(b.token_key) = 16
ON CONFLICT DO NOTHING;

-- dialect: sqlite
INSERT OR IGNORE INTO portal_name_tokens (period, token_key, person_key)
SELECT a.period, a.token_key || b.token_key, a.person_key
  FROM portal_name_tokens a
  JOIN portal_name_tokens b ON b.period = a.period AND b.person_key = a.person_key AND a.token_key < b.token_key
 WHERE length(a.token_key) = 16 AND length(b.token_key) = 16;
