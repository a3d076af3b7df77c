"""Delivering each recipient's files over SFTP so that a recipient never sees a partial file.

Per file: upload under a hidden temporary name, check the remote size and sha256, then `posix_rename` into place
(which replaces an older version atomically). The recipient's own manifest (its files only) goes last, so a
complete manifest means complete files. A file already on the server with the same sha256 is not sent again.
A dropped connection is retried with backoff on a fresh connection; leftover temporary files are removed first.
Recipients and endpoints come from a recipients file (or Airflow connections, resolved by the DAG), never code.

Trust and time (issue 9, point 4): every endpoint must name the server's host key (`host_key: "<type> <base64>"`,
or a `known_hosts` file); an unknown or different key refuses the delivery, there is no "accept anyway". Every
network step has the endpoint's timeout — connect, banner, authentication, opening the channel and each SFTP
request — so a server that stops answering fails the attempt instead of hanging it. A failed upload's temporary
file is removed, and a full disk or a permission refusal is said plainly and not retried (it would fail again).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import errno
import fnmatch
import hashlib
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import paramiko
import yaml

from pipeline.config import check_password_env
from pipeline.errors import DeliveryError
from pipeline.handoff import recipient_of
from pipeline.logs import get_logger

log = get_logger("deliver.sftp")
# paramiko logs each failed handshake as ERROR lines with its own traceback (dozens per stalled server); a failure
# is said here, once, in one line (`_describe`), so its logger only speaks when something is beyond that.
logging.getLogger("paramiko").setLevel(logging.CRITICAL)

TEMP_PREFIX = ".eikis-"
TEMP_SUFFIX = ".part"
CONFIRM_EVERY = 4 << 20  # bytes written between checks of the server's answers (bounded memory, no silent loss)
RETRYABLE = (paramiko.SSHException, EOFError, OSError, socket.timeout)


@dataclass(frozen=True)
class Endpoint:
    """An SFTP server. Secrets come from the environment (`password_env`) or a key file, never the file itself."""

    host: str
    port: int = 22
    username: str = "eikis"
    password: str | None = field(default=None, repr=False)
    key_file: str | None = None
    known_hosts: str | None = None
    host_key: str | None = None
    timeout: float = 30.0

    @classmethod
    def from_connection(cls, host: str, port: int | None, login: str | None, password: str | None,
                        extra: dict[str, Any] | None) -> Endpoint:
        """An Airflow SFTP connection, read with the extras `SFTPHook` defines (`host_key`, `no_host_key_check`,
        `key_file`, `conn_timeout`) plus `known_hosts` (a file path, as `SFTPHookAsync` reads it). Skipping the
        host-key check is refused here, whatever the connection says."""
        extra = extra or {}
        if str(extra.get("no_host_key_check", extra.get("ignore_hostkey_verification", "false"))).lower() == "true":
            raise HostKeyRefused(f"{host}: the connection sets no_host_key_check; EIKIS delivers only to a server "
                                 "whose host key it can verify (give host_key or known_hosts)")
        if extra.get("private_key"):
            raise DeliveryError(f"{host}: the private_key extra is not supported; give key_file (a path) instead")
        return cls(host=host, port=int(port or 22), username=login or "eikis", password=password,
                   key_file=extra.get("key_file"), known_hosts=extra.get("known_hosts"),
                   host_key=extra.get("host_key"), timeout=float(extra.get("conn_timeout") or cls.timeout))

    @property
    def known_host_name(self) -> str:
        """How known_hosts names this server (OpenSSH writes a non-22 port as `[host]:port`)."""
        return self.host if self.port == 22 else f"[{self.host}]:{self.port}"


@dataclass
class DeliveryPlan:
    """What one recipient receives: its files (paths under `<outbox>/<P>`), where, through which endpoint."""

    recipient: str
    endpoint: str
    remote_dir: str
    files: list[dict[str, Any]]
    label: str = ""  # how the recipient is shown in the Airflow UI (e.g. a trader's name); defaults to recipient

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RecipientsConfig:
    endpoints: dict[str, dict[str, Any]]
    rules: list[dict[str, str]]

    @classmethod
    def load(cls, path: Path) -> RecipientsConfig:
        document = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        if not isinstance(document.get("endpoints"), dict) or not isinstance(document.get("recipients"), list):
            raise DeliveryError("recipients file needs `endpoints:` (a mapping) and `recipients:` (a list)", file=path)
        for name, entry in document["endpoints"].items():
            if not isinstance(entry, dict):
                raise DeliveryError(f"endpoint {str(name)[:40]}: must be a mapping of settings", file=path)
            if "password" in entry:
                raise DeliveryError(f"endpoint {str(name)[:40]}: a password is never written in the file; name its "
                                    "variable with password_env", file=path)
            if "password_env" in entry:
                check_password_env(entry["password_env"], f"{path}: endpoint {str(name)[:40]}")
        return cls(endpoints=document["endpoints"], rules=document["recipients"])

    def endpoint(self, name: str, environ: dict[str, str] | None = None) -> Endpoint:
        env = os.environ if environ is None else environ
        raw = dict(self.endpoints[name])
        password_env = raw.pop("password_env", None)
        if password_env:
            raw["password"] = env.get(check_password_env(password_env, f"endpoint {name}"))
        unknown = set(raw) - set(Endpoint.__dataclass_fields__)
        if unknown:
            raise DeliveryError(f"endpoint {name}: unknown setting(s) {', '.join(sorted(unknown))}")
        return Endpoint(**raw)

    def rule_for(self, recipient: str) -> dict[str, str] | None:
        return next((rule for rule in self.rules if fnmatch.fnmatchcase(recipient, rule["match"])), None)


def manifest_entries(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """A manifest's files as `{path, rows, sha256}` entries: §10 lists them, §12 (ALDIS) maps path -> entry."""
    files = manifest["files"]
    if isinstance(files, dict):
        return [{"path": path, **entry} for path, entry in sorted(files.items())]
    return list(files)


