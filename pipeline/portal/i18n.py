"""The portal's languages: Latvian first (the bureau's staff), English second, through gettext catalogues.

Texts in the templates and here are written in English and translated by `locale/<lang>/LC_MESSAGES/portal.po`
(compiled in memory with Babel when the app starts, so no binary `.mo` is checked in). The language is the one
chosen on the page (kept in the session, and for a signed-in user in `portal_users.language`, applied again at
each sign-in), else the browser's `Accept-Language`, else Latvian. Numbers, months and times follow the language's
CLDR rules through Babel (Latvian: `1 207,75`, `novembris 2026`); times are shown in Europe/Riga, the bureau's
time, whatever the server's zone.

Codes from the decisions (statuses, reasons, support types, quarantine reasons) are never shown raw: `LABELS`
gives each a human label, translated like any other text.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import re
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations

LANGUAGES = ("lv", "en")
DEFAULT = "lv"
NAMES = {"lv": "Latviski", "en": "English"}
ZONE = "Europe/Riga"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"


def N_(text: str) -> str:  # noqa: N802 - the gettext convention: marks a text for extraction, translated later
    return text


LABELS = {
    # household status (CONTRACTS §9)
    "ELIGIBLE": N_("Eligible"),
    "NOT_ELIGIBLE": N_("Not eligible"),
    "REVIEW": N_("Under review"),
    # support types (policy)
    "ELECTRICITY_BASE": N_("Electricity (base)"),
    "ELECTRICITY_HEATING": N_("Electric heating"),
    "GAS_HEATING": N_("Gas heating"),
    "DISTRICT_HEAT": N_("District heating"),
    "DECENTRALISED_FUEL": N_("Decentralised fuel"),
    # quarantine reasons behind a REVIEW (CONTRACTS §7)
    "DUPLICATE_PERSON": N_("the same person listed twice"),
    "INVALID_PERSON_CODE": N_("an invalid personal code"),
    "UNKNOWN_ENUM": N_("an unknown value in a coded field"),
    "BAD_PERIOD": N_("an income month that cannot be read"),
    "DUPLICATE_MONTH": N_("the same income month reported twice"),
    "NEGATIVE_AMOUNT": N_("a negative amount"),
    "BAD_AMOUNT": N_("an amount that cannot be read"),
    "MISSING_VALUE": N_("a required value missing"),
    "INVALID_ARIS_CODE": N_("an invalid address code"),
    "UNKNOWN_ADDRESS": N_("an address not in the address register"),
    "NO_COUNTING_MEMBER": N_("no counted member left at this address"),
    # access-log actions and search kinds
    "search": N_("search"),
    "shown": N_("shown in results"),
    "view": N_("household opened"),
    "sign-in": N_("signed in"),
    "sign-in-failed": N_("sign-in failed"),
    "sign-in-refused": N_("sign-in refused (locked out)"),
    "sign-out": N_("signed out"),
    "code": N_("personal code"),
    "name": N_("name and surname"),
    "address": N_("address"),
    # roles
    "staff": N_("staff"),
    "auditor": N_("auditor"),
    "admin": N_("administrator"),
    "decider": N_("decider"),
    # appeal decisions (CONTRACTS §16): outcomes, reason codes, states
    "UPHELD": N_("upheld"),
    "REJECTED": N_("rejected"),
    "INCOME_EVIDENCE": N_("income evidence"),
    "HOUSEHOLD_COMPOSITION": N_("household composition"),
    "ADDRESS": N_("address"),
    "OTHER": N_("other"),
    "REGISTERED": N_("registered, awaiting a decider"),
    "CONFIRMED": N_("confirmed"),
    "SENT_BACK": N_("sent back"),
    "WITHDRAWN": N_("withdrawn"),
}
_CODE = re.compile(r"\b[A-Z][A-Z_]{2,}\b")


@functools.cache
def translations(language: str) -> NullTranslations:
    """The compiled catalogue of `language` (English is the source language: no catalogue)."""
    source = LOCALE_DIR / language / "LC_MESSAGES" / "portal.po"
    if language == "en" or not source.is_file():
        return NullTranslations()
    with source.open("rb") as po:
        catalogue = read_po(po, locale=language)
    compiled = io.BytesIO()
    write_mo(compiled, catalogue)
    compiled.seek(0)
    return Translations(compiled, domain="portal")


def choose(chosen: object, accept_language: str) -> str:
    """The page language: the one chosen in this session, else the browser's first supported one, else Latvian."""
    if chosen in LANGUAGES:
        return str(chosen)
    for item in accept_language.split(","):
        tag = item.split(";")[0].strip().lower()[:2]
        if tag in LANGUAGES:
            return tag
    return DEFAULT


def riga_day_start(day: dt.date) -> dt.datetime:
    """Midnight of a Europe/Riga day as a stored (naive UTC) time: the access log's date filter speaks the same
    days as the times it shows."""
    return dt.datetime.combine(day, dt.time(), tzinfo=ZoneInfo(ZONE)).astimezone(dt.UTC).replace(tzinfo=None)


def riga_time(at: dt.datetime | str, language: str = DEFAULT) -> str:
    """A stored UTC time (SQLite hands back text) in Europe/Riga, to the second: the one time format of the access
    log, on its page and in its CSV export, so an auditor reads the same time in both."""
    if isinstance(at, str):
        at = dt.datetime.fromisoformat(at)
    return format_datetime(at.replace(tzinfo=dt.UTC), "yyyy-MM-dd HH:mm:ss", tzinfo=ZONE, locale=language)


class Texts:
    """Everything a template needs to speak one language: gettext, labels and the CLDR formats."""

    def __init__(self, language: str) -> None:
        self.language = language
        self.gettext = translations(language).gettext

    def label(self, code: object) -> str:
        text = LABELS.get(str(code))
        return self.gettext(text) if text else str(code)

    def money(self, value: Decimal | float | int | None) -> str:
        if value is None:
            return "—"
        return format_decimal(Decimal(str(value)), format="#,##0.00", locale=self.language)

    def month(self, period: str) -> str:
        """`2026-11` as `novembris 2026` / `November 2026`."""
        year, month = map(int, period.split("-"))
        return format_date(dt.date(year, month, 1), "LLLL y", locale=self.language)

    def when(self, at: dt.datetime | str) -> str:
        return riga_time(at, self.language)

    def causes(self, reason: str) -> list[str]:
        """The quarantine codes a REVIEW reason names (plus the 'no counted member' cause), in order."""
        codes = [code for code in _CODE.findall(reason) if code in LABELS]
        if "no counting member" in reason:
            codes.append("NO_COUNTING_MEMBER")
        return codes
