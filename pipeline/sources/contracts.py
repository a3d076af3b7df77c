"""Traders' contract lists for the ALDIS flow (CONTRACTS §12, the "ALDIS Provider Contract" channel).

Layout: `<inbox>/<P>/contracts/<trader_reg_no>/*.csv`, §6 dialect, `contract_number;aris_code;address;status`.
The folder names the trader, so a folder that is not an 11-digit registration number, or a file outside a
trader's folder, stops the run: its rows could not be attributed, and its trader's protected users would wrongly
be returned as "no contract list". A wrong header or a ragged row is a whole-file error too (`pipeline.csvio`);
a bad row is quarantined with a reason code and simply is not in the list, so a SOPA record naming that contract
goes back to SOPA as CONTRACT_NOT_FOUND.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipeline.csvio import read_rows
from pipeline.digits import is_ascii_digits
from pipeline.errors import SourceError
from pipeline.inbox import InboxCopy, listing
from pipeline.quality.reasons import Reason
from pipeline.sources.common import Quarantine
from pipeline.traders import is_reg_no

SOURCE = "contracts"
FOLDER = "contracts"
HEADER = ("contract_number", "aris_code", "address", "status")
STATUSES = ("ACTIVE", "CLOSED")
COLUMNS = ("trader_reg_no", *HEADER, "file", "line")


@dataclass(frozen=True)
class Contract:
    contract_number: str
    aris_code: str
    address: str
    status: str


@dataclass
class ContractLists:
    """Every trader's list for P: the traders that sent one, their valid rows, the quarantine and the inputs."""

    contracts: dict[str, dict[str, Contract]] = field(default_factory=dict)  # reg_no -> contract_number -> row
    quarantine: Quarantine = field(default_factory=lambda: Quarantine(SOURCE))
    files: list[dict[str, object]] = field(default_factory=list)  # file label, sha256, records
    staged: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(COLUMNS)))

    def sent_list(self, reg_no: str) -> bool:
        return reg_no in self.contracts

    def active(self, reg_no: str, contract_number: str) -> Contract | None:
        contract = self.contracts.get(reg_no, {}).get(contract_number)
        return contract if contract is not None and contract.status == "ACTIVE" else None

    @property
    def records(self) -> int:
        return sum(int(item["records"]) for item in self.files)


def row_problem(row: dict[str, str]) -> tuple[Reason, str] | None:
    """The record checks of one contract row, first failing wins."""
    if not row["contract_number"].strip():
        return Reason.MISSING_VALUE, "contract_number is empty"
    if row["status"] not in STATUSES:
        return Reason.UNKNOWN_ENUM, f"status is not one of {'|'.join(STATUSES)}"
    code = row["aris_code"]
    if not is_ascii_digits(code, 9):
        return Reason.INVALID_ARIS_CODE, "aris_code is not 9 digits"
    return None


def trader_folders(inbox: Path, period: str) -> dict[str, list[Path]]:
    """`reg_no -> its *.csv files` (sorted) in `<inbox>/<P>/contracts/`, listed through the inbox's checked door
    (`pipeline.inbox.listing`: a link, a file directly in `contracts/`, a subfolder of a trader's folder or a
    folder named like a list stops the run); a trader folder without a CSV file sent no list."""
    found: dict[str, list[Path]] = {}
    for entry in listing(inbox, period, FOLDER, None):
        if not is_reg_no(entry.name):
            raise SourceError("contract folder name is not an 11-digit trader registration number", file=entry)
        files = listing(inbox, period, f"{FOLDER}/{entry.name}", ".csv")
        if files:
            found[entry.name] = files
    return found


def read_contract_lists(lists_by_trader: dict[str, list[InboxCopy]]) -> ContractLists:
    """Read every trader's contract list for P from the run's private copies (`trader_folders`, then
    `pipeline.inbox.private_copies`); files are named by their label under `<inbox>/<P>`."""
    lists = ContractLists()
    staged: list[dict[str, object]] = []
    for reg_no, files in lists_by_trader.items():
        rows: list[dict[str, object]] = []
        for copy in files:
            label = copy.label
            count = 0
            for line, row in read_rows(copy.path, HEADER):
                count += 1
                problem = row_problem(row)
                if problem:
                    lists.quarantine.add(file=label, record=count, line=line, reason=problem[0],
                                         detail=f"contract {row['contract_number'][:40]}: {problem[1]}",
                                         aris_code=row["aris_code"], record_key=row["contract_number"],
                                         sender_text=row["address"])
                    continue
                rows.append({"trader_reg_no": reg_no, **row, "contract_number": row["contract_number"].strip(),
                             "file": label, "line": line, "record": count})
            lists.files.append({"file": label, "sha256": copy.sha256, "records": count})
        kept = _without_repeats(rows, lists.quarantine)
        lists.contracts[reg_no] = {
            str(row["contract_number"]): Contract(str(row["contract_number"]), str(row["aris_code"]),
                                                  str(row["address"]), str(row["status"]))
            for row in kept
        }
        staged.extend(kept)
    lists.staged = pd.DataFrame(staged, columns=[*COLUMNS, "record"])[list(COLUMNS)]
    return lists


def _without_repeats(rows: list[dict[str, object]], quarantine: Quarantine) -> list[dict[str, object]]:
    """A contract number must be unique in its trader's files: with two rows the list is ambiguous (which
    address, which status?), so every copy is quarantined and the contract counts as not found."""
    counts: dict[object, int] = {}
    for row in rows:
        counts[row["contract_number"]] = counts.get(row["contract_number"], 0) + 1
    for row in rows:
        if counts[row["contract_number"]] > 1:
            quarantine.add(file=str(row["file"]), record=int(row["record"]), line=int(row["line"]),
                           reason=Reason.DUPLICATE_OBJECT,
                           detail=f"contract {str(row['contract_number'])[:40]}: appears more than once",
                           aris_code=str(row["aris_code"]), record_key=str(row["contract_number"]),
                           sender_text=str(row["address"]))
    return [row for row in rows if counts[row["contract_number"]] == 1]
