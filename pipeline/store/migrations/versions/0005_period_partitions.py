"""PostgreSQL: the five tables of a month's personal rows partitioned by period, a month attached and dropped whole.

Revision ID: 0005
Revises: 0004
"""

from pipeline.store.ddl import execute_sql_files

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_sql_files("009_period_partitions.sql")
