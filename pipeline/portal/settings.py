"""The portal's settings: where the store is, its keys, and the sign-in protection knobs.

The keys come from the environment (`EIKIS_PSEUDONYM_SECRET`, `EIKIS_PORTAL_DATA_KEY`,
`EIKIS_PORTAL_SESSION_KEY`). The embedded development keys are accepted only when the portal listens on the
loopback interface (a demo on one's own machine); anywhere else a missing key stops the start.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from pipeline.config import Settings
from pipeline.errors import EikisError
from pipeline.logs import get_logger

log = get_logger("portal")

_DEV_SESSION_KEY = "eikis-embedded-development-session-key-not-for-production"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
REQUIRED_KEYS = ("EIKIS_PSEUDONYM_SECRET", "EIKIS_PORTAL_DATA_KEY", "EIKIS_PORTAL_SESSION_KEY")


@dataclass(frozen=True)
class PortalSettings:
    db_url: str
    pseudonym_secret: bytes = field(repr=False)
    data_key: bytes = field(repr=False)
    session_key: str = field(repr=False)
    secure_cookie: bool = False          # add `Secure` to the session cookie: set when served behind TLS
    session_hours: int = 8
    max_failures: int = 5                # failed sign-ins per user or per client within the window ...
    failure_window_minutes: int = 15     # ... before further attempts are refused until the window passes
    page_size: int = 50

    @classmethod
    def from_env(cls, db_url: str, host: str = "127.0.0.1", environ: dict[str, str] | None = None) -> PortalSettings:
        env = os.environ if environ is None else environ
        missing = [name for name in REQUIRED_KEYS if not env.get(name)]
        if missing and host not in LOOPBACK:
            raise EikisError(f"the portal listens on {host} but {', '.join(missing)} is not set")
        if missing:
            log.warning("%s not set: using embedded development keys (loopback only)", ", ".join(missing))
        base = Settings.from_env(env, needs_secret=False)
        return cls(
            db_url=db_url,
            pseudonym_secret=base.pseudonym_secret,
            data_key=base.portal_data_key,
            session_key=env.get("EIKIS_PORTAL_SESSION_KEY") or _DEV_SESSION_KEY,
            secure_cookie=env.get("EIKIS_PORTAL_SECURE_COOKIE", "0") in ("1", "true", "True"),
            session_hours=int(env.get("EIKIS_PORTAL_SESSION_HOURS", cls.session_hours)),
            max_failures=int(env.get("EIKIS_PORTAL_MAX_FAILURES", cls.max_failures)),
            failure_window_minutes=int(env.get("EIKIS_PORTAL_FAILURE_WINDOW_MINUTES", cls.failure_window_minutes)),
        )