def plan_deliveries(outbox: Path, period: str, config: RecipientsConfig,
                    recipient_of: Callable[[str], str] = recipient_of) -> list[DeliveryPlan]:
    """One plan per recipient in P's manifest; a recipient no rule covers is a configuration error."""
    manifest = json.loads((Path(outbox) / period / "manifest.json").read_text(encoding="utf-8"))
    grouped: dict[str, list[dict[str, Any]]] = {}
    for entry in manifest_entries(manifest):
        grouped.setdefault(recipient_of(entry["path"]), []).append(entry)
    plans, missing = [], []
    for recipient, files in sorted(grouped.items()):
        rule = config.rule_for(recipient)
        if rule is None:
            missing.append(recipient)
            continue
        remote_dir = rule.get("remote_dir", "/{recipient}/{period}").format(recipient=recipient, period=period)
        plans.append(DeliveryPlan(recipient, rule["endpoint"], remote_dir, files))
    if missing:
        raise DeliveryError(f"no delivery rule for recipient(s): {', '.join(missing)}")
    return plans


def recipient_manifest(outbox: Path, period: str, plan: DeliveryPlan) -> bytes:
    """The recipient's own manifest: P's manifest with only its files, paths relative to its folder."""
    manifest = json.loads((Path(outbox) / period / "manifest.json").read_text(encoding="utf-8"))
    own: list[dict[str, Any]] | dict[str, Any] = [
        {**entry, "path": PurePosixPath(entry["path"]).name} for entry in plan.files]
    if isinstance(manifest["files"], dict):  # keep the manifest's own shape (§12 maps path -> entry)
        own = {PurePosixPath(entry["path"]).name: {k: v for k, v in entry.items() if k != "path"}
               for entry in plan.files}
    body = {**manifest, "recipient": plan.recipient, "files": own}
    return (json.dumps(body, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


class HostKeyRefused(DeliveryError):
    """The server's host key is not configured or not the configured one: nothing is sent."""


class _RefuseUnknownHost(paramiko.MissingHostKeyPolicy):
    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> None:
        raise HostKeyRefused(f"{hostname}: the server's {key.get_name()} host key is not among the configured "
                             "ones; refusing to deliver")


def trusted_host_keys(endpoint: Endpoint) -> dict[str, paramiko.PKey]:
    """The host keys (by type) this endpoint may present; none configured is a refusal, not a warning."""
    keys = paramiko.HostKeys()
    if endpoint.known_hosts:
        path = Path(endpoint.known_hosts)
        if not path.is_file():
            raise HostKeyRefused(f"{endpoint.host}: known_hosts file not found; refusing to deliver", file=path)
        keys.load(str(path))
    if endpoint.host_key:
        kind, _, body = endpoint.host_key.strip().partition(" ")
        try:
            key = paramiko.PKey.from_type_string(kind, base64.b64decode(body.split()[0], validate=True))
        except (binascii.Error, IndexError, paramiko.SSHException, ValueError):
            raise HostKeyRefused(f"{endpoint.host}: host_key must be '<type> <base64>' as in known_hosts") from None
        keys.add(endpoint.known_host_name, kind, key)
    trusted = keys.lookup(endpoint.known_host_name)
    if not trusted:
        raise HostKeyRefused(f"{endpoint.known_host_name}: no verified host key configured (give the endpoint a "
                             "host_key or a known_hosts file that lists it); refusing to deliver")
    return dict(trusted)


@contextmanager
def open_sftp(endpoint: Endpoint) -> Iterator[paramiko.SFTPClient]:
    """A verified SFTP session whose every request times out after `endpoint.timeout` seconds."""
    client = paramiko.SSHClient()
    for kind, key in trusted_host_keys(endpoint).items():
        client.get_host_keys().add(endpoint.known_host_name, kind, key)
    client.set_missing_host_key_policy(_RefuseUnknownHost())
    try:
        try:
            client.connect(endpoint.host, port=endpoint.port, username=endpoint.username,
                           password=endpoint.password, key_filename=endpoint.key_file, timeout=endpoint.timeout,
                           banner_timeout=endpoint.timeout, auth_timeout=endpoint.timeout,
                           channel_timeout=endpoint.timeout, allow_agent=False, look_for_keys=False)
        except paramiko.BadHostKeyException as exc:
            raise HostKeyRefused(f"{exc.hostname}: the server presented a different {exc.key.get_name()} host "
                                 "key than the configured one; refusing to deliver") from None
        sftp = client.open_sftp()
        sftp.get_channel().settimeout(endpoint.timeout)
        yield sftp
    finally:
        client.close()


def plain_failure(exc: BaseException, where: str) -> DeliveryError | None:
    """A failure said plainly; None when another attempt may succeed (a dropped or silent connection)."""
    text = str(exc).lower()
    if isinstance(exc, PermissionError) or getattr(exc, "errno", None) == errno.EACCES:
        return DeliveryError(f"{where}: permission denied by the remote server")
    if getattr(exc, "errno", None) in (errno.ENOSPC, errno.EDQUOT) or "no space" in text or "quota" in text:
        return DeliveryError(f"{where}: remote disk full (or quota exceeded)")
    return None


def _makedirs(sftp: paramiko.SFTPClient, remote_dir: str) -> None:
    path = PurePosixPath(remote_dir)
    for depth in range(1, len(path.parts) + 1):
        partial = str(PurePosixPath(*path.parts[:depth]))
        try:
            sftp.stat(partial)
        except FileNotFoundError:
            sftp.mkdir(partial)


def _remote_sha256(sftp: paramiko.SFTPClient, path: str) -> str:
    digest = hashlib.sha256()
    with sftp.open(path, "rb") as handle:
        handle.prefetch()
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _already_delivered(sftp: paramiko.SFTPClient, path: str, size: int, sha256: str) -> bool:
    try:
        if sftp.stat(path).st_size != size:
            return False
    except FileNotFoundError:
        return False
    return _remote_sha256(sftp, path) == sha256


def _remove_leftovers(sftp: paramiko.SFTPClient, remote_dir: str) -> None:
    for name in sftp.listdir(remote_dir):
        if name.startswith(TEMP_PREFIX) and name.endswith(TEMP_SUFFIX):
            sftp.remove(f"{remote_dir}/{name}")
            log.info("removed leftover temporary file %s/%s", remote_dir, name)


def _upload(sftp: paramiko.SFTPClient, data: bytes, path: str) -> None:
    """Pipelined writes whose answers are checked every `CONFIRM_EVERY` bytes and at the end.

    `SFTPClient.putfo` pipelines too but drops the server's answers to the writes (paramiko reads them only to
    match request numbers), so a full disk surfaces later as a bare size mismatch. Reading the pending answers
    ourselves (paramiko's `_reqs` / `_read_response`, stable since paramiko 1.x) raises the server's own status:
    "No space left on device", "Permission denied".
    """
    with sftp.open(path, "wb") as remote:
        remote.set_pipelined(True)
        for offset in range(0, len(data), CONFIRM_EVERY):
            remote.write(data[offset:offset + CONFIRM_EVERY])
            _confirm_writes(remote)
        _confirm_writes(remote)


def _confirm_writes(remote: paramiko.SFTPFile) -> None:
    remote.flush()
    pending = getattr(remote, "_reqs", None)
    while pending:
        remote.sftp._read_response(pending.popleft())  # raises the server's status for a refused write


def _put_verified(sftp: paramiko.SFTPClient, data: bytes, remote_dir: str, name: str, sha256: str) -> str:
    final = f"{remote_dir}/{name}"
    temporary = f"{remote_dir}/{TEMP_PREFIX}{name}.{uuid.uuid4().hex[:8]}{TEMP_SUFFIX}"
    try:
        _upload(sftp, data, temporary)
        if sftp.stat(temporary).st_size != len(data) or _remote_sha256(sftp, temporary) != sha256:
            raise OSError(f"verification failed for {final}")
        sftp.posix_rename(temporary, final)
    except BaseException:
        _remove_quietly(sftp, temporary)
        raise
    return final


def _remove_quietly(sftp: paramiko.SFTPClient, path: str) -> None:
    """Best effort (the session may be the thing that failed); the next attempt removes what is left."""
    try:
        sftp.remove(path)
    except (OSError, EOFError, paramiko.SSHException):
        log.info("could not remove %s now; the next attempt removes it", path)


def _cleanup_after_failure(endpoint: Endpoint, remote_dir: str) -> None:
    """After the last failed attempt, one fresh session to remove temporary files the failed ones left."""
    try:
        with open_sftp(endpoint) as sftp:
            _remove_leftovers(sftp, remote_dir)
    except (DeliveryError, OSError, EOFError, paramiko.SSHException):
        log.warning("temporary files in %s could not be removed; the next delivery removes them", remote_dir)


def _describe(exc: BaseException, timeout: float) -> str:
    """A failed attempt in a few words on one line (paramiko's messages can span lines or say little)."""
    message = " ".join(str(exc).split())
    if isinstance(exc, (socket.timeout, TimeoutError)) or (
            isinstance(exc, paramiko.SSHException) and ("banner" in message or "No existing session" in message)):
        return f"the server stopped answering (no reply within {timeout:g} s)"
    if isinstance(exc, EOFError):
        return "the server closed the connection"
    return f"{type(exc).__name__}: {message[:160]}" if message else type(exc).__name__


def deliver(plan: DeliveryPlan, endpoint: Endpoint, outbox: Path, period: str, *, attempts: int = 4,
            backoff_seconds: float = 2.0) -> list[dict[str, Any]]:
    """Deliver one recipient's files and then its manifest; returns one row per file for the store."""
    base = Path(outbox) / period
    manifest = recipient_manifest(outbox, period, plan)
    items = [(PurePosixPath(f["path"]).name, (base / f["path"]).read_bytes(), f["sha256"], f["path"])
             for f in plan.files]
    items.append(("manifest.json", manifest, hashlib.sha256(manifest).hexdigest(), f"{plan.recipient}/manifest.json"))
    started = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    statuses: dict[str, str] = {}
    for attempt in range(1, attempts + 1):
        try:
            with open_sftp(endpoint) as sftp:
                _makedirs(sftp, plan.remote_dir)
                _remove_leftovers(sftp, plan.remote_dir)
                for name, data, sha256, _ in items:
                    if _already_delivered(sftp, f"{plan.remote_dir}/{name}", len(data), sha256):
                        statuses.setdefault(name, "UNCHANGED")
                        continue
                    _put_verified(sftp, data, plan.remote_dir, name, sha256)
                    statuses[name] = "DELIVERED"
            break
        except RETRYABLE as exc:
            plain = plain_failure(exc, f"{plan.recipient} ({plan.remote_dir})")
            if plain is not None or attempt == attempts:
                _cleanup_after_failure(endpoint, plan.remote_dir)
            if plain is not None:
                raise plain from None
            if attempt == attempts:
                raise DeliveryError(f"{plan.recipient}: delivery failed after {attempts} attempts: "
                                    f"{_describe(exc, endpoint.timeout)}") from None
            wait = backoff_seconds * 2 ** (attempt - 1)
            log.warning("%s: attempt %d failed (%s); retrying in %.1f s", plan.recipient, attempt,
                        _describe(exc, endpoint.timeout), wait)
            time.sleep(wait)
    finished = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    log.info("%s: %d file(s) delivered, %d unchanged, in %d attempt(s)", plan.recipient,
             sum(s == "DELIVERED" for s in statuses.values()), sum(s == "UNCHANGED" for s in statuses.values()),
             attempt)
    return [
        {"period": period, "recipient": plan.recipient, "path": path, "remote_path": f"{plan.remote_dir}/{name}",
         "sha256": sha256, "bytes": len(data), "attempts": attempt, "status": statuses.get(name, "DELIVERED"),
         "started_at": started, "finished_at": finished}
        for name, data, sha256, path in items
    ]
