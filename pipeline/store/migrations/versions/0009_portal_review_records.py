"""The quarantined records behind each REVIEW household (`portal_review_records`), a month's personal rows like
the household's own: partitioned by period on PostgreSQL, deleted by retention.

A store that already has the table (brought back to an older revision by hand) is left as it is: the revision's
partitions and functions came with it.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

from pipeline.store.ddl import execute_sql_files

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if not sa.inspect(op.get_bind()).has_table("portal_review_records"):
        execute_sql_files("013_portal_review_records.sql")
