"""The record's keys (`sql/016_record_keys.sql`): the members' primary key leads with the person on PostgreSQL, and
the two indexes no query uses (members by person, decisions by status) go. Rebuilds the members' key over every
stored month.

Revision ID: 0012
Revises: 0011
"""

from pipeline.store.ddl import execute_sql_files

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_sql_files("016_record_keys.sql")
