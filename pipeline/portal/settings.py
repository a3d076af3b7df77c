"""The portal's settings: where the store is, its keys, and the sign-in protection knobs.

The keys come from the environment (`EIKIS_PSEUDONYM_SECRET`, `EIKIS_PORTAL_DATA_KEY`,
`EIKIS_PORTAL_SESSION_KEY`). A built-in development key is refused outside `EIKIS_DEV_MODE=1`, on every
interface: the session key is in the source, so a cookie signed with it would open every page as any role, and
a reverse proxy in front of a loopback listener makes "loopback only" no protection at all (issue 20.1). The check
is the same one `eikis run` makes (`pipeline.config.secret_from_env`), done once when the settings are read.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from pipeline.config import Settings, secret_from_env

DEV_SESSION_KEY = "eikis-embedded-development-session-key-not-for-production"


@dataclass(frozen=True)
class PortalSettings:
    db_url: str
    pseudonym_secret: bytes = field(repr=False)
    data_key: bytes = field(repr=False)
    session_key: str = field(repr=False)
    secure_cookie: bool = False          # add `Secure` to the session cookie: set when served behind TLS
    session_hours: int = 8
    max_failures: int = 5                # failed sign-ins per user, or per client with unknown names ...
    client_max_failures: int = 20        # ... or per client with any names, within the window ...
    failure_window_minutes: int = 15     # ... before further attempts are refused until the window passes
    page_size: int = 50
    trusted_proxies: str = ""           # addresses whose X-Forwarded-For is believed (none by default)

    @property
    def sign_in_limits(self) -> tuple[int, int, int]:
        return self.max_failures, self.client_max_failures, self.failure_window_minutes

    @classmethod
    def from_env(cls, db_url: str, environ: dict[str, str] | None = None) -> PortalSettings:
        env = os.environ if environ is None else environ
        base = Settings.from_env(env, needs_secret=True)
        return cls(
            db_url=db_url,
            pseudonym_secret=base.pseudonym_secret,
            data_key=base.portal_data_key,
            session_key=secret_from_env(env, "EIKIS_PORTAL_SESSION_KEY", DEV_SESSION_KEY, needed=True),
            secure_cookie=env.get("EIKIS_PORTAL_SECURE_COOKIE", "0") in ("1", "true", "True"),
            session_hours=int(env.get("EIKIS_PORTAL_SESSION_HOURS", cls.session_hours)),
            max_failures=int(env.get("EIKIS_PORTAL_MAX_FAILURES", cls.max_failures)),
            client_max_failures=int(env.get("EIKIS_PORTAL_CLIENT_MAX_FAILURES", cls.client_max_failures)),
            failure_window_minutes=int(env.get("EIKIS_PORTAL_FAILURE_WINDOW_MINUTES", cls.failure_window_minutes)),
            trusted_proxies=env.get("EIKIS_PORTAL_TRUSTED_PROXIES", "").strip(),
        )
