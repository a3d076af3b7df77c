"""A fresh database of the project's own on the local PostgreSQL, for tests that need the real server.

`EIKIS_TEST_DB_SUFFIX` (optional) is appended to every database name, so two checkouts can run their suites on
one server at the same time without dropping each other's databases.
"""

from __future__ import annotations

import os

import psycopg2
import pytest

PG_ADMIN = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "postgres"}


def fresh_postgres_database(name: str, *, migrated: bool = True) -> str:
    """Drop and create `name` (plus the suffix) and return its SQLAlchemy URL; `migrated`: brought to the current
    schema version by `eikis db upgrade`'s function, as a deployment does before any run."""
    name = f"{name}{os.environ.get('EIKIS_TEST_DB_SUFFIX', '')}"
    try:
        admin = psycopg2.connect(**PG_ADMIN, connect_timeout=5)
    except psycopg2.OperationalError as exc:  # pragma: no cover - CI starts PostgreSQL first
        pytest.fail(f"local PostgreSQL is not reachable on 127.0.0.1:5432: {exc}")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    url = f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}"
    if migrated:
        from pipeline.store.migrate import upgrade

        upgrade(url)
    return url
