"""Opening the store: the password comes from a secret file, never from the URL (issues 20.6, 27.2); every `sql/`
file belongs to a migration revision, so no DDL is left to an apply-on-connect that no longer exists (20.7)."""

from __future__ import annotations

import re

import pytest

from pipeline.errors import StoreError
from pipeline.store.ddl import sql_dir
from pipeline.store.migrate import MIGRATIONS
from pipeline.store.url import OWNER_PASSWORD_FILE, make_engine

URL = "postgresql+psycopg2://eikis_app@db.example/eikis"


def test_the_password_is_read_from_the_file_named_by_the_environment(tmp_path, monkeypatch):
    secret = tmp_path / "password"
    secret.write_text("s3cret-from-file\n")
    monkeypatch.setenv("EIKIS_DB_PASSWORD_FILE", str(secret))
    assert make_engine(URL).url.password == "s3cret-from-file"
    monkeypatch.setenv(OWNER_PASSWORD_FILE, str(tmp_path / "missing"))
    with pytest.raises(StoreError, match=r"EIKIS_DB_OWNER_PASSWORD_FILE\) cannot be read") as raised:
        make_engine(URL.replace("eikis_app", "eikis_owner"), OWNER_PASSWORD_FILE)
    assert "\n" not in str(raised.value)


def test_every_sql_file_is_applied_by_exactly_one_revision():
    revisions = "\n".join(path.read_text() for path in (MIGRATIONS / "versions").glob("0*.py"))
    named = re.findall(r'"(\d{3}_[a-z_]+\.sql)"', revisions)
    assert sorted(named) == sorted(path.name for path in sql_dir().glob("*.sql"))
