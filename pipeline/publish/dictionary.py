"""The data dictionary of every recipient file: which files exist, their columns, each column's type and meaning,
the codes a column can hold and an example, in Latvian and English.

One table, read by the code that writes the spreadsheet companions (`publish/companion.py`: a column's type
decides whether a cell becomes a number, a date or text) and by the recipients' guides (`publish/guides.py`
generates `docs/recipients/` from it), so a file's columns, their meaning, their codes and their types cannot
drift apart. A column a writer puts in a file but this table does not know stops the companion writer and fails
the guides' test; the code lists are read from the code's own constants, so a new code without words here fails
the guides' generation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from fnmatch import fnmatchcase

from pipeline.decide.aldis import AldisReason
from pipeline.decide.claims import (
    ACCEPTED,
    DUPLICATE_CLAIM,
    DWELLINGS_EXCEEDED,
    MALFORMED,
    NOT_CLAIMABLE,
    NOT_ELIGIBLE,
    OVER_CAP,
    PROTECTED_USER,
    REDUCED,
    REJECTED,
    SUPPORT_NOT_ON,
    UNKNOWN_OBJECT,
)
from pipeline.decide.connections import ADDRESS_ERROR_REASONS
from pipeline.decide.rules import ELIGIBLE, REVIEW, SUPPORT_ORDER
from pipeline.decide.rules import NOT_ELIGIBLE as HOUSEHOLD_NOT_ELIGIBLE
from pipeline.quality.reasons import Reason
from pipeline.sources.connections import KINDS


class Kind(StrEnum):
    """How a spreadsheet shows a column's cells."""

    TEXT = "text"          # ids, codes, addresses: text, never a number (leading zeros, 11-digit numbers kept)
    INTEGER = "integer"    # counts and 1/0 flags
    AMOUNT = "amount"      # EUR with two decimals
    QUANTITY = "quantity"  # kWh with up to three decimals
    DATE = "date"          # YYYY-MM-DD


@dataclass(frozen=True)
class Words:
    """One text in both languages of the guides: Latvian first, English second."""

    lv: str
    en: str

    def __getitem__(self, language: str) -> str:
        return self.lv if language == "lv" else self.en


KIND_WORDS = {Kind.TEXT: Words("teksts", "text"), Kind.INTEGER: Words("vesels skaitlis", "whole number"),
              Kind.AMOUNT: Words("summa EUR, 2 decimālzīmes", "amount in EUR, 2 decimals"),
              Kind.QUANTITY: Words("kWh, līdz 3 decimālzīmēm", "kWh, up to 3 decimals"),
              Kind.DATE: Words("datums GGGG-MM-DD", "date YYYY-MM-DD")}


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    meaning: Words


@dataclass(frozen=True)
class FileKind:
    """One kind of recipient file: its name, where it sits under `<outbox>/<P>` (shell patterns), its columns,
    what it holds, and whether people open it (then the outbox holds a typed `.xlsx` companion beside it,
    CONTRACTS v1.2 §10). `meanings` words a column's meaning for this file where it differs from the general
    one; `codes` names the code list (`CODES`) of a column; `example` is a few rows as the writer would write them."""

    key: str
    name: str
    patterns: tuple[str, ...]
    columns: tuple[str, ...]
    companion: bool
    about: Words
    example: tuple[tuple[str, ...], ...]
    meanings: dict[str, Words] = field(default_factory=dict)
    codes: dict[str, str] = field(default_factory=dict)

    def holds(self, relative: str) -> bool:
        return any(fnmatchcase(relative, pattern) for pattern in self.patterns)

    def meaning(self, name: str) -> Words:
        return self.meanings.get(name) or column(name).meaning


