"""The portal language each user chose, remembered across sign-ins and browsers (`portal_users.language`).

Revision ID: 0008
Revises: 0007
"""

from pipeline.store.ddl import execute_sql_files

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_sql_files("012_portal_user_language.sql")
