"""What each claims check showed (`claims_checks`, append-only) and the approver on every ledger row.

A store created before approvals named their approver lacks `payout_ledger.approved_by`: PostgreSQL adds it inside
`008_claims_checks.sql`; SQLite has no conditional DDL, so the column is looked up here first.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

from pipeline.store.ddl import execute_sql_files

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        columns = {column["name"] for column in sa.inspect(bind).get_columns("payout_ledger")}
        if "approved_by" not in columns:
            op.execute("ALTER TABLE payout_ledger ADD COLUMN approved_by TEXT NOT NULL DEFAULT ''")
    execute_sql_files("008_claims_checks.sql")
