"""The portal's searches over several stored months, on a hand-made embedded store: each person found once, at the
latest month they were counted in; a name of three tokens needs all three; an address found at its latest month."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from pipeline.portal.lookup import Lookup
from pipeline.quality.pseudonym import pair_key, person_key, token_key
from pipeline.quality.sealing import Sealer
from pipeline.store.db import connect

SECRET, DATA_KEY = b"months-secret", b"months-data-key"


@pytest.fixture()
def lookup(tmp_path):
    engine = connect(f"sqlite:///{tmp_path / 'eikis.sqlite'}")
    sealer = Sealer(DATA_KEY)
    people = {  # code: (name tokens, {month: ARIS code})
        "01010112345": (("janis", "berzins"), {"2026-10": "101000001", "2026-11": "101000002"}),   # moved in 2026-11
        "02020212345": (("janis", "peteris", "berzins"), {"2026-10": "101000003"}),              # gone in 2026-11
        "03030312345": (("janis", "ozols"), {"2026-11": "101000001"}),
    }
    addresses = {"101000001": "Brīvības iela 1 - 1, Rīga", "101000002": "Brīvības iela 10 - 2, Rīga",
                 "101000003": "Skolas iela 3, Cēsis"}
    with engine.begin() as conn:
        for aris, address in addresses.items():
            conn.execute(text("INSERT INTO portal_household_ids VALUES (:a, :h)"), {"a": aris, "h": f"h{aris}"})
            for month in ("2026-10", "2026-11"):
                conn.execute(text(
                    "INSERT INTO household_decisions (period, aris_code, address, municipality_code, members, "
                    "quarantined_members, total_income_eur, avg_income_eur, threshold_eur, policy_version, status, "
                    "reason) VALUES (:m, :a, :address, '0001000', 1, 0, 100, 100, 514, 'v', 'ELIGIBLE', '')"),
                    {"m": month, "a": aris, "address": address})
                conn.execute(text("INSERT INTO portal_households VALUES (:m, :a, :s, '')"),
                             {"m": month, "a": aris, "s": address.lower().replace("ī", "i").replace(" -", "")
                              .replace(",", "")})
        for code, (tokens, homes) in people.items():
            key = person_key(SECRET, code)
            keys = sorted(token_key(SECRET, token) for token in tokens)
            rows = keys + [pair_key(a, b) for i, a in enumerate(keys) for b in keys[i + 1:]]
            for month, aris in homes.items():
                conn.execute(text("INSERT INTO portal_persons VALUES (:m, :k, :a, :n)"),
                             {"m": month, "k": key, "a": aris, "n": sealer.seal(" ".join(tokens))})
                for row in rows:
                    conn.execute(text("INSERT INTO portal_name_tokens VALUES (:m, :t, :k)"),
                                 {"m": month, "t": row, "k": key})
    yield Lookup(engine, SECRET, DATA_KEY)
    engine.dispose()


def test_a_person_who_moved_is_found_once_at_the_latest_month(lookup):
    found = lookup.search("name", "Bērziņš Jānis")
    assert [(hit.household_id, hit.period, hit.name) for hit in found.hits] == [
        ("h101000002", "2026-11", "janis berzins"), ("h101000003", "2026-10", "janis peteris berzins")]
    assert found.total == 2


def test_every_token_of_a_longer_name_must_match(lookup):
    assert [hit.name for hit in lookup.search("name", "janis berzins peteris").hits] == ["janis peteris berzins"]
    assert lookup.search("name", "janis ozols berzins").hits == []
    assert sorted(hit.name for hit in lookup.search("name", "janis").hits) == [
        "janis berzins", "janis ozols", "janis peteris berzins"]


def test_an_address_is_found_at_its_latest_month(lookup):
    assert [(hit.household_id, hit.period) for hit in lookup.search("address", "brivibas iela 1").hits] == [
        ("h101000001", "2026-11"), ("h101000002", "2026-11")]
    assert [hit.period for hit in lookup.search("address", "101000003").hits] == ["2026-11"]


def test_an_address_search_stops_counting_but_still_shows_the_first_by_address(lookup, monkeypatch):
    """Past `ADDRESS_READ` index entries the count is a lower bound ("at least"), and the page is still the first
    households by address: here three entries are read of the four that `brivibas iela 1` starts."""
    monkeypatch.setattr("pipeline.portal.lookup.ADDRESS_READ", 3)
    found = lookup.search("address", "brivibas iela 1")
    assert (found.total, found.exact) == (2, False)
    assert [(hit.household_id, hit.period) for hit in found.hits] == [("h101000001", "2026-11"),
                                                                      ("h101000002", "2026-11")]
    monkeypatch.setattr("pipeline.portal.lookup.ADDRESS_READ", 4)
    assert lookup.search("address", "brivibas iela 1").exact is True
