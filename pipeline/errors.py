"""Errors a user can act on.

Every error that stops a run names the file, the record (or line) and the reason, in one line, and never carries
a personal code, a name or an income: messages go to logs and to stderr, which are read outside the bureau.
"""

from __future__ import annotations

from pathlib import Path


class EikisError(Exception):
    """Base class for errors that stop a run with a one-line, personal-data-free reason."""

    def __init__(
        self,
        reason: str,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        record: int | None = None,
    ) -> None:
        self.reason = reason
        self.file = str(file) if file is not None else None
        self.line = line
        self.record = record
        super().__init__(self.one_line())

    def one_line(self) -> str:
        """The message as one line: `file:line (record N): reason`."""
        where = ""
        if self.file:
            where = self.file
            if self.line is not None:
                where += f":{self.line}"
            if self.record is not None:
                where += f" (record {self.record})"
            where += ": "
        return (where + self.reason).replace("\n", " ")


class SourceError(EikisError):
    """A whole-file problem: missing source, malformed file, wrong namespace, XSD violation, bad encoding."""


class ValidationFailed(EikisError):
    """A data-quality suite failed on a staged table; the run must not publish."""


class PolicyError(EikisError):
    """The policy file is missing, malformed, or has no version in force for the period."""


class StoreError(EikisError):
    """The store (database) cannot be reached or used."""


class DeliveryError(EikisError):
    """A recipient's file could not be delivered (after retries) or failed verification."""


class ConfigError(EikisError):
    """A setting (environment variable or command-line option) is missing or out of range."""
