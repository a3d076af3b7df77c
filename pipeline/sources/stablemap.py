"""An extract's bytes as one map that cannot change or vanish while a reader uses it.

Why: the fast readers map the file (the canonical walk, libxml2's validation, the line scan), and a mapped file that
shrinks kills the worker with SIGBUS (exit 135, no error line, no name), while one rewritten during a read can have
its values checked on one version and copied from another. The inbox is written by providers, so each run reads
its own private copies (`pipeline.inbox.private_copies`: owner-only, read-only, checked by size and sha256): a file
*sealed* so (owned by this user, writable by nobody) cannot change, and is mapped as it is, at no cost. Any other
file (a caller that did not come through the inbox's door: a tool, a test) is first read into private memory, so
no later change can reach the reader, and is checked unchanged when the reader is done: a file that changed
gives one line naming it (`FileChanged`), never a signal. A reader that reads a file more than once (libxml2 and
xml2arrow side by side) takes its `identity` first and calls `require_same` when done.
"""

from __future__ import annotations

import mmap
import os
import stat
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from pipeline.errors import SourceError

_POPULATE = getattr(mmap, "MAP_POPULATE", 0)  # Linux: a walk reads every page anyway, faulting them one by one cost
_BLOCK = 16 << 20


class FileChanged(SourceError):
    """The file changed (size, time or identity) while it was read: nothing read from it may be used."""


@dataclass
class StableMap:
    """The bytes (`data`, an mmap: the file's own pages if sealed, else a private copy in memory) and what the
    file was when they were taken."""

    path: Path
    data: mmap.mmap
    sealed: bool
    _identity: tuple[int, int, int, int]

    def unchanged(self) -> bool:
        """Whether the file at `path` is still the one read, with the same size and modification time (a sealed
        file cannot change: always True)."""
        if self.sealed:
            return True
        return same(self.path, self._identity)

    def require_unchanged(self) -> None:
        if not self.unchanged():
            raise _changed(self.path)


@contextmanager
def stable_map(path: Path, *, writable: bool = False,
               ranges: Sequence[tuple[int, int]] | None = None) -> Iterator[StableMap]:
    """The file's bytes for the duration of the block; `writable` gives a private (copy-on-write) map, for a C
    library that wants a `char *`. A reader that needs only some byte `ranges` (a chunk: the head and its own
    records) names them: a file read into memory then gets only those (the map keeps the file's size and offsets,
    the rest reads as zeros and costs no memory). Raises FileChanged when a file read into memory did not keep its
    size while read, OSError when it cannot be read and ValueError when it is empty (nothing to map)."""
    with path.open("rb", buffering=0) as handle:
        before = os.fstat(handle.fileno())
        if before.st_size == 0:
            raise ValueError("an empty file cannot be mapped")
        if sealed(before):
            data = mmap.mmap(handle.fileno(), 0, flags=mmap.MAP_PRIVATE if writable else mmap.MAP_SHARED | _POPULATE,
                             prot=mmap.PROT_READ | (mmap.PROT_WRITE if writable else 0))
        else:
            data = _read_into_memory(handle, before.st_size, path, ranges or [(0, before.st_size)])
    with data:
        yield StableMap(path, data, sealed(before), _identity(before))


def sealed(status: os.stat_result) -> bool:
    """A regular file owned by this user that nobody may write: the run's private copy, which no provider can
    truncate or rewrite (only its owner could, by first making it writable)."""
    return stat.S_ISREG(status.st_mode) and status.st_uid == os.geteuid() and not status.st_mode & 0o222


def identity(path: Path) -> tuple[int, int, int, int]:
    """What the file is now: device, inode, size and modification time (ns)."""
    return _identity(os.stat(path))


def same(path: Path, before: tuple[int, int, int, int]) -> bool:
    try:
        return identity(path) == before
    except OSError:
        return False


def require_same(path: Path, before: tuple[int, int, int, int]) -> None:
    """Raise FileChanged unless the file is still the one `identity` described."""
    if not same(path, before):
        raise _changed(path)


def _changed(path: Path) -> FileChanged:
    return FileChanged("changed while it was read (truncated, rewritten or replaced); the provider must deliver it "
                       "whole and leave it unchanged, then run again", file=path)


def _identity(status: os.stat_result) -> tuple[int, int, int, int]:
    return status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns


def _read_into_memory(handle: BinaryIO, size: int, path: Path, ranges: Sequence[tuple[int, int]]) -> mmap.mmap:
    """The file's bytes (those of `ranges`) in anonymous memory (an mmap, so every reader gets the same kind of
    object), read with plain reads: a file that shrinks meanwhile gives a short read, never a signal."""
    data = mmap.mmap(-1, size)
    view = memoryview(data)
    complete = True
    try:
        for start, end in ranges:
            start, end = max(0, start), min(size, end)
            handle.seek(start)
            while start < end:
                count = handle.readinto(view[start: min(end, start + _BLOCK)])
                if not count:
                    complete = False
                    break
                start += count
        complete = complete and os.fstat(handle.fileno()).st_size == size
    finally:
        view.release()
    if not complete:
        data.close()
        raise FileChanged("changed while it was read (its size is not the one it had when opened); the provider "
                          "must deliver it whole and leave it unchanged, then run again", file=path)
    return data
