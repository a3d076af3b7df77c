"""The quarantined records behind each REVIEW household (`portal_review_records`), a month's personal rows like
the household's own: partitioned by period on PostgreSQL, deleted by retention.

Revision ID: 0009
Revises: 0008
"""

from pipeline.store.ddl import execute_sql_files

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_sql_files("013_portal_review_records.sql")
