"""The sanitizer job's fixed-seed mutation run (scripts/sanitize_canonscan.sh; skipped unless EIKIS_FUZZ_SECONDS is
set): VID, PMLP, SOPA and VSAA extracts, generated and mutated from one seed, go through the canonical walk for as
long as the budget allows. libxml2 with the project's XSD and xml2arrow are the oracle for every file the walk
accepts (valid, the same texts and lines: `assert_sound`), and every body is also walked ending right before a
no-access page, so a read past its end faults even where AddressSanitizer cannot see it (a mapped file)."""

from __future__ import annotations

import os
import random
import time
from collections import Counter
from pathlib import Path

import pytest

from pipeline.sources import xmlcanon
from tests.guarded import GuardedPage
from tests.unit.test_vsaa_canon import extract, mutate_vsaa
from tests.unit.test_xml_canon import MAPS, assert_sound, document, mutate

SECONDS = float(os.environ.get("EIKIS_FUZZ_SECONDS", "0"))
SEED = int(os.environ.get("EIKIS_FUZZ_SEED", "28"))
pytestmark = pytest.mark.skipif(not SECONDS, reason="the sanitizer job's mutation run (EIKIS_FUZZ_SECONDS)")

LETTERS = list("aZ09 -.:ĀžŅ€\t\n\x7f\x85\u2028\ufdd0\U0001f600<>&\"'")
PERIODS = ["2026-11", "", " 2026-11 ", "2026-1ā", "\U0001f600", "a\tb", "&", '"', "<"]


def text(rng: random.Random) -> str:
    if rng.random() < 0.03:  # near PMLP's maxLength of 400 characters
        return "".join(rng.choice("ab ā") for _ in range(rng.randint(395, 405)))
    return "".join(rng.choice(LETTERS) for _ in range(rng.randint(0, 12)))


def extract_of(source: str, rng: random.Random) -> bytes:
    """A generated extract: canonical where its texts need no escaping, mutated four times in five."""
    if source == "vsaa":
        people = [(rng.choice(["23015212068", "", "1"]), rng.choice([None, "Anna", "Krūmiņa"]),
                   rng.choice([None, text(rng)]),
                   [(rng.choice(PERIODS), rng.choice(["417.54", "", "1\n2", text(rng)]))
                    for _ in range(rng.randint(0, 4))]) for _ in range(rng.randint(0, 5))]
        data = extract(people)
        return mutate_vsaa(data, rng) if rng.random() < 0.8 else data
    found = xmlcanon.grammar(MAPS[source].layout)
    assert found is not None
    records = [[(leaf, text(rng)) for leaf, required in zip(found.leaves, found.required, strict=True)
                if required or rng.random() < 0.5] for _ in range(rng.randint(0, 5))]
    data = document(source, records)
    return mutate(source, data, rng) if rng.random() < 0.8 else data


def walk_against_the_guard(data: bytes, source: str, page: GuardedPage) -> None:
    """The file's body, from its first record to its root's end tag, walked ending right before a no-access page
    (with the head and tail that frame it); the answer must be the one from the file's own bytes."""
    columns = MAPS[source]
    found = xmlcanon.grammar(columns.layout)
    framing = xmlcanon._frame(data, found, None)  # type: ignore[arg-type]
    if framing is None or found is None:
        return
    _, start, end, _ = framing
    wanted = tuple(dict.fromkeys(xmlcanon._values(found, columns.fields, columns.row_per_child) or []))
    guarded = xmlcanon.walk_body(page.ending_at_guard(data[:end]), start, end, found, wanted,
                                 columns.row_per_child, True)
    assert guarded == xmlcanon.walk_body(data, start, end, found, wanted, columns.row_per_child, True)


def test_mutated_extracts_hold_against_libxml2_and_the_guard_page(tmp_path: Path) -> None:
    rng = random.Random(SEED)  # one seed: the same files in the same order on every run; the budget sets how many
    deadline = time.monotonic() + SECONDS
    tried, proven = Counter[str](), Counter[str]()
    sources = ["vid", "pmlp", "sopa", "vsaa"]
    with GuardedPage(1 << 20) as page:
        while time.monotonic() < deadline:
            source = sources[sum(tried.values()) % len(sources)]
            data = extract_of(source, rng)
            path = tmp_path / f"{source}.xml"
            path.write_bytes(data)
            proven[source] += assert_sound(path, source)  # libxml2 + the XSD: valid, same texts and lines
            if len(data) <= page.boundary:
                walk_against_the_guard(data, source, page)
            tried[source] += 1
    print(f"mutation run, seed {SEED}: tried {dict(tried)}, proven {dict(proven)}")
    assert all(tried[s] > 0 and proven[s] > 0 for s in sources), "every kind tried, and some proven"
