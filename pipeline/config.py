"""Run settings: embedded defaults that work on a fresh machine, overridable by environment variables.

Numbers the law may change live in the policy file (`pipeline.policy`), not here; these are operational knobs.

Where a flow reads and writes (paths, the store, the recipients files, the trader register, the policy) is the
deployment's business, set by whoever runs the machine (`Deployment`, from `EIKIS_*` variables), never by whoever
can trigger a run: a trigger's config may carry the period and a flow's declared switches only (`FlowConfig`),
so nobody who can press "Trigger" can send a month's decisions to their own database or server. The store's
password never sits in a URL that travels (XCom, a template, a log line): `store_url` refuses one, and
`pipeline.store.url.make_engine` joins it from `EIKIS_DB_PASSWORD_FILE` only when the engine is made.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar, Self

from pipeline.errors import ConfigError
from pipeline.logs import get_logger
from pipeline.period import try_parse_month

log = get_logger("config")

# Only for the embedded demo and tests (`EIKIS_DEV_MODE=1`, which `make run` and the tests set): anyone who knows
# them can recompute every pseudonymous key from candidate personal codes (or unseal the portal's display names),
# so outside that mode they are refused.
DEV_SECRET = "eikis-embedded-development-secret-not-for-production"
DEV_DATA_KEY = "eikis-embedded-development-data-key-not-for-production"  # seals display names for the staff portal


@dataclass(frozen=True)
class Settings:
    """Operational settings of one run."""

    pseudonym_secret: bytes = field(repr=False, default=DEV_SECRET.encode())
    portal_data_key: bytes = field(repr=False, default=DEV_DATA_KEY.encode())
    quarantine_tolerance: float | None = None  # overrides the policy's share for every source when set
    workers: int = 2
    batch_rows: int = 200_000
    data_docs: bool = True

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, *, needs_secret: bool = True) -> Settings:
        """Read `EIKIS_*` variables; anything unset keeps its embedded default."""
        env = os.environ if environ is None else environ
        secret = secret_from_env(env, "EIKIS_PSEUDONYM_SECRET", DEV_SECRET, needs_secret)
        data_key = secret_from_env(env, "EIKIS_PORTAL_DATA_KEY", DEV_DATA_KEY, needs_secret)
        return cls(
            pseudonym_secret=secret.encode(),
            portal_data_key=data_key.encode(),
            quarantine_tolerance=_share(env.get("EIKIS_QUARANTINE_TOLERANCE")),
            workers=_whole(env, "EIKIS_WORKERS", min(2, os.cpu_count() or 1)),
            batch_rows=_whole(env, "EIKIS_BATCH_ROWS", cls.batch_rows),
            data_docs=env.get("EIKIS_DATA_DOCS", "1") not in ("0", "false", "False"),
        )


DEPLOYMENT_ROOT = "/opt/eikis"  # the image's layout (Dockerfile); `make airflow` sets every path under OUT instead
# A recipients file may name only these variables as an SFTP password (`password_env`): otherwise a file could have
# any secret of the process (the pseudonym key, the store password) sent to a server as a password.
SFTP_PASSWORD_ENV = re.compile(r"EIKIS_SFTP_PASSWORD(_[A-Z0-9_]{1,60})?")


@dataclass(frozen=True)
class Deployment:
    """Where this deployment's flows read and write, from its `EIKIS_*` variables (defaults: the image's layout).

    Built once per task by `from_env`; nothing here comes from a DAG run's config. `db_url` never holds a
    password (`store_url`)."""

    inbox: str
    outbox: str
    workdir: str
    policy: str
    traders: str
    aldis_outbox: str
    claims: str
    claims_outbox: str
    simulation_out: str
    simulation_policies: str
    db_url: str
    recipients: str | None = None
    aldis_recipients: str | None = None
    claims_recipients: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Deployment:
        env = os.environ if environ is None else environ

        def path(variable: str, default: str) -> str:
            return env.get(variable) or f"{DEPLOYMENT_ROOT}/{default}"

        workdir, policy = path("EIKIS_WORKDIR", "work"), path("EIKIS_POLICY", "policy/eikis_policy.yaml")
        return cls(
            inbox=path("EIKIS_INBOX", "inbox"), outbox=path("EIKIS_OUTBOX", "outbox"), workdir=workdir, policy=policy,
            traders=path("EIKIS_TRADERS", "policy/traders.yaml"),
            aldis_outbox=path("EIKIS_ALDIS_OUTBOX", "aldis_outbox"), claims=path("EIKIS_CLAIMS", "claims"),
            claims_outbox=path("EIKIS_CLAIMS_OUTBOX", "claims_outbox"),
            simulation_out=path("EIKIS_SIMULATION_OUT", "simulations"),
            simulation_policies=env.get("EIKIS_SIMULATION_POLICIES") or str(Path(policy).parent / "variants"),
            db_url=store_url(env.get("EIKIS_DB_URL") or f"sqlite:///{(Path(workdir) / 'eikis.sqlite').resolve()}"),
            recipients=env.get("EIKIS_RECIPIENTS") or None,
            aldis_recipients=env.get("EIKIS_ALDIS_RECIPIENTS") or None,
            claims_recipients=env.get("EIKIS_CLAIMS_RECIPIENTS") or None,
        )


@dataclass(frozen=True)
class RunRequest:
    """One DAG run as the resolver reads it: its month, its declared switches and the deployment it runs in."""

    period: str
    switches: Mapping[str, Any]
    deployment: Deployment
    environ: Mapping[str, str]


Source = Callable[[RunRequest, dict[str, Any], str], Any]  # (the run, the fields resolved so far, the field's name)


def _declared(source: Source, default: Any, **flags: bool) -> Any:
    return field(default=default, metadata={"source": source, **flags})


def deployed(setting: str | None = None, default: Any = MISSING) -> Any:
    """A config field the deployment sets: `Deployment.<setting>` (by default the field's own name)."""
    return _declared(lambda run, _, name: getattr(run.deployment, setting or name), default)


def switch(parse: Callable[[Any], Any] = lambda value: value, default: Any = MISSING) -> Any:
    """A config field a trigger may set (a declared DAG param), checked and normalised by `parse`."""
    return _declared(lambda run, _, name: parse(run.switches.get(name)), default, switch=True)


def setting(variable: str, parse: Callable[[str | None], Any], default: Any = MISSING) -> Any:
    """A config field from one more `EIKIS_*` variable, checked by `parse` (its error names the variable)."""
    return _declared(lambda run, _, name: parse(run.environ.get(variable)), default)


def derived(value: Callable[[dict[str, Any]], Any], default: Any = MISSING) -> Any:
    """A config field worked out from the fields declared before it."""
    return _declared(lambda run, resolved, name: value(resolved), default)


@dataclass(frozen=True)
class FlowConfig:
    """Base of every flow's frozen config. A flow declares its fields only: the month (named `PERIOD_KEY`), then
    `deployed`, `switch`, `setting` and `derived` fields; `resolve` builds it the same way for every flow. It
    travels between Airflow tasks as plain JSON: `to_params` in the task that resolves it, `from_params` after."""

    PERIOD_KEY: ClassVar[str] = "period"

    @staticmethod
    def period_of(logical_date: dt.datetime | None) -> str | None:
        """The month a run is for when its params name none; None: the month param is required."""
        return None

    @classmethod
    def trigger_params(cls) -> tuple[str, ...]:
        """All a trigger may set; the rest is the deployment's (`Deployment`)."""
        return (cls.PERIOD_KEY, *(item.name for item in fields(cls) if item.metadata.get("switch")))

    @classmethod
    def resolve(cls, params: Mapping[str, Any], logical_date: dt.datetime | None = None,
                environ: Mapping[str, str] | None = None) -> Self:
        """The one resolver every DAG's first task calls: refuse undeclared config keys, take the month from the
        `PERIOD_KEY` param or else the schedule's (`period_of`), read the deployment's settings, then each field
        as it is declared."""
        env, key = os.environ if environ is None else environ, cls.PERIOD_KEY
        given = run_params(params, cls.trigger_params())
        period = str(given.get(key) or cls.period_of(logical_date) or "")
        if not period:
            raise ConfigError(f"no month: give the `{key}` param (YYYY-MM) or let the schedule run the DAG")
        if try_parse_month(period) is None:
            raise ConfigError(f"`{key}` must be a real YYYY-MM month (got {period[:20]!r})")
        run = RunRequest(period, {name: value for name, value in given.items() if name != key},
                         Deployment.from_env(env), env)
        resolved: dict[str, Any] = {key: period}
        for item in fields(cls):
            if "source" in item.metadata:
                resolved[item.name] = item.metadata["source"](run, resolved, item.name)
        return cls(**resolved)

    def to_params(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> Self:
        return cls(**{key: tuple(value) if isinstance(value, list) else value for key, value in params.items()})


def run_params(params: Mapping[str, Any], declared: Iterable[str]) -> dict[str, Any]:
    """A DAG run's params, refused when the trigger's config carries a key the DAG does not declare.

    Airflow merges every key of a run's config into its params, declared or not; a deployment setting slipped in
    that way (`db_url`, `outbox`, `recipients`, …) must stop the run before it reads or writes anything."""
    allowed = set(declared)
    unknown = sorted(str(key)[:40] for key in params if key not in allowed)
    if unknown:
        raise ConfigError(f"the run's config has undeclared key(s) {', '.join(map(repr, unknown[:5]))}; it may "
                          f"carry only {', '.join(sorted(allowed))} (paths, the store and the recipients are "
                          "deployment settings, EIKIS_* variables)")
    return {key: params[key] for key in allowed if key in params}


def store_url(url: str) -> str:
    """`EIKIS_DB_URL` as given, refused when it carries a password (it would travel in XComs and logs)."""
    from sqlalchemy import make_url  # lazy: SQLAlchemy only where a store URL is checked, not at DAG parse
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError("EIKIS_DB_URL is not a database URL (dialect://user@host/database)") from None
    if parsed.password:
        raise ConfigError("EIKIS_DB_URL must not carry a password: put it in the file EIKIS_DB_PASSWORD_FILE names")
    return url


def check_password_env(name: object, where: str) -> str:
    """The variable a recipients file names as an SFTP password, refused unless it is an SFTP password variable."""
    if not isinstance(name, str) or not SFTP_PASSWORD_ENV.fullmatch(name):
        raise ConfigError(f"{where}: password_env must name an EIKIS_SFTP_PASSWORD or EIKIS_SFTP_PASSWORD_<NAME> "
                          f"variable (got {str(name)[:40]!r})")
    return name


@contextmanager
def private_files() -> Iterator[None]:
    """Files and folders created inside are owner-only (umask 077): work files hold personal codes and income.

    The umask is per process; each stage that writes work files runs in its own process under Airflow, and the
    CLI runs the stages one after the other, so nothing else in the process is writing meanwhile. Worker
    processes forked inside inherit it.
    """
    previous = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(previous)


def make_private(folder: Path) -> Path:
    """Create `folder` (and parents) and make it owner-only, also when it already existed with a looser mode."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    folder.chmod(0o700)
    return folder


@dataclass(frozen=True)
class WorkLayout:
    """Where one period's internal files live under the workdir (never the outbox)."""

    workdir: Path
    period: str

    @property
    def root(self) -> Path:
        return self.workdir / self.period

    def make_private(self) -> None:
        """The workdir and the period folder owner-only: everything under them is unreachable to others."""
        make_private(self.workdir)
        make_private(self.root)

    @property
    def staging(self) -> Path:
        return self.root / "staging"

    def staged(self, source: str) -> Path:
        return self.staging / f"{source}.parquet"

    @property
    def quarantine(self) -> Path:
        return self.root / "quarantine"

    def quarantined(self, source: str) -> Path:
        return self.quarantine / f"{source}.parquet"

    @property
    def summaries(self) -> Path:
        return self.root / "summaries"

    @property
    def data_docs(self) -> Path:
        return self.root / "data_docs"

    @property
    def decisions(self) -> Path:
        return self.root / "decisions"

    def decided(self, name: str) -> Path:
        """A decision table decide hands to publish and the store: `households`, `<commodity>`, …"""
        return self.decisions / f"{name}.parquet"

    @property
    def report(self) -> Path:
        return self.root / "report"


def _share(text: str | None) -> float | None:
    """`EIKIS_QUARANTINE_TOLERANCE`: a share 0-1 in ASCII decimal form, or unset."""
    if not text:
        return None
    if not re.fullmatch(r"[0-9]+(\.[0-9]+)?", text) or float(text) > 1:
        raise ConfigError(f"EIKIS_QUARANTINE_TOLERANCE must be a share from 0 to 1, like 0.02 (got {text[:20]!r})")
    return float(text)


def _whole(env: Mapping[str, str], name: str, default: int) -> int:
    """A positive whole number in ASCII digits, or the default when unset."""
    text = env.get(name)
    if not text:
        return default
    if not re.fullmatch(r"[0-9]{1,9}", text) or int(text) < 1:
        raise ConfigError(f"{name} must be a whole number of at least 1 (got {text[:20]!r})")
    return int(text)


def secret_from_env(env: Mapping[str, str], name: str, development: str, needed: bool) -> str:
    """A secret from the environment; the built-in development value only with `EIKIS_DEV_MODE=1`.

    The one start-up check for every built-in key (the pseudonym secret, the portal's data and session keys).
    """
    value = env.get(name) or development
    if needed and value == development:
        if env.get("EIKIS_DEV_MODE") != "1":
            raise ConfigError(f"{name} is not set (or is the built-in development value): set the bureau's "
                              "secret, or EIKIS_DEV_MODE=1 for a demo or test run")
        log.warning("EIKIS_DEV_MODE=1: using the built-in development value of %s", name)
    return value
