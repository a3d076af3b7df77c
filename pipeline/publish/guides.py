"""The recipients' guides (`docs/recipients/`, Latvian first, English second), generated from the data dictionary.

A guide per recipient and file kind: what the files are, every column with its type and meaning, every code a
column can hold, an example written in the files' own dialect, how to open and check the files, and, for
suppliers, how to claim. Columns, codes and examples come from `publish/dictionary.py`, so they cannot drift
from what the code writes; `make guides` (`python -m pipeline.publish.guides docs/recipients`) rewrites the
folder and `--check` (and the guides' test) fails when the checked-in guides differ from the generated ones.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from pipeline.csvio import render_csv
from pipeline.publish.dictionary import KIND_WORDS, FileKind, Kind, Words, code_list, column, kind_named

LANGUAGES = ("lv", "en")


@dataclass(frozen=True)
class Guide:
    """One guide: who reads it, where their files are, which file kinds it explains, and any steps of its own."""

    key: str
    audience: Words
    title: Words
    intro: Words
    folder: Words
    files: tuple[str, ...]
    steps: tuple[Words, ...] = ()


GUIDES: tuple[Guide, ...] = (
    Guide("municipality", Words("pašvaldība", "municipality"), Words("EIKIS pašvaldībai", "EIKIS for a municipality"),
          Words("Katru mēnesi jūs saņemat katru savas teritorijas adresi, kurā dzīvo vismaz viena uzskaitāma "
                "persona, ar atbalsttiesības pazīmi un mājsaimniecības statusu patēriņa mēnesim P. To izmantojiet "
                "decentralizētās apkures kurināmā (granulas, briketes, malka, sašķidrinātā gāze, dīzeļdegviela) "
                "iesniegumiem: atbalsta veids `DECENTRALISED_FUEL`, oktobris–aprīlis, ir ieslēgts mēnesī P, ja "
                "manifesta `support_types_on` to uzskaita. Mājsaimniecība ir visi vienā adreses kodā deklarētie vai "
                "reģistrētie; datnēs nav vārdu, personas kodu vai ienākumu.",
                "Every month you receive every address in your territory where at least one counting person lives, "
                "with the eligibility flag and the household's status for consumption month P. You use it for "
                "decentralised-fuel applications (pellets, briquettes, firewood, LPG, diesel): support type "
                "`DECENTRALISED_FUEL`, October–April, is on for P when the manifest's `support_types_on` lists it. "
                "A household is everyone declared or registered at one address code; the files hold no names, "
                "personal codes or incomes."),
          Words("`municipalities/<jūsu pašvaldības ARIS kods>/`", "`municipalities/<your municipality's ARIS code>/`"),
          ("municipality", "unreached")),
    Guide("trader", Words("elektroenerģijas vai gāzes tirgotājs", "electricity or gas trader"),
          Words("EIKIS elektroenerģijas vai gāzes tirgotājam", "EIKIS for an electricity or gas trader"),
          Words("Katru mēnesi jūs saņemat savus piegādes objektus, kuru mājsaimniecība patēriņa mēnesim P ir "
                "atbalsttiesīga, lai atbalstu piemērotu rēķinā (kurš tirgotājs piegādā kuru objektu, norāda sadales "
                "sistēmas operatora saraksts). Elektroenerģijas tirgotājs saņem arī aizsargāto lietotāju līgumus "
                "([protected_contracts.lv.md](protected_contracts.lv.md)); kā pieprasīt kompensāciju: "
                "[how_to_claim.lv.md](how_to_claim.lv.md).",
                "Every month you receive the objects you supply whose household is eligible for consumption month "
                "P, so that you apply the support on the bill (the DSO's list tells which trader supplies which "
                "object). An electricity trader also receives its protected users' contracts "
                "([protected_contracts.en.md](protected_contracts.en.md)); how to claim the compensation: "
                "[how_to_claim.en.md](how_to_claim.en.md)."),
          Words("`traders_electricity/<jūsu reģistrācijas numurs>/` vai `traders_gas/<jūsu reģistrācijas numurs>/`",
                "`traders_electricity/<your registration number>/` or `traders_gas/<your registration number>/`"),
          ("supplier",)),
    Guide("heat", Words("siltumapgādes komersants", "district-heat supplier"),
          Words("EIKIS siltumapgādes komersantam", "EIKIS for a district-heat supplier"),
          Words("Katru mēnesi jūs saņemat atpakaļ patēriņa mēnesim P nosūtītos objektus ar lēmuma kolonnām (citu "
                "piegādātāju objektu jūsu datnē nekad nav). Kā pieprasīt kompensāciju: "
                "[how_to_claim.lv.md](how_to_claim.lv.md).",
                "Every month you receive back the objects you sent for consumption month P, with the decision "
                "columns added (other suppliers' objects are never in your file). How to claim the compensation: "
                "[how_to_claim.en.md](how_to_claim.en.md)."),
          Words("`heat/<jūsu reģistrācijas numurs>/`", "`heat/<your registration number>/`"),
          ("supplier", "address_errors")),
    Guide("dso", Words("sadales sistēmas operators", "distribution system operator (DSO)"),
          Words("EIKIS sadales sistēmas operatoram (elektroenerģija vai gāze)",
                "EIKIS for a distribution system operator (electricity or gas DSO)"),
          Words("Katru mēnesi jūs saņemat atpakaļ patēriņa mēnesim P nosūtīto pieslēgumu sarakstu ar lēmuma "
                "kolonnām. Tā ir sistēmu apmaiņa: šīm datnēm nav `.xlsx` pavaddatnes.",
                "Every month you receive back the connection list you sent for consumption month P, with the "
                "decision columns added. It is an exchange between systems: these files have no `.xlsx` "
                "companion."),
          Words("`dso_electricity/` vai `dso_gas/`", "`dso_electricity/` or `dso_gas/`"),
          ("dso", "address_errors")),
    Guide("protected_contracts", Words("elektroenerģijas tirgotājs (ALDIS)", "electricity trader (ALDIS)"),
          Words("ALDIS aizsargāto lietotāju līgumi tirgotājam", "ALDIS protected users' contracts for a trader"),
          Words("Aizsargāto lietotāju pakalpojums darbojas pēc sava kalendāra: SOPA sagatavo personas ar derīgu "
                "lēmumu mēneša P+1 1. datumā, sistēma tās ielādē 5. datumā, un katrs elektroenerģijas tirgotājs "
                "7. datumā saņem savu aizsargāto lietotāju līgumu numurus un no tā brīža rēķina P ar samazinājumu. "
                "Datni saņem katrs produkcijas vidē esošs tirgotājs.",
                "The protected-user service runs on its own calendar: SOPA prepares the persons with a valid "
                "decision on the 1st of P+1, the system loads them on the 5th, and each electricity trader receives "
                "its protected users' contract numbers on the 7th and bills P with the reduction from then on. "
                "Every trader in production for P gets the file."),
          Words("`traders/<jūsu reģistrācijas numurs>/`", "`traders/<your registration number>/`"),
          ("protected_contracts",)),
    Guide("sopa_returns", Words("SOPA (pašvaldību sociālie dienesti)", "SOPA (municipal social services)"),
          Words("ALDIS atgriezumi SOPA", "ALDIS returns to SOPA"),
          Words("Ieraksts tiek nodots tirgotājam tikai tad, ja izpildās visi nosacījumi; citādi tas atgriežas SOPA ar "
                "pirmo neizpildīto nosacījumu. `record` ļauj atrast ierakstu arī tad, ja tam nav lēmuma numura.",
                "A record is passed to its trader only when every rule holds; otherwise it comes back to SOPA with "
                "the first rule that fails. `record` finds the record even when it has no decision number."),
          Words("`sopa_returns.csv` ALDIS izejas mapē", "`sopa_returns.csv` in the ALDIS outbox"),
          ("sopa_returns",)),
    Guide("claim_result", Words("piegādātājs (kompensācijas prasījums)", "supplier (compensation claim)"),
          Words("Kompensācijas prasījuma rezultāts piegādātājam", "The claim result for a supplier"),
          Words("Pēc katra prasījumu aprēķina jūs saņemat katras savas prasījuma rindas lēmumu. Kā prasījumu "
                "iesniegt: [how_to_claim.lv.md](how_to_claim.lv.md).",
                "After each claims run you receive the decision on every claim line of yours. How to send a "
                "claim: [how_to_claim.en.md](how_to_claim.en.md)."),
          Words("jūsu piegādātāja mape prasījumu izejas mapē (`traders_electricity/<reģ. nr.>/`, "
                "`traders_gas/<reģ. nr.>/` vai `heat/<reģ. nr.>/`)",
                "your supplier folder in the claims outbox (`traders_electricity/<reg. no.>/`, "
                "`traders_gas/<reg. no.>/` or `heat/<reg. no.>/`)"),
          ("claim_result",)),
    Guide("payout", Words("BVKB finanses", "BVKB finance"), Words("Izmaksu saraksts", "The payout list"),
          Words("Izmaksājamās summas katram piegādātājam par mēnesi P. Izmaksu apstiprina BVKB darbinieks; tikai "
                "apstiprināta izmaksa tiek ierakstīta izmaksu žurnālā, un nākamais aprēķins to ieskaita kā "
                "`previously_paid_eur`.",
                "What each supplier is paid for month P. A BVKB staff member approves the payout; only an approved "
                "payout is recorded in the payout ledger, and the next run counts it as `previously_paid_eur`."),
          Words("prasījumu izejas mapes sakne", "the root of the claims outbox"), ("payout",)),
    Guide("audit_sample", Words("BVKB revidenti", "BVKB auditors"),
          Words("Pārbaudāmo rēķinu izlase", "The audit sample"),
          Words("Rēķini, kurus BVKB pārbauda pie piegādātāja. Tā pati aprēķina reize (`run_id`) vienmēr izlozē to "
                "pašu izlasi.", "The bills BVKB checks at the supplier. The same run (`run_id`) always draws the "
                "same sample."),
          Words("prasījumu izejas mapes sakne", "the root of the claims outbox"), ("audit_sample",)),
    Guide("how_to_claim", Words("piegādātājs", "supplier"), Words("Kā pieprasīt kompensāciju", "How to claim"),
          Words("Katrs piegādātājs, kas mēnesim P piemēroja atbalstu rēķinos, pieprasa kompensāciju no BVKB ar "
                "vienu vai vairākām CSV datnēm. Rezultāts: [claim_result.lv.md](claim_result.lv.md).",
                "Every supplier that applied the support on its bills for month P claims the compensation from "
                "BVKB with one or more CSV files. The result: [claim_result.en.md](claim_result.en.md)."),
          Words("`<prasījumi>/<P>/` + jūsu mape, no kuras nāca jūsu atbalsttiesības datne: "
                "`traders_electricity/<reģ. nr.>/`, `traders_gas/<reģ. nr.>/` vai `heat/<reģ. nr.>/`",
                "`<claims>/<P>/` + the folder your eligibility file came from: `traders_electricity/<reg. no.>/`, "
                "`traders_gas/<reg. no.>/` or `heat/<reg. no.>/`"),
          ("claims",),
          (Words("Datnē ir tas pats formāts, ko mēs sūtām jums: `;` atdalītājs, UTF-8, virsraksta rinda.",
                 "The file has the dialect of the files we send you: `;`, UTF-8, a header row."),
           Words("Lai labotu rindu, nosūtiet to pašu `claim_id` vēlreiz ar vēlāku `submitted_at`: spēkā ir jaunākā "
                 "versija. Divas versijas ar to pašu laiku tiek noraidītas abas (`MALFORMED`).",
                 "To correct a line, send the same `claim_id` again with a later `submitted_at`: the latest version "
                 "counts. Two versions with the same time are both rejected (`MALFORMED`)."),
           Words("Pieņemto summu ierobežo griesti: `likme × min(kWh, max_kwh_per_dwelling × dwellings)`, noapaļoti "
                 "līdz centiem; likmes nosaka politika.",
                 "The accepted amount is capped: `rate × min(kWh, max_kwh_per_dwelling × dwellings)`, rounded to "
                 "cents; the policy sets the rates."),
           Words("Labot var politikas `claim_window_months` mēnešus pēc P; labojums pēc izmaksas izmaksā (vai "
                 "atgūst) tikai starpību.", "Corrections are possible for the policy's `claim_window_months` months "
                 "after P; a correction after a payout pays (or recovers) only the difference."),
           Words("Datni, kas nav prasījumu CSV (bināra, HTML, nepareizs virsraksts, nav UTF-8, virs 64 MB), "
                 "neapstrādā vispār: aprēķins apstājas un neko nepublicē.",
                 "A file that is not a claim CSV (binary, HTML, a wrong header, not UTF-8, over 64 MB) is not read "
                 "at all: the run stops and publishes nothing."))),
)

_HEADINGS = {
    "files": Words("Datnes", "Files"),
    "columns": Words("`{name}` kolonnas", "Columns of `{name}`"),
    "table": Words("| kolonna | tips | nozīme |", "| column | type | meaning |"),
    "values": Words("`{column}` vērtības:", "Values of `{column}`:"),
    "example": Words("Piemērs:", "Example:"),
    "steps": Words("Noteikumi", "Rules"),
    "open": Words("Datņu atvēršana", "Opening the files"),
    "check": Words("Datņu pārbaude", "Check the files"),
    "formulas": Words("Šūnas, kas sākas ar = + - @", "Cells that start with = + - @"),
    "contact": Words("Kontakti", "Contact"),
    "folder": Words("Mape", "Folder"),
}
_COMPANION = Words("`{stem}.xlsx`: tās pašas rindas izklājlapā — atveriet ar dubultklikšķi: {types}; virsraksta "
                   "rinda ir iesaldēta, ar filtru. Latviešu burti (ā, ē, ī, ū, ļ, ņ, š, ž) ir pareizi jebkuros "
                   "reģionālajos iestatījumos.",
                   "`{stem}.xlsx`: the same rows as a spreadsheet — double-click it: {types}; the header row is "
                   "frozen, with a filter. Latvian letters (ā, ē, ī, ū, ļ, ņ, š, ž) come out right in any regional "
                   "settings.")
_TYPES = {Kind.AMOUNT: Words("summas ir skaitļi ar 2 decimālzīmēm", "amounts are numbers with 2 decimals"),
          Kind.INTEGER: Words("karogi un skaiti ir skaitļi", "flags and counts are numbers"),
          Kind.DATE: Words("datumi ir datumi", "dates are dates"),
          Kind.TEXT: Words("kodi, identifikatori un adreses ir teksts", "codes, ids and addresses are text")}
# Appeals (CONTRACTS §16): what a recipient of the monthly files also receives after an upheld appeal.
CORRECTED_GUIDES = ("municipality", "trader", "heat", "dso")
_CORRECTIONS = Words(
    "## Labojumu kopas (pārsūdzības)\n"
    "Ja BVKB apmierina mājsaimniecības pārsūdzību un otrs darbinieks lēmumu apstiprina, jūs saņemat labojumu kopu "
    "`<P>/corrections/<NN>/` (`01`, `02`, …): `changes.csv` ar jūsu datnes kolonnām un vēl `change` (`ADDED` — "
    "objekts jūsu sarakstā nebija atbalsttiesīgs, `CHANGED` — mainījās `eligible_dwellings` vai `support_types`) "
    "un `case_ref` (BVKB lietas numurs), un savu `manifest.json`. Kopa satur tikai mainītās rindas; pašvaldība "
    "saņem mainītās adreses ar jauno `status`. Mēneša sākotnējā datne netiek pārrakstīta: spēkā ir sākotnējā datne "
    "ar visām kopām pēc kārtas. Ar atbalstu pēc labojuma rēķinātu objektu var pieprasīt kompensācijai; "
    "`claim_result.csv` kolonna `correction_set` nosauc kopu.",
    "## Correction sets (appeals)\n"
    "When BVKB upholds a household's appeal and a second staff member confirms the decision, you receive a "
    "correction set `<P>/corrections/<NN>/` (`01`, `02`, …): `changes.csv` with your file's columns plus `change` "
    "(`ADDED`: the object was not eligible in your list; `CHANGED`: its `eligible_dwellings` or `support_types` "
    "changed) and `case_ref` (BVKB's case reference), and its own `manifest.json`. A set holds only the changed "
    "rows; a municipality gets the changed addresses with their new `status`. The month's original file is never "
    "rewritten: what holds is the original file with every set applied in order. An object billed with the support "
    "after a correction may be claimed; `claim_result.csv`'s `correction_set` names the set.")
_MANIFEST = Words("`manifest.json`: kas publicēts (sk. *Datņu pārbaude*).",
                  "`manifest.json`: what was published (see *Check the files*).")
_OPEN_XLSX = Words(
    "Cilvēkam: atveriet `.xlsx` pavaddatni. CSV ir līguma datne sistēmām; ja tomēr atverat CSV Excel, "
    "neizmantojiet dubultklikšķi (Excel to nolasītu Windows kodu lapā un `Brīvības` vietā rādītu `BrÄ«vÄ«bas`, "
    "bet summas pārvērstu datumos).", "For a person: open the `.xlsx` companion. The CSV is the contract file for "
    "systems; if you do open the CSV in Excel, do not double-click it (Excel would read it in the Windows code page, "
    "show `BrÄ«vÄ«bas` for `Brīvības`, and turn amounts into dates).")
_OPEN_CSV = Words(
    "Neatveriet CSV ar dubultklikšķi: Excel to nolasītu Windows kodu lapā un `Brīvības` vietā rādītu `BrÄ«vÄ«bas`.",
    "Do not double-click the CSV: Excel would read it in the Windows code page and show `BrÄ«vÄ«bas` for "
    "`Brīvības`.")
_IMPORT = Words(
    "Izmantojiet **Dati → No teksta/CSV**, izvēlieties datni, *Datnes izcelsme* **65001: Unicode (UTF-8)**, "
    "*Atdalītājs* **Semikols**, tad **Pārveidot datus** un teksta kolonnām ({text}) iestatiet tipu *Teksts* "
    "(saglabā sākuma nulles), **Aizvērt un ielādēt**. Datnei apzināti nav BOM (baitu secības zīmes): līgums nosaka "
    "tīru UTF-8, lai katra sistēma virsrakstu nolasītu precīzi (BOM pieliptu pirmās kolonnas nosaukumam) un "
    "datnes paliktu baitu līdz baitam identiskas.",
    "Use **Data → From Text/CSV**, choose the file, set *File Origin* to **65001: Unicode (UTF-8)** and "
    "*Delimiter* to **Semicolon**, then **Transform Data** and set the text columns ({text}) to *Text* (keeps "
    "leading zeros), **Close & Load**. The file has no byte-order mark (BOM) on purpose: the contract fixes plain "
    "UTF-8 so that every system reads the header exactly (a BOM would stick to the first column's name) and files "
    "stay byte-identical.")
_CHECK = Words(
    "`manifest.json` uzskaita `period`, `run_id` un katrai datnei tās ceļu, `rows` un `sha256` (mēneša datnēm arī "
    "`policy_digest` — kuri noteikumi lēma — un `support_types_on`). To ieraksta pēdējo: ja tas ir, datnes ir "
    "pilnīgas. Datnes pārbaude:\n- Linux: `sha256sum {file}`\n"
    "- Windows PowerShell: `(Get-FileHash .\\{file} -Algorithm SHA256).Hash.ToLower()`\n\n"
    "Rezultātam jāsakrīt ar datnes `sha256` manifestā. Atkārtots tā paša mēneša aprēķins dod baitu līdz baitam "
    "identiskas datnes (arī `.xlsx`).",
    "`manifest.json` lists `period`, `run_id` and for each file its path, `rows` and `sha256` (the monthly files' "
    "also `policy_digest` — which rules decided — and `support_types_on`). It is written last: when it is there, "
    "the files are complete. Check a file:\n- Linux: `sha256sum {file}`\n"
    "- Windows PowerShell: `(Get-FileHash .\\{file} -Algorithm SHA256).Hash.ToLower()`\n\n"
    "The result must equal the file's `sha256` in the manifest. A re-run of the same month gives byte-identical "
    "files (the `.xlsx` too).")
_FORMULAS = Words(
    "Šūnai, kuras teksts sākas ar `=`, `+`, `-`, `@`, tabulēšanas zīmi vai rindas atgriezi, datnē priekšā ir "
    "apostrofs `'`, lai izklājlapa to rādītu kā tekstu un nekad neizpildītu kā formulu (`.xlsx` šūna ir teksts un "
    "satur to pašu `'`). Salīdzinot ar savu reģistru, šo vienu `'` noņemiet. Parasts decimālskaitlis (`-3.10`) "
    "paliek skaitlis.",
    "A cell whose text starts with `=`, `+`, `-`, `@`, a TAB or a carriage return is written with a leading "
    "apostrophe `'`, so a spreadsheet shows it as text and never runs it as a formula (the `.xlsx` cell is text and "
    "holds the same `'`). Remove that one `'` when you compare with your register. A plain decimal number "
    "(`-3.10`) stays a number.")
_CONTACT = Words(
    "EIKIS/ALDIS atbalsts BVKB: pastkaste **aldis.sistema**. Norādiet periodu, `run_id` un datnes nosaukumu; "
    "nekad nesūtiet personas datus e-pastā.",
    "EIKIS/ALDIS support at BVKB: the **aldis.sistema** mailbox. Give the period, the `run_id` and the file name; "
    "never send personal data by e-mail.")
_OTHER = Words("English: [{key}.en.md]({key}.en.md)", "Latviski: [{key}.lv.md]({key}.lv.md)")


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _columns(kind: FileKind, language: str) -> list[str]:
    lines = [f"## {_HEADINGS['columns'][language].format(name=kind.name)}", _HEADINGS["table"][language],
             "|---|---|---|"]
    lines += [f"| `{name}` | {KIND_WORDS[column(name).kind][language]} | {_cell(kind.meaning(name)[language])} |"
              for name in kind.columns]
    for name, key in kind.codes.items():
        lines += ["", _HEADINGS["values"][language].format(column=name)]
        lines += [f"- `{code}` — {words[language]}" if code else f"- {words[language]}"
                  for code, words in code_list(key)]
    example = render_csv(kind.columns, kind.example).decode("utf-8")
    return [*lines, "", _HEADINGS["example"][language], "```", example.rstrip("\n"), "```", ""]


def render_guide(guide: Guide, language: str) -> str:
    kinds = [kind_named(key) for key in guide.files]
    lines = [f"# {guide.title[language]}", "", _OTHER[language].format(key=guide.key), "", guide.intro[language],
             "", f"{_HEADINGS['folder'][language]}: {guide.folder[language]}.", "",
             f"## {_HEADINGS['files'][language]}"]
    for kind in kinds:
        lines.append(f"- `{kind.name}`: {kind.about[language]}.")
        if kind.companion:
            present = {column(name).kind for name in kind.columns}
            types = ", ".join(words[language] for kind_of, words in _TYPES.items() if kind_of in present)
            lines.append(f"- {_COMPANION[language].format(stem=kind.name.removesuffix('.csv'), types=types)}")
    if guide.key != "how_to_claim":
        lines.append(f"- {_MANIFEST[language]}")
    lines.append("")
    for kind in kinds:
        lines += _columns(kind, language)
    if guide.key in CORRECTED_GUIDES:
        lines += [_CORRECTIONS[language], ""]
    if guide.steps:
        lines += [f"## {_HEADINGS['steps'][language]}", *[f"- {step[language]}" for step in guide.steps], ""]
    if guide.key == "how_to_claim":         # a file the supplier writes: nothing of ours to open or check
        return "\n".join([*lines, f"## {_HEADINGS['contact'][language]}", _CONTACT[language]]) + "\n"
    texts = sorted({f"`{name}`" for kind in kinds for name in kind.columns if column(name).kind is Kind.TEXT
                    and name not in ("address", "support_types", "status", "reason", "connection_kind", "file",
                                     "support_type", "submitted_at")})
    opening = _OPEN_XLSX if any(kind.companion for kind in kinds) else _OPEN_CSV
    lines += [f"## {_HEADINGS['open'][language]}", opening[language], _IMPORT[language].format(text=", ".join(texts)),
              ""]
    lines += [f"## {_HEADINGS['check'][language]}", _CHECK[language].format(file=kinds[0].name), ""]
    lines += [f"## {_HEADINGS['formulas'][language]}", _FORMULAS[language], "", f"## {_HEADINGS['contact'][language]}",
              _CONTACT[language]]
    return "\n".join(lines) + "\n"


def render_index() -> str:
    lines = ["# Ceļveži EIKIS datņu saņēmējiem / Guides for recipients of EIKIS files", "",
             "Katru mēnesi EIKIS patēriņa mēnesim P publicē katram saņēmējam savu datņu mapi un `manifest.json`. "
             "Izvēlieties ceļvedi savam organizācijas veidam vai datnei. / Each month EIKIS publishes, for the "
             "consumption month P, one folder of files per recipient and a `manifest.json`. Pick the guide for your "
             "kind of organisation or file.", "",
             "| saņēmējs / recipient | datnes / files | latviski | English |", "|---|---|---|---|"]
    for guide in GUIDES:
        names = ", ".join(f"`{kind_named(key).name}`" for key in guide.files)
        lines.append(f"| {guide.audience.lv} / {guide.audience.en} | {names} | [{guide.key}.lv.md]({guide.key}.lv.md) "
                     f"| [{guide.key}.en.md]({guide.key}.en.md) |")
    lines += ["", "Datņu formātu nosaka saskarnes līgums (`CONTRACTS.md` §6, §10, §12, §13): CSV ar `;` "
              "atdalītāju, virsrakstu rindu, RFC 4180 pēdiņām, UTF-8 **bez** BOM; datnēm, ko atver cilvēki, blakus "
              "ir `.xlsx` ar tām pašām rindām. Nevienā datnē nav personas koda, vārda vai ienākumu. / The file "
              "formats are fixed in the interface contract: `;`-separated CSV, a header row, RFC 4180 quoting, "
              "UTF-8 **without** a byte-order mark; the files people open have an `.xlsx` with the same rows beside "
              "them. No file ever holds a personal code, a name or an income.", "",
              "Šīs lapas ģenerē `make guides` no datu vārdnīcas `pipeline/publish/dictionary.py`. / These pages are "
              "generated by `make guides` from the data dictionary `pipeline/publish/dictionary.py`."]
    return "\n".join(lines) + "\n"


def render_guides() -> dict[str, str]:
    """Every guide file of `docs/recipients/` by name: the index, then each guide in Latvian and English."""
    rendered = {"README.md": render_index()}
    for guide in GUIDES:
        for language in LANGUAGES:
            rendered[f"{guide.key}.{language}.md"] = render_guide(guide, language)
    return rendered


def stale_guides(folder: Path) -> list[str]:
    """The names of the guide files in `folder` that differ from the generated ones, are missing or are extra."""
    rendered = render_guides()
    present = {path.name for path in folder.glob("*.md")}
    differ = [name for name, text in rendered.items()
              if name not in present or (folder / name).read_text(encoding="utf-8") != text]
    return sorted(differ + sorted(present - set(rendered)))


def write_guides(folder: Path) -> list[str]:
    """Rewrite `folder` with the generated guides (removing guides no longer generated); returns what changed."""
    changed = stale_guides(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rendered = render_guides()
    for name in changed:
        if name in rendered:
            (folder / name).write_text(rendered[name], encoding="utf-8")
        else:
            (folder / name).unlink()
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate docs/recipients/ from the data dictionary.")
    parser.add_argument("folder", type=Path, nargs="?", default=Path("docs/recipients"))
    parser.add_argument("--check", action="store_true", help="only say which guides differ; exit 1 if any")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_guides(args.folder)
        for name in stale:
            print(f"{args.folder / name}: differs from the generated guide; run `make guides`", file=sys.stderr)
        return 1 if stale else 0
    for name in write_guides(args.folder):
        print(f"wrote {args.folder / name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
