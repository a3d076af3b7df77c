"""The portal's server-side sessions (`portal_sessions`): signing out revokes the session, so a copied cookie
stops working (issue 20.9).

Revision ID: 0006
Revises: 0005
"""

from pipeline.store.ddl import execute_sql_files

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_sql_files("010_portal_sessions.sql")
