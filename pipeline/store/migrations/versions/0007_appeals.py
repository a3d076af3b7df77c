"""Appeal decisions and court holds (CONTRACTS §16), both append-only.

Revision ID: 0007
Revises: 0006
"""

from pipeline.store.ddl import execute_sql_files

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_sql_files("011_appeals.sql")
