"""The recipients' guides are generated from the data dictionary and checked in: they must equal what `make guides`
writes, every column a writer puts in a file must be in the dictionary (with the writer's own column order), and
each guide names every column of its files, the checksum commands, the spreadsheet advice and the contact."""

from __future__ import annotations

import pytest

from pipeline.csvio import render_csv
from pipeline.publish import aldis, claims, files
from pipeline.publish.companion import write_companion
from pipeline.publish.dictionary import CODES, COLUMNS, FILE_KINDS, code_list, kind_named
from pipeline.publish.guides import GUIDES, main, render_guides, stale_guides, write_guides
from pipeline.sources.claims import CLAIM_COLUMNS
from tests.conftest import ROOT

GUIDES_FOLDER = ROOT / "docs" / "recipients"
# Every column tuple a writer of a recipient file uses, against the file kind the dictionary describes.
WRITERS = {
    "dso": files.SUPPLIER_COLUMNS, "supplier": files.SUPPLIER_COLUMNS, "address_errors": files.ERROR_COLUMNS,
    "municipality": files.MUNICIPALITY_COLUMNS, "unreached": files.UNREACHED_COLUMNS,
    "protected_contracts": aldis.CONTRACT_COLUMNS, "sopa_returns": aldis.RETURN_COLUMNS,
    "claim_result": claims.RESULT_COLUMNS, "payout": claims.PAYOUT_COLUMNS, "audit_sample": claims.AUDIT_COLUMNS,
    "claims": CLAIM_COLUMNS,
}
EXCEL = {"en": "Data → From Text/CSV", "lv": "Dati → No teksta/CSV"}


def test_the_checked_in_guides_are_the_generated_ones():
    assert stale_guides(GUIDES_FOLDER) == [], "run `make guides` and commit docs/recipients/"
    assert main(["--check", str(GUIDES_FOLDER)]) == 0


def test_a_guide_edited_by_hand_or_left_behind_is_found_and_rewritten(tmp_path):
    write_guides(tmp_path)
    (tmp_path / "payout.en.md").write_text("edited by hand\n", encoding="utf-8")
    (tmp_path / "old.en.md").write_text("a guide no longer generated\n", encoding="utf-8")
    assert stale_guides(tmp_path) == ["old.en.md", "payout.en.md"]
    assert main(["--check", str(tmp_path)]) == 1
    assert main([str(tmp_path)]) == 0 and stale_guides(tmp_path) == [] and not (tmp_path / "old.en.md").exists()


@pytest.mark.parametrize("key", sorted(WRITERS))
def test_every_column_a_writer_puts_in_a_file_is_in_the_dictionary(key):
    assert kind_named(key).columns == WRITERS[key]
    assert [name for name in WRITERS[key] if name not in COLUMNS] == []


def test_every_file_kind_has_a_writer_checked_here():
    assert {kind.key for kind in FILE_KINDS} == set(WRITERS)


def test_every_code_list_has_words_for_every_code():
    for key in CODES:
        assert [code for code, words in code_list(key) if not (words.lv and words.en)] == []


@pytest.mark.parametrize("kind", [kind for kind in FILE_KINDS if kind.companion], ids=lambda kind: kind.key)
def test_each_example_is_a_file_the_companion_writer_takes(kind, tmp_path):
    """The examples in the guides have the types the dictionary gives their columns."""
    source = tmp_path / kind.name
    source.write_bytes(render_csv(kind.columns, kind.example))
    write_companion(source, tmp_path / "example.xlsx")
    assert (tmp_path / "example.xlsx").stat().st_size > 0


@pytest.mark.parametrize("language", ["en", "lv"])
@pytest.mark.parametrize("guide", GUIDES, ids=lambda guide: guide.key)
def test_a_guide_per_kind_and_language_covers_its_files(guide, language):
    text = (GUIDES_FOLDER / f"{guide.key}.{language}.md").read_text(encoding="utf-8")
    for key in guide.files:
        kind = kind_named(key)
        assert [name for name in kind.columns if f"`{name}`" not in text] == []
        assert all(f"`{code}`" in text for code_key in kind.codes.values() for code, _ in code_list(code_key) if code)
        if kind.companion:
            assert f"`{kind.name.removesuffix('.csv')}.xlsx`" in text
    needed = ["aldis.sistema"]
    if guide.key != "how_to_claim":
        needed += ["manifest.json", "sha256sum", "Get-FileHash", EXCEL[language], "65001: Unicode (UTF-8)", "BOM",
                   "`=`, `+`, `-`, `@`"]
    assert [item for item in needed if item not in text] == []
    other = "lv" if language == "en" else "en"
    assert f"({guide.key}.{other}.md)" in text
    assert f"({guide.key}.{other}.md)" in render_guides()["README.md"]


def test_the_municipality_guide_tells_review_from_not_eligible():
    for language in ("lv", "en"):
        text = (GUIDES_FOLDER / f"municipality.{language}.md").read_text(encoding="utf-8")
        assert "`REVIEW` — " in text and "`NOT_ELIGIBLE` — " in text and "`status`" in text


def test_the_readme_links_the_guides():
    assert "](docs/recipients/README.md)" in (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("key", ["municipality", "trader", "heat", "dso"])
def test_the_recipients_of_monthly_files_are_told_about_correction_sets(key):
    rendered = render_guides()
    assert "`<P>/corrections/<NN>/`" in rendered[f"{key}.en.md"] and "`case_ref`" in rendered[f"{key}.lv.md"]
    assert "## Correction sets (appeals)" in rendered[f"{key}.en.md"]
