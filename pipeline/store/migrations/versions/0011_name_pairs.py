"""Name search by pairs of a person's name tokens (`sql/015_name_pairs.sql`): the months already stored get their
pair rows, made in the store from their token rows. Reads each stored month's name tokens once.

Revision ID: 0011
Revises: 0010
"""

from pipeline.store.ddl import execute_sql_files

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_sql_files("015_name_pairs.sql")
