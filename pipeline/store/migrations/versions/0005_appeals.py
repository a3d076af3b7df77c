"""Appeal decisions and court holds (CONTRACTS §16), both append-only.

Revision ID: 0005
Revises: 0004
"""

from pipeline.store.ddl import execute_sql_files

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_sql_files("009_appeals.sql")
