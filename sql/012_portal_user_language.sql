-- The portal language a user chose (issue 24.3: "English as the second language, chosen per user or by the
-- browser"): NULL until the user picks one on a page while signed in, then applied at every sign-in, on any browser.
-- Only `lv` or `en` (pipeline.portal.i18n.LANGUAGES) is ever written. Portable SQL (PostgreSQL and SQLite).

ALTER TABLE portal_users ADD COLUMN language TEXT;