COLUMNS: dict[str, Column] = {item.name: item for item in (
    Column("object_id", Kind.TEXT, Words("objekta identifikators tieši tā, kā sūtītājs to norādīja",
                                         "the object identifier exactly as its sender gave it")),
    Column("aris_code", Kind.TEXT, Words("adreses 9 ciparu kods Valsts adrešu reģistrā (VZD ARIS)",
                                         "9-digit ARIS code of the address (State Land Service address register)")),
    Column("address", Kind.TEXT, Words("adrese tekstā, kā to norādīja sūtītāja saraksts",
                                       "the address text as the sender's list gave it")),
    Column("connection_kind", Kind.TEXT, Words("pieslēguma veids", "the kind of connection")),
    Column("eligible", Kind.INTEGER, Words("`1` objekts saņem atbalstu mēnesim P; `0` nesaņem (`DISCONNECTED` "
                                           "objekts vienmēr `0`)",
                                           "`1` the object gets the support for P; `0` it does not (a "
                                           "`DISCONNECTED` object is always `0`)")),
    Column("eligible_dwellings", Kind.INTEGER, Words(
        "`COMMON`: cik atbalsttiesīgu mājsaimniecību dzīvo ēkā (tās kodā vai tās dzīvokļos); `INDIVIDUAL`: `1` "
        "vai `0`", "`COMMON`: how many eligible households live in the building (at its code or its flats); "
        "`INDIVIDUAL`: `1` or `0`")),
    Column("support_types", Kind.TEXT, Words(
        "atbalsttiesīgam objektam: mēnesī P ieslēgtie jūsu energoresursa atbalsta veidi, atdalīti ar `|`; citādi "
        "tukšs", "for an eligible object, the support types switched on for P for your commodity, joined with "
        "`|`; empty otherwise")),
    Column("reason", Kind.TEXT, Words("iemesla kods", "the reason code")),
    Column("status", Kind.TEXT, Words("statuss", "the status")),
    Column("contract_number", Kind.TEXT, Words("līguma numurs no jūsu līgumu saraksta",
                                               "the contract number from your contract list")),
    Column("decision_valid_from", Kind.DATE, Words("pašvaldības lēmuma spēkā stāšanās diena",
                                                   "the first day the municipality's decision is valid")),
    Column("decision_valid_to", Kind.DATE, Words("pašvaldības lēmuma pēdējā spēkā esības diena (tukšs: bez beigu "
                                                 "datuma)", "the last day the municipality's decision is valid "
                                                 "(empty: open-ended)")),
    Column("file", Kind.TEXT, Words("SOPA datnes nosaukums, kurā bija ieraksts",
                                    "the name of the SOPA file that held the record")),
    Column("record", Kind.INTEGER, Words("ieraksta (`ProtectedUser` elementa) kārtas numurs datnē, no 1",
                                         "the record's (`ProtectedUser` element's) position in the file, from 1")),
    Column("decision_number", Kind.TEXT, Words("lēmuma numurs, kā SOPA to nosūtīja (tukšs, ja tā nav)",
                                               "the decision number as SOPA sent it (empty when there is none)")),
    Column("trader_reg_no", Kind.TEXT, Words("tirgotāja 11 ciparu reģistrācijas numurs, kā SOPA to nosūtīja",
                                             "the trader's 11-digit registration number as SOPA sent it")),
    Column("claim_id", Kind.TEXT, Words("jūsu prasījuma rindas identifikators", "your claim line's identifier")),
    Column("submitted_at", Kind.TEXT, Words("kad nosūtījāt rindu, `GGGG-MM-DDTHH:MM:SS`",
                                            "when you sent the line, `YYYY-MM-DDTHH:MM:SS`")),
    Column("support_type", Kind.TEXT, Words("atbalsta veids", "the support type")),
    Column("dwellings", Kind.INTEGER, Words("cik mājokļiem piemērojāt atbalstu (1 vai vairāk, ne vairāk kā rindas "
                                            "`eligible_dwellings`)", "how many dwellings you billed with the "
                                            "support (1 or more, at most the row's `eligible_dwellings`)")),
    Column("quantity_kwh", Kind.QUANTITY, Words("ar atbalstu rēķinātās kWh", "the kWh billed with the support")),
    Column("amount_eur", Kind.AMOUNT, Words("prasītā summa EUR (punkts kā decimālzīme, bez zīmes un tūkstošu "
                                            "atdalītāja)", "the amount you claim in EUR (a `.` point, no sign or "
                                            "thousands separator)")),
    Column("claimed_eur", Kind.AMOUNT, Words("prasītā summa EUR", "the amount claimed in EUR")),
    Column("accepted_eur", Kind.AMOUNT, Words("pieņemtā (izmaksājamā) summa EUR", "the amount accepted (paid) in "
                                              "EUR")),
    Column("correction_set", Kind.TEXT, Words(
        "labojumu kopas numurs (`01`, `02`, …), kuras rinda padarīja objektu atbalsttiesīgu pēc apstiprināta "
        "pārsūdzības lēmuma; tukšs, ja izšķīra sākotnējā datne", "the number of the correction set (`01`, `02`, …) "
        "whose row made the object claimable after an upheld appeal; empty when the original file decided")),
    Column("supplier", Kind.TEXT, Words("piegādātāja mape: `traders_electricity/<reģ. nr.>`, `traders_gas/<reģ. "
                                        "nr.>` vai `heat/<reģ. nr.>`", "the supplier's folder: "
                                        "`traders_electricity/<reg. no.>`, `traders_gas/<reg. no.>` or "
                                        "`heat/<reg. no.>`")),
    Column("previously_paid_eur", Kind.AMOUNT, Words("ko iepriekšējie apstiprinātie šī mēneša aprēķini jau "
                                                     "izmaksāja", "what earlier approved runs for P already paid")),
    Column("payout_eur", Kind.AMOUNT, Words("`accepted_eur − previously_paid_eur`: izmaksājamā summa (negatīva: "
                                            "BVKB atgūst starpību)", "`accepted_eur − previously_paid_eur`: the "
                                            "payout (negative: BVKB recovers the difference)")),
)}

