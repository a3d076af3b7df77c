"""`eikis portal` and `eikis portal-user`: serve the app with uvicorn, manage users from the shell."""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

from pipeline.errors import EikisError
from pipeline.portal.settings import PortalSettings
from pipeline.portal.users import add_user, disable_user, list_users
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
    uvicorn.Server(uvicorn_config(create_app(settings), settings, host, port)).run()


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
