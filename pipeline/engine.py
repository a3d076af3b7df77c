"""The one way EIKIS opens DuckDB: the engine decide's §9 queries run in (`income`, `households`, `connections`),
and the VID staging's mark of corrected documents (`sources.vidversions`).

In memory and nowhere else: DuckDB's default for an in-memory database spills what does not fit to a `.tmp` folder
in the current directory, which would put personal income outside the owner-only workdir. Without a temporary
directory a month too large for memory stops with DuckDB's out-of-memory error instead. No progress bar either: a
long query would draw one on the terminal of `eikis run`.
"""

from __future__ import annotations

import duckdb


def connect() -> duckdb.DuckDBPyConnection:
    """A fresh in-memory DuckDB that never writes to disk (close it, or use it in a `with`)."""
    db = duckdb.connect(config={"temp_directory": ""})
    db.execute("SET enable_progress_bar = false")
    return db