# Words for every code a recipient file can hold. The codes themselves come from the code (`CODES` below).
_LABELS: dict[str, Words] = {
    ELIGIBLE: Words("atbalsttiesīga: vidējie mēneša ienākumi uz vienu locekli ir slieksnī vai zem tā",
                    "eligible: the average monthly income per member is at or under the threshold"),
    HOUSEHOLD_NOT_ELIGIBLE: Words("nav atbalsttiesīga: vidējie ienākumi pārsniedz slieksni",
                                  "not eligible: the average income is over the threshold"),
    REVIEW: Words("tiek pārbaudīta: kāda locekļa datus pārbauda BVKB darbinieki; pagaidām nav atbalsttiesīga",
                  "being checked: a member's data is being checked by BVKB staff; not eligible for now"),
    "ELECTRICITY_BASE": Words("elektroenerģija, pirmās 100 kWh mēnesī, visu gadu",
                              "electricity, the first 100 kWh a month, all year"),
    "ELECTRICITY_HEATING": Words("elektroenerģija apkurei, oktobris–aprīlis", "electricity for heating, "
                                 "October–April"),
    "GAS_HEATING": Words("dabasgāze apkurei, oktobris–aprīlis", "gas for heating, October–April"),
    "DISTRICT_HEAT": Words("centralizētā siltumapgāde, oktobris–aprīlis", "district heat, October–April"),
    "DECENTRALISED_FUEL": Words("decentralizētās apkures kurināmais (granulas, briketes, malka, sašķidrinātā gāze, "
                                "dīzeļdegviela), oktobris–aprīlis; maksā pašvaldība",
                                "decentralised heating fuel (pellets, briquettes, firewood, LPG, diesel), "
                                "October–April; paid by the municipality"),
    PROTECTED_USER: Words("aizsargātais lietotājs (ALDIS): tikai elektroenerģijas tirgotājiem, `object_id` ir "
                          "līguma numurs", "protected user (ALDIS): electricity traders only, `object_id` is the "
                          "contract number"),
    "INDIVIDUAL": Words("viens mājoklis vai māja", "one dwelling or house"),
    "COMMON": Words("viens pieslēgums visai ēkai (netiešā norēķinu kārtība: pārvaldnieks sadala rēķinu)",
                    "one connection for a whole building (indirect billing: the manager splits the bill)"),
    "UNKNOWN_ADDRESS": Words("kods nav esoša ARIS adrese", "the code is not an existing ARIS address"),
    "ADDRESS_DELETED": Words("adrese ARIS ir dzēsta", "deleted in ARIS"),
    "ADDRESS_ERRONEOUS": Words("adrese ARIS atzīmēta kā kļūdaina", "marked erroneous in ARIS"),
    Reason.DUPLICATE_OBJECT: Words("tas pats `object_id` divreiz", "the same `object_id` twice"),
    Reason.INVALID_REG_NO: Words("tirgotāja reģistrācijas numurs nav 11 cipari",
                                 "the trader's registration number is not 11 digits"),
    Reason.INVALID_ARIS_CODE: Words("ARIS kods nav 9 cipari", "the ARIS code is not 9 digits"),
    Reason.UNKNOWN_ENUM: Words("`connection_kind` vai `status` ārpus atļautajām vērtībām",
                               "a `connection_kind` or `status` outside the allowed values"),
    Reason.MISSING_VALUE: Words("trūkst obligātas vērtības", "a required value is missing"),
    AldisReason.INVALID_PERSON_CODE: Words("personas kods neatbilst noteikumiem (ieraksts arī nodots karantīnā)",
                                           "the personal code fails the rule (the record is also quarantined)"),
    AldisReason.STATUS_NOT_FINAL: Words("iesnieguma statuss nav `Pabeigts`", "the application status is not "
                                        "`Pabeigts`"),
    AldisReason.NO_DECISION: Words("nav lēmuma numura", "no decision number"),
    AldisReason.DECISION_NOT_IN_PERIOD: Words("lēmums nav spēkā nevienā mēneša P dienā",
                                              "the decision is valid on no day of P"),
    AldisReason.NO_CONTRACT: Words("nav līguma numura vai tirgotāja: bez tiem persona samazinājumu nesaņem",
                                   "no contract number or trader: without them the person gets no reduction"),
    AldisReason.TRADER_NOT_CONNECTED: Words("tirgotājs nav reģistrā vai vēl nav produkcijas vidē mēnesim P",
                                            "the trader is not in the register or not yet in production for P"),
    AldisReason.CONTRACT_LIST_MISSING: Words("tirgotājs mēnesim P nav atsūtījis līgumu sarakstu",
                                             "the trader sent no contract list for P"),
    AldisReason.CONTRACT_NOT_FOUND: Words("līguma nav tirgotāja sarakstā ar statusu `ACTIVE`",
                                          "the contract is not in the trader's list as `ACTIVE`"),
    AldisReason.DUPLICATE_CONTRACT: Words("cits ieraksts jau nodeva to pašu līgumu; nodod to ar mazāko lēmuma "
                                          "numuru", "another record already passed the same contract; the one "
                                          "with the smallest decision number passes"),
    ACCEPTED: Words("pieņemts pilnā apmērā", "accepted in full"),
    REDUCED: Words("pieņemts daļēji (`OVER_CAP`)", "accepted in part (`OVER_CAP`)"),
    REJECTED: Words("noraidīts; pieņemts 0.00", "rejected; 0.00 accepted"),
    MALFORMED: Words("vērtība neatbilst noteikumiem (rinda nodota karantīnā ar tās kodu) vai divas versijas ar to "
                     "pašu laiku (`CONFLICTING_CORRECTION`)", "a value breaks the rules (the line is quarantined "
                     "with its code), or two versions with the same time (`CONFLICTING_CORRECTION`)"),
    NOT_CLAIMABLE: Words("`DECENTRALISED_FUEL` (maksā pašvaldības) vai `PROTECTED_USER` ne no elektroenerģijas "
                         "mapes", "`DECENTRALISED_FUEL` (municipalities pay it), or `PROTECTED_USER` from a "
                         "non-electricity folder"),
    UNKNOWN_OBJECT: Words("objekta nav jūsu mēneša P publicētajā datnē", "the object is not in your own "
                          "published file for P"),
    SUPPORT_NOT_ON: Words("atbalsta veida nav rindas `support_types`", "the type is not among the row's "
                          "`support_types`"),
    DWELLINGS_EXCEEDED: Words("`dwellings` pārsniedz rindas `eligible_dwellings`", "`dwellings` is over the row's "
                              "`eligible_dwellings`"),
    DUPLICATE_CLAIM: Words("tas pats objekts un atbalsta veids citā jūsu `claim_id`; paliek mazākais `claim_id`",
                           "the same object and type under another of your `claim_id`s; the smallest stays"),
    OVER_CAP: Words("prasīts vairāk, nekā atļauj likme × kWh; pieņemts līdz griestiem",
                    "more than the rate × kWh allows; accepted up to the cap"),
    "": Words("(tukšs) nekas netika samazināts", "(empty) nothing was cut"),
}

