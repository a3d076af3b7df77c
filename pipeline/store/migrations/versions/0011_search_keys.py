"""The portal's searches over 24 months (`sql/015_search_keys.sql`): on PostgreSQL the primary keys of the portal's
person, name and household tables lead with the searched column (their second indexes go), and every stored month
gets the pair rows of name search, made in the store from its token rows. Rebuilds those keys over every stored month.

Revision ID: 0011
Revises: 0010
"""

from pipeline.store.ddl import execute_sql_files

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_sql_files("015_search_keys.sql")
