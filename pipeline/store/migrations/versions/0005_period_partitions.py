"""PostgreSQL: the five tables of a month's personal rows partitioned by period, a month attached and dropped whole.

Revision ID: 0004
Revises: 0003
"""

from pipeline.store.ddl import execute_sql_files

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_sql_files("008_period_partitions.sql")
