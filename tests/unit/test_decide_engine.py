"""Decide's DuckDB never writes personal data to disk: DuckDB's own default spills an in-memory database's overflow
into `.tmp` in the current directory, outside the owner-only workdir."""

from __future__ import annotations

import duckdb
import pytest

from pipeline import engine

TOO_BIG = "SELECT i, md5(i::VARCHAR) AS m FROM range(2000000) t(i) ORDER BY m"   # spills at 50 MB by default


def test_a_query_larger_than_memory_stops_instead_of_spilling_into_the_current_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with engine.connect() as db:
        db.execute("SET memory_limit = '50MB'")
        db.execute("SET threads = 1")
        with pytest.raises(duckdb.OutOfMemoryException):
            db.sql(TOO_BIG).fetchall()
    assert list(tmp_path.iterdir()) == []
