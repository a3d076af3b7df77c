"""`eikis portal` and `eikis portal-user`: serve the app with uvicorn, manage users from the shell."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from sqlalchemy import Engine, make_url

from pipeline.errors import EikisError
from pipeline.portal.settings import PortalSettings
from pipeline.portal.users import add_user, disable_user, list_users, unlock_user
from pipeline.store.db import connect

if TYPE_CHECKING:
    import uvicorn


def uvicorn_config(app: object, settings: PortalSettings, host: str, port: int, **extra: object) -> uvicorn.Config:
    """uvicorn as `eikis portal` runs it (tests start the same configuration).

    `X-Forwarded-For` is believed only from the configured proxies (`EIKIS_PORTAL_TRUSTED_PROXIES`, none by
    default): uvicorn's own default trusts loopback, so any client of a loopback listener could name its own
    address and escape the per-client sign-in limit (issue 20.9).
    """
    import uvicorn  # lazy: only serving needs the web server

    trusted = settings.trusted_proxies
    return uvicorn.Config(app, host=host, port=port, access_log=True, server_header=False,
                          proxy_headers=bool(trusted), forwarded_allow_ips=trusted or "", **extra)


def serve(db_url: str, host: str, port: int) -> None:
    """Serve on host:port. uvicorn's access log is kept: it shows paths only, and no path carries a personal code
    (searches are POSTed, household pages use opaque ids)."""
    import uvicorn  # lazy: only serving needs the web server

    from pipeline.portal.app import create_app

    settings = PortalSettings.from_env(db_url)
    engine = existing_store(db_url)
    uvicorn.Server(uvicorn_config(create_app(settings, engine), settings, host, port)).run()


def existing_store(db_url: str) -> Engine:
    """The store at `db_url`, refusing one that does not exist: a typo in `--db` must not start the portal (or add
    a user) on a new, empty store. Stores are created by `eikis db upgrade`."""
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        if database in ("", ":memory:") or not Path(database).is_file():
            raise EikisError(f"no store at {database or db_url}: check --db, or create the store with "
                             "`eikis db upgrade`")
    return connect(db_url)


def user_command(command: str, db_url: str, username: str | None, role: str | None, stdin: TextIO) -> None:
    engine = existing_store(db_url)
    if command == "add":
        add_user(engine, str(username), str(role), read_password(stdin))
        print(f"user {username} added ({role})")
    elif command == "disable":
        disable_user(engine, str(username))
        print(f"user {username} disabled")
    elif command == "unlock":
        unlock_user(engine, str(username))
        print(f"user {username} unlocked")
    else:
        for name, user_role, disabled in list_users(engine):
            print(f"{name}\t{user_role}\t{'disabled' if disabled else 'active'}")


def read_password(stdin: TextIO) -> str:
    """The new user's password: typed twice without echo on a terminal, else the first line of standard input
    (a script or a secret manager piping it in)."""
    if stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Repeat the password: ") != password:
            raise EikisError("the two passwords do not match")
    else:
        password = stdin.readline().rstrip("\r\n")
    if not password:
        raise EikisError("no password given")
    return password
