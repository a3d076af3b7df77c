"""The access log's expired rows are removed through an owner-rights function (the application role cannot DELETE).

Revision ID: 0002
Revises: 0001
"""

from pipeline.store.ddl import execute_sql_files

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_sql_files("006_access_log_purge.sql")