# Words for a code that means something else in one list (`NOT_ELIGIBLE` of a claim is not a household's).
_LIST_LABELS: dict[str, dict[str, Words]] = {
    "claim_reason": {NOT_ELIGIBLE: Words("objekta rindā `eligible` ir 0", "the object's row has `eligible` 0")},
}

# Each code list in the order the code defines it: a new code without words above fails `code_list`.
CODES: dict[str, tuple[str, ...]] = {
    "household_status": (ELIGIBLE, HOUSEHOLD_NOT_ELIGIBLE, REVIEW),
    "support_type": SUPPORT_ORDER,
    "claim_support_type": (*SUPPORT_ORDER, PROTECTED_USER),
    "connection_kind": KINDS,
    "address_error": (*ADDRESS_ERROR_REASONS.values(), Reason.DUPLICATE_OBJECT, Reason.INVALID_REG_NO,
                      Reason.INVALID_ARIS_CODE, Reason.UNKNOWN_ENUM, Reason.MISSING_VALUE),
    "sopa_return": tuple(AldisReason),
    "claim_status": (ACCEPTED, REDUCED, REJECTED),
    "claim_reason": ("", MALFORMED, NOT_CLAIMABLE, UNKNOWN_OBJECT, NOT_ELIGIBLE, SUPPORT_NOT_ON, DWELLINGS_EXCEEDED,
                     DUPLICATE_CLAIM, OVER_CAP),
}


