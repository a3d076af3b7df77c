"""The portal language each user chose, remembered across sign-ins and browsers (`portal_users.language`).

Like every revision, it may meet a store that already has what it adds (a store brought back to an older revision
by hand): the column is looked up first, since SQLite has no `ADD COLUMN IF NOT EXISTS`.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

from pipeline.store.ddl import execute_sql_files

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    columns = {column["name"] for column in sa.inspect(op.get_bind()).get_columns("portal_users")}
    if "language" not in columns:
        execute_sql_files("012_portal_user_language.sql")
