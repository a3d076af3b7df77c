"""Bytes that end right before a no-access page, for scanning with the compiled walk.

Why: the walk reads a memory map, and AddressSanitizer cannot see a read past the end of a mapped file (the page
is mapped). Placed so its last byte is the last one before a PROT_NONE page, any read past the end of the bytes
faults at once (SIGSEGV), with or without a sanitizer build.
"""

from __future__ import annotations

import ctypes
import mmap
from typing import Any

_LIBC = ctypes.CDLL(None, use_errno=True)
_LIBC.mmap.restype = ctypes.c_void_p
_LIBC.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
_LIBC.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
_LIBC.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
_FAILED = ctypes.c_void_p(-1).value
_PROT_NONE = 0  # not in the mmap module


class GuardedPage:
    """A writable region of `capacity` bytes (rounded up to pages) followed by one PROT_NONE page."""

    def __init__(self, capacity: int) -> None:
        page = mmap.PAGESIZE
        self.boundary = max(page, -(-capacity // page) * page)
        self.size = self.boundary + page
        address = _LIBC.mmap(None, self.size, mmap.PROT_READ | mmap.PROT_WRITE,
                             mmap.MAP_PRIVATE | mmap.MAP_ANON, -1, 0)
        if address in (None, _FAILED):
            raise OSError(ctypes.get_errno(), "mmap failed")
        self.address = address
        if _LIBC.mprotect(address + self.boundary, page, _PROT_NONE) != 0:
            raise OSError(ctypes.get_errno(), "mprotect failed")

    def ending_at_guard(self, data: bytes) -> Any:
        """A buffer holding `data`, whose byte after the last one is the no-access page."""
        if len(data) > self.boundary:
            raise ValueError("data larger than the guarded region")
        start = self.address + self.boundary - len(data)
        ctypes.memmove(start, data, len(data))
        return (ctypes.c_char * len(data)).from_address(start)

    def close(self) -> None:
        if self.address is not None:
            _LIBC.munmap(self.address, self.size)
            self.address = None

    def __enter__(self) -> GuardedPage:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