def code_list(key: str) -> list[tuple[str, Words]]:
    """The codes of one list with their words; a code the dictionary has no words for is an error to fix here."""
    labels = {**_LABELS, **_LIST_LABELS.get(key, {})}
    missing = [str(code) for code in CODES[key] if code not in labels]
    if missing:
        raise KeyError(f"codes {missing} of {key!r} have no words in the data dictionary "
                       "(pipeline/publish/dictionary.py)")
    return [(str(code), labels[code]) for code in CODES[key]]


SUPPLIER = ("object_id", "aris_code", "address", "connection_kind", "eligible", "eligible_dwellings", "support_types")
SUPPLIER_FOLDERS = ("traders_electricity/*", "traders_gas/*", "heat/*")
_SUPPLIER_EXAMPLE = (("E-000123", "100003011", "Brīvības iela 1 - 5, Rīga", "INDIVIDUAL", "1", "1",
                      "ELECTRICITY_BASE|ELECTRICITY_HEATING"),
                     ("E-000124", "101112233", "Ūdens iela 2, Jēkabpils", "COMMON", "1", "3", "ELECTRICITY_BASE"),
                     ("E-000125", "105301234", "Ļaudonas iela 3, Līvāni", "INDIVIDUAL", "0", "0", ""))
_SUPPLIER_CODES = {"connection_kind": "connection_kind", "support_types": "support_type"}

