"""A month's personal rows as whole partitions on PostgreSQL (`sql/009_period_partitions.sql`, `sql/013`, `sql/014`).

A month is COPY'd into tables of its own, `<partition>_load` (created by the owner-rights function
`eikis_new_period_tables`: no index upkeep per row, no other month's pages touched), and swapped in whole at the
end of the recording transaction (`eikis_attach_period_tables`): a month recorded again has its attached partition
detached and dropped there, so a re-record costs what a new month costs and leaves no dead rows. Retention detaches
and drops a month's partition (`eikis_drop_period_table`), which refuses a month within the 24-month horizon.
SQLite has plain tables: a month's rows are deleted and inserted again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import Connection, text

PERSONAL_PERIOD_TABLES = ("household_decisions", "household_members", "portal_persons", "portal_name_tokens",
                          "portal_households", "portal_review_records")     # `eikis_period_tables()`, sql/013


_PARTITION_SUFFIX = re.compile(r"_p[0-9]{4}_[0-9]{2}(?:_load)?$")
LOADING = "_load"   # the suffix of a month's tables while they are loaded, before `eikis_attach_period_tables`


def partition_name(table: str, period: str) -> str:
    return f"{table}_p{period.replace('-', '_')}"


def table_of(name: str) -> str:
    """The table a month's partition (loaded or attached) belongs to: what a person reading an error knows."""
    return _PARTITION_SUFFIX.sub("", name)


@dataclass(frozen=True)
class MonthTables:
    """Where P's rows go while it is recorded."""

    period: str
    partitioned: bool  # PostgreSQL: loaded into the month's own tables, swapped in by `attach`

    def target(self, table: str) -> str:
        if self.partitioned and table in PERSONAL_PERIOD_TABLES:
            return partition_name(table, self.period) + LOADING
        return table

    def attach(self, conn: Connection) -> None:
        if self.partitioned:
            conn.execute(text("SELECT eikis_attach_period_tables(:p)"), {"p": self.period})


def open_month(conn: Connection, period: str) -> MonthTables:
    """Inside the recording transaction: on PostgreSQL, the month's own tables to load (new month or not)."""
    if conn.dialect.name != "postgresql":
        return MonthTables(period, partitioned=False)
    conn.execute(text("SELECT eikis_new_period_tables(:p)"), {"p": period})
    return MonthTables(period, partitioned=True)


def drop_month(conn: Connection, table: str, period: str) -> int | None:
    """Retention on PostgreSQL: detach and drop `table`'s partition of an expired month, returning its row count;
    None where the month is not a partition (SQLite, or a table not partitioned): delete its rows instead."""
    if conn.dialect.name != "postgresql" or table not in PERSONAL_PERIOD_TABLES:
        return None
    return int(conn.execute(text("SELECT eikis_drop_period_table(:t, :p)"), {"t": table, "p": period}).scalar_one())
