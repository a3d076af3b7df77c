"""Opening the store: an engine for a URL that carries no password, the password read from a secret file.

Deployment settings name the store by `EIKIS_DB_URL` (the application role, never with a password) and
`EIKIS_DB_PASSWORD_FILE`; migrations run as the owner role, `EIKIS_DB_OWNER_URL` and
`EIKIS_DB_OWNER_PASSWORD_FILE`. Keeping the password out of the URL keeps it out of config objects, XComs,
rendered templates, logs and argv; it is joined to the URL only inside the engine.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.exc import ArgumentError

from pipeline.errors import StoreError

APP_PASSWORD_FILE = "EIKIS_DB_PASSWORD_FILE"
OWNER_PASSWORD_FILE = "EIKIS_DB_OWNER_PASSWORD_FILE"
SQLITE_CACHE_KIB = 1024 * 1024
CONNECT_TIMEOUT_S = 10  # a store that does not answer fails the run in seconds instead of hanging it


def safe_url(url: str) -> str:
    """The URL with its password hidden (or only what follows `@`, when it does not even parse)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url.rsplit("@", 1)[-1]


def make_engine(url: str, password_file_env: str = APP_PASSWORD_FILE) -> Engine:
    """An engine for `url`; a server URL without a password takes it from the file named by `password_file_env`."""
    parsed = make_url(url)
    server = parsed.get_backend_name() == "postgresql"
    secret_file = os.environ.get(password_file_env)
    if server and parsed.password is None and secret_file:
        try:
            password = Path(secret_file).read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as exc:
            raise StoreError(f"the store's password file ({password_file_env}) cannot be read: "
                             f"{exc.strerror or type(exc).__name__}", file=secret_file) from None
        parsed = parsed.set(password=password)
    timeout = {"connect_timeout": CONNECT_TIMEOUT_S} if server else {}
    engine = create_engine(parsed, future=True, connect_args=timeout)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_page_cache)
    return engine


def _sqlite_page_cache(dbapi_connection: Any, _record: Any) -> None:
    """A month's record inserts ≈ 10 M rows whose keys are HMACs, so every index takes them in random order: with
    SQLite's 2 MB default page cache nearly each insert reads and writes index pages from the file. Up to 1 GiB
    (allocated only as pages are used) keeps the indexes a month touches in memory."""
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
    cursor.close()
