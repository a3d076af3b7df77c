"""`eikis portal` and `eikis portal-user`: serve the app with uvicorn, manage users from the shell."""

from __future__ import annotations

from typing import TextIO

from pipeline.errors import EikisError
from pipeline.portal.settings import PortalSettings
from pipeline.portal.users import add_user, disable_user, list_users
from pipeline.store.db import connect


def serve(db_url: str, host: str, port: int) -> None:
    """Serve on host:port. uvicorn's access log is kept: it shows paths only, and no path carries a personal code
    (searches are POSTed, household pages use opaque ids)."""
    import uvicorn

    from pipeline.portal.app import create_app

    settings = PortalSettings.from_env(db_url)
    uvicorn.run(create_app(settings), host=host, port=port, access_log=True, server_header=False)


def user_command(command: str, db_url: str, username: str | None, role: str | None, stdin: TextIO) -> None:
    engine = connect(db_url)
    if command == "add":
        password = stdin.readline().rstrip("\r\n")
        if not password:
            raise EikisError("no password on standard input")
        add_user(engine, str(username), str(role), password)
        print(f"user {username} added ({role})")
    elif command == "disable":
        disable_user(engine, str(username))
        print(f"user {username} disabled")
    else:
        for name, user_role, disabled in list_users(engine):
            print(f"{name}\t{user_role}\t{'disabled' if disabled else 'active'}")