# The DSOs' lists are the machine exchange the DSO sent (and passes on); the suppliers that bill households
# (traders, heat suppliers) and the municipalities are the people who open their files.
FILE_KINDS: tuple[FileKind, ...] = (
    FileKind("dso", "eligibility.csv", ("dso_electricity/eligibility.csv", "dso_gas/eligibility.csv"), SUPPLIER,
             companion=False, about=Words(
                 "katra jūsu saraksta rinda, kuras adrese ir adrešu reģistrā, sakārtota pēc `object_id`; katram "
                 "tirgotājam EIKIS nosūta arī tā atbalsttiesīgos objektus",
                 "every row of your list whose address exists in the address register, sorted by `object_id`; "
                 "EIKIS also sends each trader the file of its own eligible objects"),
             example=_SUPPLIER_EXAMPLE, codes=_SUPPLIER_CODES),
    FileKind("supplier", "eligibility.csv", tuple(f"{folder}/eligibility.csv" for folder in SUPPLIER_FOLDERS),
             SUPPLIER, companion=True, about=Words(
                 "tirgotājam tikai **jūsu atbalsttiesīgie** objekti (`eligible` vienmēr `1`), siltumapgādes "
                 "komersantam visi jūsu objekti, kuru adrese ir adrešu reģistrā; sakārtoti pēc `object_id`. Objekts, "
                 "kura datnē nav, mēnesī P atbalstu nesaņem",
                 "for a trader only **your eligible** objects (`eligible` is always `1`), for a heat supplier "
                 "every one of your objects whose address exists in the address register; sorted by `object_id`. "
                 "An object missing from the file gets no support for P"),
             example=_SUPPLIER_EXAMPLE[:2], codes=_SUPPLIER_CODES),
    FileKind("address_errors", "address_errors.csv", ("dso_*/address_errors.csv", "heat/*/address_errors.csv"),
             ("object_id", "aris_code", "address", "reason"), companion=False, about=Words(
                 "tikai tad, ja ir kļūdas: jūsu rindas, par kurām nevarēja lemt, sakārtotas pēc `object_id` un "
                 "`reason`; izlabojiet tās savā reģistrā un nosūtiet nākamā mēneša sarakstā",
                 "only when there are errors: your rows that could not be decided, sorted by `object_id` then "
                 "`reason`; fix them in your register and send them in next month's list"),
             example=(("E-000999", "199999999", "Šķūņu iela 9, Rīga", "UNKNOWN_ADDRESS"),),
             meanings={"reason": Words("kāpēc par rindu nevarēja lemt", "why the row could not be decided")},
             codes={"reason": "address_error"}),
    FileKind("municipality", "households.csv", ("municipalities/*/households.csv",),
             ("aris_code", "address", "eligible", "status"), companion=True, about=Words(
                 "viena rinda katrai jūsu teritorijas adresei, kurā dzīvo vismaz viena uzskaitāma persona, "
                 "sakārtota pēc `aris_code`",
                 "one row per address in your territory where at least one counting person lives, sorted by "
                 "`aris_code`"),
             example=(("100003011", "Brīvības iela 1 - 5, Rīga", "1", ELIGIBLE),
                      ("100003012", "Brīvības iela 1 - 6, Rīga", "0", HOUSEHOLD_NOT_ELIGIBLE),
                      ("100003013", "Žagaru iela 4, Rīga", "0", REVIEW)),
             meanings={"address": Words("adrese tekstā no adrešu reģistra", "the address text from the address "
                                        "register"),
                       "eligible": Words("`1` mājsaimniecība adresē ir atbalsttiesīga (`status` `ELIGIBLE`); `0` "
                                         "nav vai tiek pārbaudīta (sk. `status`)",
                                         "`1` the household at the address is eligible (`status` `ELIGIBLE`); "
                                         "`0` it is not, or it is being checked (see `status`)"),
                       "status": Words("mājsaimniecības statuss", "the household's status")},
             codes={"status": "household_status"}),
    FileKind("unreached", "unreached.csv", ("municipalities/*/unreached.csv",), ("aris_code", "address"),
             companion=True, about=Words(
                 "jūsu atbalsttiesīgās adreses, kuras nesasniedz neviens piegādātāja saraksts (nav aktīva "
                 "elektroenerģijas, gāzes vai siltuma pieslēguma): mājsaimniecības, kuras uzrunāt tieši; "
                 "sakārtotas pēc `aris_code`",
                 "your eligible addresses that no supplier's list reaches (no active electricity, gas or heat "
                 "connection): the households to reach directly; sorted by `aris_code`"),
             example=(("101200345", "\"Ozoli\", Ņukšu pag., Ludzas nov."),),
             meanings={"address": Words("adrese tekstā no adrešu reģistra", "the address text from the address "
                                        "register")}),
    FileKind("protected_contracts", "protected_contracts.csv", ("traders/*/protected_contracts.csv",),
             ("contract_number", "aris_code", "address", "decision_valid_from", "decision_valid_to"),
             companion=True, about=Words(
                 "jūsu aizsargāto lietotāju līgumi mēnesim P (ALDIS): katram piemērojiet samazinājumu rēķinā; "
                 "sakārtoti pēc `contract_number`; tikai virsraksts, ja nav neviena līguma",
                 "your protected users' contracts for P (ALDIS): apply the reduction on each one's bill; sorted by "
                 "`contract_number`; the header only when there are none"),
             example=(("LV-2024-001234", "100003011", "Brīvības iela 1 - 5, Rīga", "2025-11-01", "2026-04-30"),
                      ("LV-2024-001240", "101112233", "Ūdens iela 2, Jēkabpils", "2025-12-15", "")),
             meanings={"aris_code": Words("adreses ARIS kods no jūsu līgumu saraksta",
                                          "the address's ARIS code from your contract list"),
                       "address": Words("adrese no jūsu līgumu saraksta", "the address from your contract list")}),
    FileKind("sopa_returns", "sopa_returns.csv", ("sopa_returns.csv",),
             ("file", "record", "decision_number", "trader_reg_no", "reason"), companion=False, about=Words(
                 "katrs mēneša P ieraksts, kas netika nodots tirgotājam, ar vienu iemeslu, lai SOPA to atrastu un "
                 "izlabotu; sakārtots pēc `file`, tad `record`",
                 "every record of P that was not passed to a trader, with its one reason, so SOPA can find and "
                 "fix it; sorted by `file`, then `record`"),
             example=(("sopa_2026-11.xml", "12", "SD-2026/118", "40003032949", AldisReason.CONTRACT_NOT_FOUND),
                      ("sopa_2026-11.xml", "15", "", "", AldisReason.NO_DECISION)),
             meanings={"reason": Words("pirmais neizpildītais nosacījums (CONTRACTS §12 secībā)",
                                       "the first rule that fails (in the order of CONTRACTS §12)")},
             codes={"reason": "sopa_return"}),
    FileKind("claim_result", "claim_result.csv", tuple(f"{folder}/claim_result.csv" for folder in SUPPLIER_FOLDERS),
             ("claim_id", "object_id", "support_type", "status", "reason", "claimed_eur", "accepted_eur",
              "correction_set"),
             companion=True, about=Words(
                 "viena rinda katram jūsu `claim_id` (pēc labojumiem) ar lēmumu, sakārtota pēc `claim_id`",
                 "one row per `claim_id` of yours (after corrections) with its decision, sorted by `claim_id`"),
             example=(("A-0001", "E-000123", "ELECTRICITY_BASE", ACCEPTED, "", "8.00", "8.00", ""),
                      ("A-0002", "E-000124", "ELECTRICITY_BASE", REDUCED, OVER_CAP, "40.00", "30.00", ""),
                      ("A-0003", "E-000999", "ELECTRICITY_BASE", REJECTED, UNKNOWN_OBJECT, "1.00", "0.00", ""),
                      ("A-0004", "", "", REJECTED, MALFORMED, "", "0.00", ""),
                      ("A-0005", "E-000311", "ELECTRICITY_BASE", ACCEPTED, "", "6.00", "6.00", "01")),
             meanings={"object_id": Words("prasītais objekts (`PROTECTED_USER`: līguma numurs); tukšs, ja rindu "
                                          "nevarēja nolasīt", "the object claimed (`PROTECTED_USER`: the contract "
                                          "number); empty when the line could not be read"),
                       "status": Words("lēmums par rindu", "the decision on the line"),
                       "reason": Words("pirmais iemesls, kas attiecas (CONTRACTS §13 secībā)",
                                       "the first reason that applies (in the order of CONTRACTS §13)"),
                       "claimed_eur": Words("rindas `amount_eur`; tukšs, ja to nevarēja nolasīt",
                                            "the line's `amount_eur`; empty when it could not be read")},
             codes={"support_type": "claim_support_type", "status": "claim_status", "reason": "claim_reason"}),
    FileKind("payout", "payout.csv", ("payout.csv",),
             ("supplier", "claimed_eur", "accepted_eur", "previously_paid_eur", "payout_eur"), companion=True,
             about=Words("viena rinda katram piegādātājam, kas iesniedza prasījumus, sakārtota pēc `supplier`; "
                         "`claimed_eur` un `accepted_eur` ir tā `claim_result.csv` kolonnu summas",
                         "one row per supplier that sent claims, sorted by `supplier`; `claimed_eur` and "
                         "`accepted_eur` are the sums of its `claim_result.csv` columns"),
             example=(("heat/40003286750", "12.82", "10.01", "0.00", "10.01"),
                      ("traders_electricity/40003032949", "63.35", "48.02", "50.00", "-1.98"))),
    FileKind("audit_sample", "audit_sample.csv", ("audit_sample.csv",),
             ("supplier", "claim_id", "object_id", "support_type", "accepted_eur"), companion=True, about=Words(
                 "pārbaudāmie rēķini: katram piegādātājam 3 pieņemtās vai samazinātās rindas ar lielāko "
                 "`accepted_eur` un ⌈1 %⌉ no pārējām, izlozētas ar aprēķina `run_id`; sakārtotas pēc `supplier`, "
                 "tad `claim_id`",
                 "the bills to check: per supplier the 3 accepted or reduced lines with the largest `accepted_eur` "
                 "plus ⌈1 %⌉ of the rest, drawn with the run's `run_id`; sorted by `supplier`, then `claim_id`"),
             example=(("heat/40003286750", "H-1", "H1", "DISTRICT_HEAT", "10.01"),
                      ("traders_electricity/40003032949", "A-0002", "E-000124", "ELECTRICITY_BASE", "30.00")),
             codes={"support_type": "claim_support_type"}),
    FileKind("claims", "*.csv", ("claims/*",),
             ("claim_id", "submitted_at", "object_id", "support_type", "dwellings", "quantity_kwh", "amount_eur"),
             companion=False, about=Words("jūsu prasījuma datne (ko jūs sūtāt BVKB)",
                                          "your claim file (what you send to BVKB)"),
             example=(("A-0001", "2026-12-03T10:00:00", "E-000123", "ELECTRICITY_BASE", "1", "80.000", "8.00"),
                      ("A-0002", "2026-12-03T10:00:00", "E-000124", "ELECTRICITY_BASE", "3", "450.000", "40.00"),
                      ("A-0001", "2026-12-05T09:30:00", "E-000123", "ELECTRICITY_BASE", "1", "75.500", "7.55")),
             meanings={"claim_id": Words("jūsu unikāls identifikators (burti, cipari, `.`, `_`, `/`, `-`, līdz 64)",
                                         "your own unique identifier (letters, digits, `.`, `_`, `/`, `-`, up to "
                                         "64)"),
                       "object_id": Words("`object_id` no mūsu datnes (aizsargātajam lietotājam: līguma numurs)",
                                          "the `object_id` from our file (for a protected user: the contract "
                                          "number)"),
                       "support_type": Words("viens atbalsta veids no objekta rindas `support_types`",
                                             "one support type from the object's row's `support_types`")},
             codes={"support_type": "claim_support_type"}),
)


def file_kind(relative: str) -> FileKind | None:
    """The kind of the file at `relative` under `<outbox>/<P>`, or None for a file the dictionary does not list."""
    return next((kind for kind in FILE_KINDS if kind.holds(relative)), None)


def kind_named(key: str) -> FileKind:
    return next(kind for kind in FILE_KINDS if kind.key == key)


def column(name: str) -> Column:
    """The dictionary's entry for a column; a column it does not know is an error a writer must fix here."""
    try:
        return COLUMNS[name]
    except KeyError:
        raise KeyError(f"column {name!r} is not in the data dictionary (pipeline/publish/dictionary.py)") from None
