"""The portal's reads of the store: searches by personal code, name or address, one household's figures for a
decided month, and its status over the last 24 months.

A search never puts the typed text into SQL: a code becomes its person key (HMAC), a name its token keys (HMAC),
an address a folded prefix (letters, digits and spaces only) bound as a parameter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import Engine, bindparam, text

from pipeline.period import format_month, parse_month
from pipeline.quality import personcode
from pipeline.quality.pseudonym import fold, name_tokens, pair_key, person_key, token_key
from pipeline.quality.sealing import Sealer

KINDS = ("code", "name", "address")
MAX_QUERY = 200          # characters of a query that are looked at; anything longer is cut, never an error
MAX_NAME_TOKENS = 6
HISTORY_MONTHS = 24
ADDRESS_READ = 1000 * HISTORY_MONTHS   # index entries an address search reads at most: 1 000 households' months
ADDRESS_BATCH = 500      # household ids per query when the access log's households are named by address
_ARIS_CODE = re.compile(r"^\d{9}$")


@dataclass(frozen=True)
class Hit:
    household_id: str
    period: str
    address: str
    name: str | None = None     # only for code and name searches: the person the search found


@dataclass(frozen=True)
class Found:
    """A results page: the first `limit` hits and how many there were in all."""

    hits: list[Hit]
    total: int
    exact: bool = True      # False: `total` is a lower bound (an address search stops counting: `_by_address`)


@dataclass(frozen=True)
class QuarantinedRecord:
    """One quarantined record behind a REVIEW household, as `portal_review_records` keeps it: where it stands and
    why, never whose it is or what it says."""

    source: str
    file: str
    record: int
    line: int           # 0 where the reader has no line
    reason: str         # a quarantine reason code


@dataclass
class Household:
    household_id: str
    period: str
    periods: list[str]
    address: str
    members: int
    avg_income_eur: Decimal | None
    status: str
    reason: str
    support_types: list[str]
    threshold_eur: Decimal
    quarantined: list[QuarantinedRecord] = field(default_factory=list)     # REVIEW: its members' quarantined records
    income: list[tuple[str, Decimal, Decimal]] = field(default_factory=list)   # month, VID, VSAA
    history: list[tuple[str, str]] = field(default_factory=list)              # month, status or "—"

    @property
    def distance_eur(self) -> Decimal | None:
        """How far the average income per member is from the threshold (negative: under it)."""
        return None if self.avg_income_eur is None else self.avg_income_eur - self.threshold_eur

    @property
    def support_shown(self) -> list[str]:
        """The support types that apply to this household: the month's types when eligible, else none."""
        return self.support_types if self.status == "ELIGIBLE" else []


