"""Retention's proof written ahead (STARTED, then COMPLETED) and the deletion log append-only.

Revision ID: 0003
Revises: 0002
"""

from pipeline.store.ddl import execute_sql_files

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_sql_files("007_deletion_proof.sql")
