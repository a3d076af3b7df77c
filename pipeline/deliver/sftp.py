"""Delivering each recipient's files over SFTP so that a recipient never sees a partial file.

Per file: upload under a hidden temporary name, check the remote size and sha256, then `posix_rename` into place
(which replaces an older version atomically). The recipient's own manifest (its files only) goes last, so a
complete manifest means complete files. A file already on the server with the same sha256 is not sent again.
A dropped connection is retried with backoff on a fresh connection; leftover temporary files are removed first.
Recipients and endpoints come from a recipients file (or Airflow connections, resolved by the DAG), never code.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import hashlib
import io
import json
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

from pipeline.errors import DeliveryError
from pipeline.logs import get_logger

log = get_logger("deliver.sftp")

TEMP_PREFIX = ".eikis-"
TEMP_SUFFIX = ".part"
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
    timeout: float = 30.0


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
        return cls(endpoints=document["endpoints"], rules=document["recipients"])

    def endpoint(self, name: str, environ: dict[str, str] | None = None) -> Endpoint:
        env = os.environ if environ is None else environ
        raw = dict(self.endpoints[name])
        password_env = raw.pop("password_env", None)
        if password_env:
            raw["password"] = env.get(password_env)
        return Endpoint(**raw)

    def rule_for(self, recipient: str) -> dict[str, str] | None:
        return next((rule for rule in self.rules if fnmatch.fnmatchcase(recipient, rule["match"])), None)


def recipient_of(path: str) -> str:
    """The recipient a published file belongs to: `dso_electricity`, `heat/<reg no>`, `municipalities/<code>` …"""
    parts = PurePosixPath(path).parts
    return parts[0] if parts[0].startswith("dso_") else "/".join(parts[:2])


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


@contextmanager
def open_sftp(endpoint: Endpoint) -> Iterator[paramiko.SFTPClient]:
    client = paramiko.SSHClient()
    if endpoint.known_hosts:
        client.load_host_keys(endpoint.known_hosts)
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
    else:
        log.warning("%s: no known_hosts configured, accepting the server key unchecked", endpoint.host)
        client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    client.connect(endpoint.host, port=endpoint.port, username=endpoint.username, password=endpoint.password,
                   key_filename=endpoint.key_file, timeout=endpoint.timeout, banner_timeout=endpoint.timeout,
                   auth_timeout=endpoint.timeout, allow_agent=False, look_for_keys=False)
    try:
        yield client.open_sftp()
    finally:
        client.close()


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


def _put_verified(sftp: paramiko.SFTPClient, data: bytes, remote_dir: str, name: str, sha256: str) -> str:
    final = f"{remote_dir}/{name}"
    temporary = f"{remote_dir}/{TEMP_PREFIX}{name}.{uuid.uuid4().hex[:8]}{TEMP_SUFFIX}"
    sftp.putfo(io.BytesIO(data), temporary, file_size=len(data), confirm=True)
    if sftp.stat(temporary).st_size != len(data) or _remote_sha256(sftp, temporary) != sha256:
        sftp.remove(temporary)
        raise OSError(f"verification failed for {final}")
    sftp.posix_rename(temporary, final)
    return final


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
            if attempt == attempts:
                raise DeliveryError(f"{plan.recipient}: delivery failed after {attempts} attempts: "
                                    f"{type(exc).__name__}: {exc}") from None
            wait = backoff_seconds * 2 ** (attempt - 1)
            log.warning("%s: attempt %d failed (%s: %s); retrying in %.1f s", plan.recipient, attempt,
                        type(exc).__name__, exc, wait)
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
