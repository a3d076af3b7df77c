"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
"""

from pipeline.store.ddl import execute_sql_files

revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_sql_files()
