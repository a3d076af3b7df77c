"""The one door into a period's inbox: every flow lists `<inbox>/<P>/<folder>/` here, and reads only the run's
private copies of what it listed.

The inbox is written by outsiders (providers over SFTP, traders, SOPA), so its shape is checked before anything is
read, the same way for every flow (issue 9 points 6-7, issue 20 point 4, issue 21 point 1):

- a symbolic link anywhere below the inbox root (the period folder, a source folder, a file) is refused, never
  followed out of the inbox;
- an entry named like an input file that is not a regular file (a folder `sopa/protected_users_02.xml/`, a FIFO
  that would block the read) is refused, never skipped: the month must not run on part of a source;
- a subfolder where files are expected (`vid/late/income_03.xml`, `contracts/<reg_no>/old/list.csv`) is refused:
  its files would otherwise be silently ignored;
- the period folder's name must be a real `YYYY-MM` month in ASCII digits.

Then the files are made immutable for the run (issue 28): each is copied into the run's own work folder
(`private_copies`), its size and sha256 taken from the very bytes copied and the source checked not to have
changed meanwhile (same inode, size and modification time before and after). Readers then map and parse only the
private copy, which nobody else can write, so a provider truncating or rewriting a file mid-run can neither kill a
worker with SIGBUS nor have values validated on one version and copied from another. A hard link would be cheaper
but is not safe: whoever can write the inbox file can still rewrite it in place through its other name.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pipeline.config import make_private
from pipeline.errors import EikisError, SourceError
from pipeline.period import parse_month

BLOCK = 1 << 20  # input files reach gigabytes: copied and hashed in 1 MiB blocks


def period_folder(inbox: Path, period: str) -> Path:
    """`<inbox>/<P>`, after checking that P is a real month in ASCII digits (it names a folder outsiders fill)."""
    try:
        parse_month(period)
    except ValueError:
        raise SourceError(f"period {period!r} is not a YYYY-MM month in ASCII digits", file=inbox) from None
    return Path(inbox) / period


def refuse_links(base: Path, relative: str) -> None:
    """Refuse a symbolic link at `base/relative` or at any folder between `base` and it (`base` itself is the
    deployment's own root and may be a link)."""
    path = Path(base)
    for part in Path(relative).parts:
        path = path / part
        if path.is_symlink():
            raise SourceError("is a symbolic link; the inbox must hold the folders and files themselves", file=path)


def listing(inbox: Path, period: str, folder: str, suffix: str | None, *, only_input: bool = False) -> list[Path]:
    """The entries of `<inbox>/<P>/<folder>/` (`folder=""`: the period folder itself), sorted by name, after
    checking the folder's shape.

    With a `suffix` (".xml", ".csv", any case) the folder holds files: those named with it are returned, other
    regular files (a README, a `.part` upload) are not input and are left alone — or refused with `only_input`
    (claims: a supplier folder holds claim files only) — and a subfolder is an error. With `suffix=None` the
    folder holds folders only (`contracts/<reg_no>/`): those are returned and a file there is an error. Hidden
    entries (a name starting with ".") that are not named like input are not looked at. A missing folder gives no
    entries; whether that is allowed is the caller's decision."""
    base = period_folder(inbox, period)
    refuse_links(Path(inbox), str(Path(period) / folder))
    where = base / folder
    if not where.exists():
        return []
    if not where.is_dir():
        raise SourceError("is not a folder; the inbox must hold a folder here", file=where)
    found: list[Path] = []
    for entry in sorted(where.iterdir()):
        named_like_input = suffix is not None and entry.suffix.lower() == suffix
        if entry.name.startswith(".") and not named_like_input:
            continue
        if entry.is_symlink():
            raise SourceError("is a symbolic link; the inbox must hold the files themselves", file=entry)
        if suffix is None:
            if not entry.is_dir():
                raise SourceError(f"only folders belong in {where.name}/, not files", file=entry)
            found.append(entry)
        elif named_like_input:
            if not entry.is_file():
                raise SourceError("is named like an input file but is not a regular file (a folder or a pipe?)",
                                  file=entry)
            found.append(entry)
        elif entry.is_dir():
            raise SourceError(f"is a subfolder; files of {where.name}/ must sit in it directly, a subfolder is "
                              "never read", file=entry)
        elif only_input:
            raise SourceError(f"is not a *{suffix} file; only *{suffix} files belong in {where.name}/", file=entry)
    return found


@dataclass(frozen=True)
class InboxCopy:
    """One input file as this run reads it: its label (path under `<inbox>/<P>`, as in errors and manifests), the
    run's private copy, and the size and sha256 of the bytes copied."""

    label: str
    path: Path
    size: int
    sha256: str


def private_root(workdir: Path, period: str, flow: str = "") -> Path:
    """Where a run of P keeps its private copies of the inbox: `<workdir>/<P>/[<flow>/]inbox/`."""
    root = Path(workdir) / period
    return (root / flow if flow else root) / "inbox"


def private_copies(inbox: Path, period: str, files: list[Path], into: Path) -> list[InboxCopy]:
    """Copy listed inbox files of P into `into` (same relative paths), owner-only and read-only; refuse a file
    that changes while it is copied. Returns the copies in the order given."""
    base = period_folder(inbox, period)
    make_private(into)
    return [_copy(path, str(path.relative_to(base)), into) for path in files]


def _copy(source: Path, label: str, into: Path) -> InboxCopy:
    target = into / label
    make_private(target.parent)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    before = os.lstat(source)
    if not stat.S_ISREG(before.st_mode):
        raise SourceError("is named like an input file but is not a regular file", file=source)
    try:
        reader = os.open(source, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as error:
        raise SourceError(f"cannot be opened for reading ({error.strerror})", file=source) from None
    digest, size = hashlib.sha256(), 0
    try:
        opened = os.fstat(reader)
        if (opened.st_dev, opened.st_ino) != (before.st_dev, before.st_ino) or not stat.S_ISREG(opened.st_mode):
            raise SourceError("was replaced while the run listed it; deliver files whole, then run again",
                              file=source)
        writer = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        try:
            while block := os.read(reader, BLOCK):
                digest.update(block)
                size += len(block)
                view = memoryview(block)
                while view:
                    view = view[os.write(writer, view):]
        finally:
            os.close(writer)
        after = os.fstat(reader)
    finally:
        os.close(reader)
    now = os.lstat(source)
    unchanged = all(
        (first.st_ino, first.st_size, first.st_mtime_ns) == (before.st_ino, before.st_size, before.st_mtime_ns)
        for first in (after, now))
    if not unchanged or size != before.st_size or temporary.stat().st_size != size:
        temporary.unlink(missing_ok=True)
        raise SourceError("changed while the run copied it; the provider must deliver it whole and leave it "
                          "unchanged, then run again", file=source)
    temporary.chmod(0o400)
    temporary.replace(target)
    return InboxCopy(label=label, path=target, size=size, sha256=digest.hexdigest())


@contextmanager
def naming_the_inbox(inbox: Path, period: str, into: Path) -> Iterator[None]:
    """Errors raised while reading private copies name the inbox file the provider delivered (the one the operator
    can look at and ask to be re-sent), never the run's copy of it."""
    try:
        yield
    except EikisError as error:
        copies = str(Path(into))
        if error.file and (error.file == copies or error.file.startswith(copies + os.sep)):
            error.file = str(period_folder(inbox, period)) + error.file[len(copies):]
            error.args = (error.one_line(),)
        raise