class Lookup:
    def __init__(self, engine: Engine, pseudonym_secret: bytes, data_key: bytes, limit: int = 50) -> None:
        self.engine = engine
        self.secret = pseudonym_secret
        self.sealer = Sealer(data_key)
        self.limit = limit

    def search(self, kind: str, query: str) -> Found:
        query = query[:MAX_QUERY]
        if kind == "name":
            return self._by_name(query)
        if kind == "address":
            return self._by_address(query)
        hits = self._by_code(query.strip()) if kind == "code" else []
        return Found(hits[: self.limit], len(hits))

    def _persons(self, where: str, params: dict[str, object]) -> list[Hit]:
        rows = self._rows(f"""
            SELECT p.person_key, p.name_sealed, i.household_id, d.period, d.address
            FROM portal_persons p
            JOIN household_decisions d ON d.period = p.period AND d.aris_code = p.aris_code
            JOIN portal_household_ids i ON i.aris_code = p.aris_code
            WHERE {where}
            ORDER BY d.period DESC""", params)
        latest: dict[tuple[str, str], Hit] = {}
        for key, sealed, household_id, period, address in rows:
            if (key, household_id) not in latest:
                latest[(key, household_id)] = Hit(household_id, period, address or "",
                                                  self.sealer.open(sealed) or "(name unreadable)")
        return sorted(latest.values(), key=lambda hit: (hit.name or "", hit.address))

    def _by_code(self, query: str) -> list[Hit]:
        digits = personcode.normalize(query)
        if digits is None:
            return []
        return self._persons("p.person_key = :key", {"key": person_key(self.secret, digits)})

    def _by_name(self, query: str) -> Found:
        """Each person bearing every token of the query, once, at the latest month they were counted in (an earlier
        household of theirs is found by its address). Two tokens or more are read as one pair's rows. Of more
        persons than a page holds, those counted most recently are shown (the query should be narrowed)."""
        keys = sorted({token_key(self.secret, token) for token in name_tokens(query)})[:MAX_NAME_TOKENS]
        if not keys:
            return Found([], 0)
        lookup = [pair_key(keys[0], keys[1]), *keys[2:]] if len(keys) > 1 else keys
        params: dict[str, object] = {f"t{index}": key for index, key in enumerate(lookup)}
        others = "".join(f" AND EXISTS (SELECT 1 FROM portal_name_tokens o WHERE o.period = n.period AND "
                         f"o.person_key = n.person_key AND o.token_key = :t{index})" for index in range(1, len(lookup)))
        latest = self._rows(f"SELECT n.person_key, max(n.period) FROM portal_name_tokens n WHERE n.token_key = :t0"
                            f"{others} GROUP BY n.person_key", params)
        shown = sorted(latest, key=lambda row: (row[1], row[0]), reverse=True)[: self.limit]
        rows = self._in_month(shown, """
            SELECT p.name_sealed, i.household_id, p.period, d.address
            FROM portal_persons p
            JOIN household_decisions d ON d.period = p.period AND d.aris_code = p.aris_code
            JOIN portal_household_ids i ON i.aris_code = p.aris_code
            WHERE p.period = :month AND p.person_key IN :keys""")
        hits = [Hit(household_id, period, address or "", self.sealer.open(sealed) or "(name unreadable)")
                for sealed, household_id, period, address in rows]
        return Found(sorted(hits, key=lambda hit: (hit.name or "", hit.address)), len(latest))

    def _by_address(self, query: str) -> Found:
        """Each household at the address (an ARIS code, or the start of its text), at its latest stored month with
        that address; of more than a page holds, the first by address.

        A house name typed alone ("Ozoli") is the start of thousands of rural addresses, each stored every month:
        counting them all is most of such a search's time and tells staff nothing a "refine the search" does not.
        So the index is read in address order for at most `ADDRESS_READ` entries (1 000 households' months), which
        hold the page (the first by address) and an exact count up to there; past them the count is "at least"."""
        folded = fold(query)
        if _ARIS_CODE.match(folded):
            where, params = "aris_code = :code", {"code": folded}
        elif len(folded) >= 3:
            # `fold` leaves only [0-9a-z ]: no LIKE wildcard can come from the query
            where, params = "address_search LIKE :prefix", {"prefix": folded + "%"}
        else:
            return Found([], 0)
        # In the index's own order (`text_pattern_ops`, compared bytewise: `~<~` on PostgreSQL), so the server merges
        # the months' index ranges and stops at the limit instead of reading and sorting every match.
        order = "address_search USING ~<~" if self.engine.dialect.name == "postgresql" else "address_search"
        entries = self._rows(f"SELECT aris_code, address_search, period FROM portal_households WHERE {where} "
                             f"ORDER BY {order} LIMIT :read", {**params, "read": ADDRESS_READ + 1})
        first_address: dict[str, str] = {}
        latest_month: dict[str, str] = {}
        for code, address, month in entries[:ADDRESS_READ]:   # a household is first met at its first address
            first_address.setdefault(code, address)
            latest_month[code] = max(month, latest_month.get(code, month))
        shown = sorted(first_address, key=lambda code: (first_address[code], code))[: self.limit]
        if len(entries) > ADDRESS_READ:   # a shown household's later months may lie past the limit: asked by key
            newest = self._rows("SELECT max(period) FROM runs", {})[0][0]
            unsure = [code for code in shown if latest_month[code] != newest]
            latest_month.update(self._rows(
                f"SELECT aris_code, max(period) FROM portal_households WHERE {where} AND aris_code IN "
                f"({', '.join(f':c{i}' for i in range(len(unsure)))}) GROUP BY aris_code",
                {**params, **{f"c{i}": code for i, code in enumerate(unsure)}}) if unsure else [])
        latest = [(code, latest_month[code]) for code in shown]
        rows = self._in_month(latest, """
            SELECT i.household_id, d.period, d.address
            FROM household_decisions d
            JOIN portal_household_ids i ON i.aris_code = d.aris_code
            WHERE d.period = :month AND d.aris_code IN :keys""")
        return Found(sorted((Hit(household_id, period, address or "") for household_id, period, address in rows),
                            key=lambda hit: hit.address), len(first_address), exact=len(entries) <= ADDRESS_READ)

    def _in_month(self, latest: list[tuple], sql: str) -> list[tuple]:
        """`sql`'s rows for each (key, month) of `latest` (a page's worth), asked month by month (`:month`, `:keys`).

        A month given as a value is one partition of each month's table: the store reads that month's index for the
        keys. Joined across all months instead, the planner cannot tell that each key meets one month only and reads
        every month whole."""
        keys_by_month: dict[str, list[str]] = {}
        for key, month in latest:
            keys_by_month.setdefault(month, []).append(key)
        statement = text(sql).bindparams(bindparam("keys", expanding=True))
        rows: list[tuple] = []
        with self.engine.connect() as conn:
            for month, keys in sorted(keys_by_month.items()):
                rows.extend(tuple(row) for row in conn.execute(statement, {"month": month, "keys": keys}))
        return rows

    def household(self, household_id: str, month: str | None) -> Household | None:
        """The household's figures for `month` (default: the latest decided month it appears in)."""
        found = self._rows("SELECT aris_code FROM portal_household_ids WHERE household_id = :h",
                           {"h": household_id[:64]})
        if not found:
            return None
        aris_code = found[0][0]
        periods = [row[0] for row in self._rows(
            "SELECT period FROM portal_households WHERE aris_code = :a ORDER BY period DESC", {"a": aris_code})]
        if not periods:
            return None
        period = month if month in periods else periods[0]
        row = self._rows("""
            SELECT d.address, d.members, d.avg_income_eur, d.status, d.reason, r.support_types, h.income_months,
                   d.threshold_eur
            FROM household_decisions d
            JOIN portal_households h ON h.period = d.period AND h.aris_code = d.aris_code
            JOIN runs r ON r.period = d.period
            WHERE d.period = :p AND d.aris_code = :a""", {"p": period, "a": aris_code})[0]
        address, members, avg, status, reason, support, income_months, threshold = row
        first = parse_month(period) - HISTORY_MONTHS + 1
        window = [format_month(first + i) for i in range(HISTORY_MONTHS)]
        # the months named, not a range: each is one partition's (period, ARIS code) key, never a scan of the months
        stored = sorted(set(window) & set(periods))
        statuses = dict(self._rows(
            "SELECT period, status FROM household_decisions WHERE aris_code = :a AND period IN "
            f"({', '.join(f':m{i}' for i in range(len(stored)))})",
            {"a": aris_code, **{f"m{i}": month for i, month in enumerate(stored)}}))
        history = [(m, statuses.get(m, "—")) for m in window]
        quarantined = self._rows(
            "SELECT source, file, record, line, reason FROM portal_review_records WHERE period = :p AND "
            "aris_code = :a ORDER BY file, record, line, reason", {"p": period, "a": aris_code}) \
            if status == "REVIEW" else []
        return Household(household_id, period, periods, address or "", int(members), _cents(avg), status, reason,
                         [s for s in (support or "").split("|") if s], _cents(threshold),
                         [QuarantinedRecord(source, file, int(record), int(line), code)
                          for source, file, record, line, code in quarantined], _income(income_months),
                         history[::-1])

    def addresses(self, household_ids: set[str]) -> dict[str, str]:
        """The latest decided address of each opaque household id (for the auditor's reading of the access log).

        A few hundred ids per query: the CSV export covers the whole log, not one page of it. Reached through
        `portal_households` (indexed by ARIS code) and the decisions' (period, ARIS code) key, so a national store's
        months of decisions are never scanned for an address."""
        wanted = sorted(household_id[:64] for household_id in household_ids)
        latest: dict[str, tuple[str, str]] = {}
        query = text("""
            SELECT i.household_id, d.period, d.address FROM portal_household_ids i
            JOIN portal_households h ON h.aris_code = i.aris_code
            JOIN household_decisions d ON d.period = h.period AND d.aris_code = h.aris_code
            WHERE i.household_id IN :ids""").bindparams(bindparam("ids", expanding=True))
        with self.engine.connect() as conn:
            for start in range(0, len(wanted), ADDRESS_BATCH):
                for household_id, period, address in conn.execute(query, {"ids": wanted[start:start + ADDRESS_BATCH]}):
                    if address and period > latest.get(household_id, ("", ""))[0]:
                        latest[household_id] = (period, address)
        return {household_id: address for household_id, (_, address) in latest.items()}

    def _rows(self, sql: str, params: dict[str, object]) -> list[tuple]:
        with self.engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql), params)]


def _cents(value: object) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.01"))


def _income(encoded: str) -> list[tuple[str, Decimal, Decimal]]:
    """`YYYY-MM=<VID cents>/<VSAA cents>|…` (see `pipeline.store.portal_index`) -> rows in EUR."""
    rows = []
    for item in filter(None, encoded.split("|")):
        month, amounts = item.split("=")
        vid, vsaa = amounts.split("/")
        rows.append((month, Decimal(int(vid)) / 100, Decimal(int(vsaa)) / 100))
    return rows
