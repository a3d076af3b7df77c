"""A store of 24 national months: the address index usable for a prefix under any collation, and a month's tables
swapped in whole (a re-record included) and analysed as they are attached (`sql/014_months_at_scale.sql`).

PostgreSQL only; on SQLite the revision has nothing to do. Rebuilding the address index reads every stored month's
households once.

Revision ID: 0010
Revises: 0009
"""

from pipeline.store.ddl import execute_sql_files

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_sql_files("014_months_at_scale.sql")
