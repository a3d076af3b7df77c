"""The store's schema version: applied once, by `eikis db upgrade` as the owner role, never on connect.

Applying DDL on every connect made two processes starting together (the portal and a flow) fail with `tuple
concurrently updated`, and needed a role that owns the tables in every process. Now the schema is a chain of
Alembic revisions (`migrations/versions/`, each applying its `sql/` files); `upgrade` runs the missing ones in one
transaction under a lock (a PostgreSQL advisory lock; a lock file beside an SQLite store), so two upgrades at once
run one after the other. `connect` only checks that the store is at the head revision and otherwise stops with
one line telling to run `eikis db upgrade`.

The one exception is a new, empty embedded SQLite file (the default store in the workdir, one user): it is created
at head when first opened, under the same lock, so `eikis run` needs no step before it. An existing store of any
kind is never upgraded implicitly (a migration is a deliberate act, after a backup).
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import logging
from collections.abc import Iterator
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect, text

from pipeline.config import private_files
from pipeline.errors import StoreError
from pipeline.store.roles import grant_app_role
from pipeline.store.url import OWNER_PASSWORD_FILE, make_engine, safe_url

MIGRATIONS = Path(__file__).with_name("migrations")
ADVISORY_LOCK = 0x45494B4953  # "EIKIS": one migration at a time per PostgreSQL database


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@functools.cache
def head() -> str:
    """The newest revision this code expects."""
    revision = ScriptDirectory.from_config(_config()).get_current_head()
    assert revision is not None
    return revision


def current(conn: Connection) -> str | None:
    """The store's revision, None when it has never been migrated."""
    return MigrationContext.configure(conn).get_current_revision()


def upgrade(url: str, app_role: str | None = None) -> tuple[str | None, str]:
    """Bring the store at `url` (opened as the owner role) to head and, on PostgreSQL, give `app_role` the
    application's rights (`pipeline.store.roles`); returns (revision before, revision after)."""
    engine = make_engine(url, OWNER_PASSWORD_FILE)
    if app_role and engine.dialect.name != "postgresql":
        raise StoreError(f"an application role ({app_role!r}) needs a PostgreSQL store, not {engine.dialect.name}")
    try:
        with private_files():  # a new SQLite store (and its lock file) is owner-only
            return _migrate(engine, app_role=app_role)
    finally:
        engine.dispose()


def require_head(engine: Engine, url: str) -> None:
    """Return when the store is at head (creating a new empty SQLite file at head); else StoreError, one line."""
    with engine.connect() as conn:
        version = current(conn)
    if version == head():
        return
    if engine.dialect.name == "sqlite":
        with _exclusive(engine):
            with engine.connect() as conn:
                version = current(conn)
                empty = not inspect(conn).get_table_names()
            if version == head():
                return
            if empty:
                _migrate(engine, locked=True)
                return
    raise StoreError(f"the store {safe_url(url)} is at schema version {version or 'none'}, this EIKIS needs "
                     f"{head()}: run `eikis db upgrade` (as the store's owner role)")


def _migrate(engine: Engine, *, locked: bool = False, app_role: str | None = None) -> tuple[str | None, str]:
    logging.getLogger("alembic").setLevel(logging.WARNING)  # its per-step INFO lines are for the engineer (-v)
    lock = contextlib.nullcontext() if locked or engine.dialect.name != "sqlite" else _exclusive(engine)
    with lock, engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK})
        before = current(conn)
        command.upgrade(_config(conn), "head")
        if app_role:
            grant_app_role(conn, app_role)
    return before, head()


@contextlib.contextmanager
def _exclusive(engine: Engine) -> Iterator[None]:
    """An exclusive lock file beside an SQLite store (owner-only, like the store); nothing for `:memory:`."""
    database = engine.url.database
    if not database or database == ":memory:":
        yield
        return
    lock_path = Path(f"{database}.lock")
    with lock_path.open("a") as handle:
        lock_path.chmod(0o600)
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
