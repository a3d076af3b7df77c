"""Is the store usable? Asked before a run does any work, so a run whose store is down publishes nothing.

Errors are described in one line without personal data: a URL's password is hidden, and a database's own
message is shown only for connection and URL problems (other errors can carry SQL parameters, i.e. data).
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.exc import ArgumentError, InterfaceError, OperationalError, SQLAlchemyError

from pipeline.errors import StoreError
from pipeline.store.db import connect
from pipeline.store.url import safe_url

__all__ = ["check_store", "describe", "safe_url"]


def describe(exc: SQLAlchemyError) -> str:
    """One line about a store error that holds no personal data."""
    if isinstance(exc, OperationalError | InterfaceError):
        detail = str(exc.orig) if exc.orig is not None else ""
        return (detail.strip().splitlines() or [type(exc).__name__])[0]
    if isinstance(exc, ArgumentError):
        return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return type(exc).__name__


def check_store(url: str) -> None:
    """Connect (the store must be at the current schema version) and ask one question; StoreError (one line)
    when any of it fails."""
    try:
        engine = connect(url)
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        finally:
            engine.dispose()
    except SQLAlchemyError as exc:
        raise StoreError(f"the store {safe_url(url)} cannot be used: {describe(exc)}") from None
