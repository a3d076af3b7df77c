"""The store as it was before migrations: runs, decisions, ledger, portal, anomaly acceptances, ALDIS runs.

Its DDL is idempotent (IF NOT EXISTS, CREATE OR REPLACE), so a store created by the earlier apply-on-connect code
is adopted by `eikis db upgrade` as it is.

Revision ID: 0001
Revises:
"""

from pipeline.store.ddl import execute_sql_files

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_sql_files("001_schema.sql", "002_claims.sql", "003_portal.sql", "004_anomaly.sql", "005_aldis.sql")
