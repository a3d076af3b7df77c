"""Two database roles on PostgreSQL: the owner runs migrations, the application role runs everything else.

When the role that runs the application owns the tables, nothing holds against it: `ALTER TABLE access_log
DISABLE TRIGGER …; DELETE …` rewrites the audit log without a trace. So the tables belong to the owner role
(`eikis db upgrade`, `EIKIS_DB_OWNER_URL`), and the application role (`EIKIS_DB_URL`, named to the upgrade by
`EIKIS_DB_APP_ROLE`) gets, at every upgrade:
- SELECT and INSERT only on the append-only records (`APPEND_ONLY`): the audit and access logs, the deletion proofs
  and the payout ledger — no UPDATE, DELETE or TRUNCATE, and, not owning them, no ALTER (so no DISABLE TRIGGER);
- SELECT, INSERT, UPDATE, DELETE on the other tables (a month's rows are replaced when it is re-recorded);
- SELECT on the schema version; EXECUTE on `access_log_purge`, the only way to remove access-log rows, and only
  those past the 24-month horizon, and on the month-partition functions (`pipeline.store.partitions`);
- no CREATE in the schema (no table or function of its own beside the store's).
"""

from __future__ import annotations

from sqlalchemy import Connection, text
from sqlalchemy.exc import ProgrammingError

from pipeline.errors import StoreError

APPEND_ONLY = ("access_log", "appeal_decisions", "appeal_holds", "audit_events", "claims_checks", "deletion_log",
               "payout_ledger")
READ_ONLY = ("alembic_version",)
# What the application may ask the owner to do, each checked inside the function (`sql/006`, `sql/009`,
# `sql/011`).
OWNER_FUNCTIONS = ("access_log_purge(timestamp, timestamp)", "eikis_new_period_tables(text)",
                   "eikis_attach_period_tables(text)", "eikis_drop_period_table(text, text)",
                   "appeal_decisions_purge(text)")


def grant_app_role(conn: Connection, role: str) -> None:
    """Give `role` exactly the application's rights on every table of the store's schema (idempotent)."""
    if not conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first():
        raise StoreError(f"the application role {role!r} does not exist: create it (LOGIN, no other rights) first")
    if conn.execute(text("SELECT current_user")).scalar_one() == role:
        raise StoreError(f"the application role {role!r} is the owner role: migrations need a role of their own")
    quote = conn.dialect.identifier_preparer.quote
    app, schema = quote(role), quote(conn.execute(text("SELECT current_schema()")).scalar_one())
    tables = [row[0] for row in conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = "
                                                  "current_schema() ORDER BY tablename"))]
    conn.execute(text(f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM PUBLIC, {app}"))
    conn.execute(text(f"GRANT USAGE ON SCHEMA {schema} TO {app}"))
    for table in tables:
        rights = ("SELECT, INSERT" if table in APPEND_ONLY else "SELECT" if table in READ_ONLY
                  else "SELECT, INSERT, UPDATE, DELETE")
        conn.execute(text(f"GRANT {rights} ON {schema}.{quote(table)} TO {app}"))
    for function in OWNER_FUNCTIONS:
        conn.execute(text(f"GRANT EXECUTE ON FUNCTION {function} TO {app}"))
    try:
        with conn.begin_nested():
            conn.execute(text(f"REVOKE CREATE ON SCHEMA {schema} FROM PUBLIC, {app}"))
    except ProgrammingError:  # pragma: no cover - the owner role does not own the schema: the DBA's setting holds
        pass
