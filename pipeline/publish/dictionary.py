"""The data dictionary of every recipient file: which files exist, their columns, each column's type.

One table, read by the code that writes the spreadsheet companions (`publish/companion.py`: a column's type
decides whether a cell becomes a number, a date or text) and by the recipients' guides (`docs/recipients/`,
generated from it), so a file's columns, their meaning and their types cannot drift apart. A column a writer puts
in a file but this table does not know stops the companion writer and fails the guides' test.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from fnmatch import fnmatchcase


class Kind(StrEnum):
    """How a spreadsheet shows a column's cells."""

    TEXT = "text"          # ids, codes, addresses: text, never a number (leading zeros, 11-digit numbers kept)
    INTEGER = "integer"    # counts and 1/0 flags
    AMOUNT = "amount"      # EUR with two decimals
    DATE = "date"          # YYYY-MM-DD


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind


@dataclass(frozen=True)
class FileKind:
    """One kind of recipient file: its name, where it sits under `<outbox>/<P>` (shell patterns), its columns,
    and whether people open it (then the outbox holds a typed `.xlsx` companion beside it, CONTRACTS v1.2 §10)."""

    key: str
    name: str
    patterns: tuple[str, ...]
    columns: tuple[str, ...]
    companion: bool

    def holds(self, relative: str) -> bool:
        return any(fnmatchcase(relative, pattern) for pattern in self.patterns)


COLUMNS: dict[str, Column] = {column.name: column for column in (
    Column("object_id", Kind.TEXT),
    Column("aris_code", Kind.TEXT),
    Column("address", Kind.TEXT),
    Column("connection_kind", Kind.TEXT),
    Column("eligible", Kind.INTEGER),
    Column("eligible_dwellings", Kind.INTEGER),
    Column("support_types", Kind.TEXT),
    Column("reason", Kind.TEXT),
    Column("status", Kind.TEXT),
    Column("contract_number", Kind.TEXT),
    Column("decision_valid_from", Kind.DATE),
    Column("decision_valid_to", Kind.DATE),
    Column("file", Kind.TEXT),
    Column("record", Kind.INTEGER),
    Column("decision_number", Kind.TEXT),
    Column("trader_reg_no", Kind.TEXT),
    Column("claim_id", Kind.TEXT),
    Column("support_type", Kind.TEXT),
    Column("claimed_eur", Kind.AMOUNT),
    Column("accepted_eur", Kind.AMOUNT),
    Column("supplier", Kind.TEXT),
    Column("previously_paid_eur", Kind.AMOUNT),
    Column("payout_eur", Kind.AMOUNT),
)}

SUPPLIER = ("object_id", "aris_code", "address", "connection_kind", "eligible", "eligible_dwellings", "support_types")
SUPPLIER_FOLDERS = ("traders_electricity/*", "traders_gas/*", "heat/*")

# The DSOs' lists are the machine exchange the DSO sent (and passes on); the suppliers that bill households
# (traders, heat suppliers) and the municipalities are the people who open their files.
FILE_KINDS: tuple[FileKind, ...] = (
    FileKind("dso", "eligibility.csv", ("dso_electricity/eligibility.csv", "dso_gas/eligibility.csv"), SUPPLIER,
             companion=False),
    FileKind("supplier", "eligibility.csv", tuple(f"{folder}/eligibility.csv" for folder in SUPPLIER_FOLDERS),
             SUPPLIER, companion=True),
    FileKind("address_errors", "address_errors.csv", ("dso_*/address_errors.csv", "heat/*/address_errors.csv"),
             ("object_id", "aris_code", "address", "reason"), companion=False),
    FileKind("municipality", "households.csv", ("municipalities/*/households.csv",),
             ("aris_code", "address", "eligible", "status"), companion=True),
    FileKind("unreached", "unreached.csv", ("municipalities/*/unreached.csv",), ("aris_code", "address"),
             companion=True),
    FileKind("protected_contracts", "protected_contracts.csv", ("traders/*/protected_contracts.csv",),
             ("contract_number", "aris_code", "address", "decision_valid_from", "decision_valid_to"), companion=True),
    FileKind("sopa_returns", "sopa_returns.csv", ("sopa_returns.csv",),
             ("file", "record", "decision_number", "trader_reg_no", "reason"), companion=False),
    FileKind("claim_result", "claim_result.csv", tuple(f"{folder}/claim_result.csv" for folder in SUPPLIER_FOLDERS),
             ("claim_id", "object_id", "support_type", "status", "reason", "claimed_eur", "accepted_eur"),
             companion=True),
    FileKind("payout", "payout.csv", ("payout.csv",),
             ("supplier", "claimed_eur", "accepted_eur", "previously_paid_eur", "payout_eur"), companion=True),
    FileKind("audit_sample", "audit_sample.csv", ("audit_sample.csv",),
             ("supplier", "claim_id", "object_id", "support_type", "accepted_eur"), companion=True),
)


def file_kind(relative: str) -> FileKind | None:
    """The kind of the file at `relative` under `<outbox>/<P>`, or None for a file the dictionary does not list."""
    return next((kind for kind in FILE_KINDS if kind.holds(relative)), None)


def column(name: str) -> Column:
    """The dictionary's entry for a column; a column it does not know is an error a writer must fix here."""
    try:
        return COLUMNS[name]
    except KeyError:
        raise KeyError(f"column {name!r} is not in the data dictionary (pipeline/publish/dictionary.py)") from None
