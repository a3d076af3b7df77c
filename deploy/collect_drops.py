"""Move each provider's completed uploads from its SFTP drop folder into the folders the flows read.

    python /opt/eikis/deploy/collect_drops.py --accounts /opt/eikis/config/sftp-in.accounts \
        --drops /srv/drop --inbox /opt/eikis/data/inbox --claims /opt/eikis/data/claims [--once]

Why a collector: a provider's SFTP account is chrooted to its own drop folder and may only write into it (no
listing, no read-back, no links; deploy/sftp/sshd_config), so it can neither see nor alter another provider's
extract. The flows read `<inbox>/<P>/<source>/` and `<claims>/<P>/<supplier folder>/`, where the period is above the
source: no chroot can give a provider "its" folder there. So each account uploads into `upload/<P>/` of its own
drop, and this service (uid 50000, no network) moves every completed file to `<inbox or claims>/<P>/<folder>/`,
the target named by the account's line in `config/sftp-in.accounts` (`account uid into folder public-key`).

A file is complete when its name does not mark a transfer in progress (`.`-prefixed, `.part`, `.filepart`, `.tmp`)
and it has not changed for `--settle` seconds. It is copied under a temporary name beside its target, synced and
renamed into place, then removed from the drop. A target that already exists with other bytes is never replaced:
the upload stays in the drop and one line says so (the operator decides; an extract that was read must not change
under the run that read it). Output: one line per file, naming the account, the period and the file name only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import stat
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PERIOD = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
IN_PROGRESS = (".part", ".filepart", ".tmp")
PERIOD_FOLDER_MODE = 0o3773   # setgid + sticky; the provider ("other") may enter and create, never list
MONTHS_BACK, MONTHS_AHEAD = 7, 1   # claims stay open 6 months after P (policy claim_window_months), + this month


@dataclass(frozen=True)
class Account:
    """One provider's drop: where its uploads go (`into` the inbox or claims root, under `<P>/<folder>/`)."""

    name: str
    into: str
    folder: str


def read_accounts(path: Path) -> list[Account]:
    """`config/sftp-in.accounts`: `account uid into folder public-key` lines; `#` comments and blank lines skipped."""
    accounts = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = line.split(maxsplit=4)
        if len(fields) < 5 or fields[2] not in ("inbox", "claims"):
            raise ValueError(f"{path}: line {number} is not `account uid inbox|claims folder public-key`")
        name, _, into, folder, _ = fields
        plain_folder = re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_./-]*", folder) and not any(
            part in ("", ".", "..") for part in folder.split("/"))
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,30}", name) or not plain_folder:
            raise ValueError(f"{path}: line {number}: account or folder is not a plain name")
        accounts.append(Account(name, into, folder))
    return accounts


def open_periods(today: dt.date) -> list[str]:
    """The months a provider may upload for: claims for the last 6 months, this month's extracts, next month's."""
    months = []
    for offset in range(-MONTHS_BACK, MONTHS_AHEAD + 1):
        index = today.year * 12 + today.month - 1 + offset
        months.append(f"{index // 12:04d}-{index % 12 + 1:02d}")
    return months


def prepare_period_folders(drops: Path, accounts: list[Account], periods: list[str]) -> None:
    """Each account's `upload/<P>/` for the open months, write-and-enter only for the provider."""
    for account in accounts:
        upload = drops / account.name / "upload"
        if not upload.is_dir():
            continue  # the SFTP server makes upload/ when it creates the account
        for period in periods:
            folder = upload / period
            folder.mkdir(exist_ok=True)
            folder.chmod(PERIOD_FOLDER_MODE)


def collect(drops: Path, roots: dict[str, Path], accounts: list[Account], *, settle: float,
            now: float | None = None) -> Iterator[str]:
    """Move every completed upload; yield one line per file moved, duplicate or refused."""
    now = time.time() if now is None else now
    for account in accounts:
        upload = drops / account.name / "upload"
        if not upload.is_dir():
            continue
        for period_folder in sorted(upload.iterdir()):
            if not PERIOD.fullmatch(period_folder.name) or not period_folder.is_dir():
                continue
            for path in sorted(period_folder.iterdir()):
                yield from _collect_one(account, period_folder.name, path, roots, settle, now)


def _collect_one(account: Account, period: str, path: Path, roots: dict[str, Path], settle: float,
                 now: float) -> Iterator[str]:
    where = f"{account.name} {period}/{path.name}"
    info = path.lstat()
    if not stat.S_ISREG(info.st_mode):
        yield f"skipped {where}: not a regular file"
        return
    if path.name.startswith(".") or path.name.endswith(IN_PROGRESS) or now - info.st_mtime < settle:
        return  # still being uploaded
    target_folder = roots[account.into] / period / account.folder
    target = target_folder / path.name
    data = _read(path)
    if target.exists():
        if target.read_bytes() == data:
            path.unlink()
            yield f"duplicate {where}: already in {account.into}, removed from the drop"
        else:
            yield f"refused {where}: {account.into}/{period}/{account.folder}/{path.name} exists with other bytes"
        return
    target_folder.mkdir(parents=True, exist_ok=True, mode=0o750)
    temporary = target_folder / f".{path.name}.collecting"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o640)
    try:
        os.write(descriptor, data)
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    os.rename(temporary, target)
    path.unlink()
    yield f"moved {where} -> {account.into}/{period}/{account.folder}/"


def _read(path: Path) -> bytes:
    descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(descriptor, "rb") as handle:
        return handle.read()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=Path, required=True)
    parser.add_argument("--drops", type=Path, required=True)
    parser.add_argument("--inbox", type=Path, required=True)
    parser.add_argument("--claims", type=Path, required=True)
    parser.add_argument("--settle", type=float, default=60.0, help="seconds a file must be unchanged")
    parser.add_argument("--every", type=float, default=60.0, help="seconds between passes")
    parser.add_argument("--once", action="store_true")
    args = parser.parse_args(argv)
    os.umask(0o027)
    try:
        accounts = read_accounts(args.accounts)
    except (OSError, ValueError) as exc:
        print(f"collect-drops: {exc}", file=sys.stderr)
        return 1
    roots = {"inbox": args.inbox, "claims": args.claims}
    while True:
        try:
            prepare_period_folders(args.drops, accounts, open_periods(dt.date.today()))
            for line in collect(args.drops, roots, accounts, settle=args.settle):
                print(f"collect-drops: {line}", flush=True)
        except OSError as exc:  # one line, then the next pass tries again
            print(f"collect-drops: {exc.filename}: {exc.strerror}", file=sys.stderr, flush=True)
        if args.once:
            return 0
        time.sleep(args.every)


if __name__ == "__main__":
    sys.exit(main())
