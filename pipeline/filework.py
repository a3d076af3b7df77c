"""Work on a run's files that several stages share: a file's sha256, one worker process per file, and a text
file replaced at once."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def sha256_of(path: Path) -> str:
    """A file's sha256, read in 1 MiB blocks (input files reach gigabytes)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def map_files(func: Callable[[T], R], items: Sequence[T], workers: int) -> list[R]:
    """Run `func` over the files of a source, in worker processes when there is more than one file to share."""
    if workers <= 1 or len(items) <= 1:
        return [func(item) for item in items]
    with ProcessPoolExecutor(max_workers=min(workers, len(items))) as pool:
        return list(pool.map(func, items))


def replace_text(target: Path, text: str) -> Path:
    """Write `target` whole or not at all (a temporary file beside it, then a rename): sources staged at once in
    separate processes read each other's small summary files, and must never see one half written."""
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(target)
    return target
