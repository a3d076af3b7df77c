"""`pipeline.inbox`, the one checked door into a period's inbox (issues 20.4, 21.1, 28): the shape checks on
real folders, and the private copy every reader reads."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from pathlib import Path

import pytest

from pipeline.errors import SourceError
from pipeline.inbox import listing, private_copies

P = "2025-01"


def folder(tmp_path: Path, name: str) -> Path:
    path = tmp_path / "inbox" / P / name
    path.mkdir(parents=True)
    return path


def test_files_are_listed_by_suffix_in_any_case_and_other_files_are_left_alone(tmp_path):
    vid = folder(tmp_path, "vid")
    for name in ("b.XML", "a.xml", "README.txt", ".upload.part"):
        (vid / name).write_text("x", encoding="utf-8")
    (vid / ".snapshot").mkdir()
    assert [p.name for p in listing(tmp_path / "inbox", P, "vid", ".xml")] == ["a.xml", "b.XML"]


@pytest.mark.parametrize("make, reason", [
    (lambda f: (f / "late").mkdir(), "is a subfolder"),
    (lambda f: (f / "x.xml").mkdir(), "not a regular file"),
    (lambda f: os.mkfifo(f / "x.xml"), "not a regular file"),
    (lambda f: (f / "x.xml").symlink_to("/etc/hostname"), "symbolic link"),
    (lambda f: (f / "other").symlink_to("/etc", target_is_directory=True), "symbolic link"),
])
def test_a_folder_of_files_refuses_what_would_be_skipped_or_followed(tmp_path, make, reason):
    vid = folder(tmp_path, "vid")
    (vid / "a.xml").write_text("x", encoding="utf-8")
    make(vid)
    with pytest.raises(SourceError, match=reason):
        listing(tmp_path / "inbox", P, "vid", ".xml")


def test_a_folder_of_folders_refuses_files_and_links(tmp_path):
    contracts = folder(tmp_path, "contracts")
    (contracts / "40003032949").mkdir()
    assert [p.name for p in listing(tmp_path / "inbox", P, "contracts", None)] == ["40003032949"]
    (contracts / "list.csv").write_text("x", encoding="utf-8")
    with pytest.raises(SourceError, match="only folders belong in contracts/"):
        listing(tmp_path / "inbox", P, "contracts", None)


def test_links_anywhere_below_the_inbox_root_are_refused_but_the_root_may_be_one(tmp_path):
    real = folder(tmp_path, "connections") / "gas"
    real.mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "inbox", target_is_directory=True)
    assert listing(tmp_path / "link", P, "connections/gas", ".csv") == []
    (tmp_path / "elsewhere").mkdir()
    real.rmdir()
    real.symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    with pytest.raises(SourceError, match="connections/gas: is a symbolic link"):
        listing(tmp_path / "inbox", P, "connections/gas", ".csv")


@pytest.mark.parametrize("period", ["２０２５-01", "2025-13", "../x"])
def test_the_period_must_be_a_real_month_in_ascii_digits(tmp_path, period):
    with pytest.raises(SourceError, match="not a YYYY-MM month in ASCII digits"):
        listing(tmp_path, period, "vid", ".xml")


def test_private_copies_are_read_only_with_the_size_and_sha256_of_the_bytes_copied(tmp_path):
    vid = folder(tmp_path, "vid")
    (vid / "a.xml").write_bytes(b"<a/>" * 1000)
    [copy] = private_copies(tmp_path / "inbox", P, [vid / "a.xml"], tmp_path / "work" / "inbox")
    assert copy.label == "vid/a.xml" and copy.path == tmp_path / "work" / "inbox" / "vid" / "a.xml"
    assert copy.size == 4000 and copy.sha256 == hashlib.sha256(b"<a/>" * 1000).hexdigest()
    assert copy.path.read_bytes() == b"<a/>" * 1000 and copy.path.stat().st_mode & 0o777 == 0o400
    (vid / "a.xml").write_bytes(b"rewritten")
    assert copy.path.read_bytes() == b"<a/>" * 1000


def test_a_file_growing_while_it_is_copied_is_refused(tmp_path):
    vid = folder(tmp_path, "vid")
    path = vid / "a.xml"
    path.write_bytes(b"x" * (64 << 20))
    stop = threading.Event()

    def append() -> None:
        with path.open("ab") as handle:
            while not stop.is_set():
                handle.write(b"y")
                handle.flush()
                time.sleep(0.0005)

    writer = threading.Thread(target=append)
    writer.start()
    try:
        time.sleep(0.01)
        with pytest.raises(SourceError, match="vid/a.xml: changed while the run copied it"):
            private_copies(tmp_path / "inbox", P, [path], tmp_path / "work" / "inbox")
    finally:
        stop.set()
        writer.join()
    assert not list((tmp_path / "work" / "inbox" / "vid").iterdir())
