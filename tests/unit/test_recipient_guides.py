"""Each recipient kind has a guide in Latvian and English that names every column it receives, the checksum
commands, the Excel import path, the formula rule and the contact; the README links to them."""

from __future__ import annotations

import pytest

from pipeline.publish.files import ERROR_COLUMNS, MUNICIPALITY_COLUMNS, SUPPLIER_COLUMNS
from tests.conftest import ROOT

GUIDES = ROOT / "docs" / "recipients"
COLUMNS = {"dso": SUPPLIER_COLUMNS + ERROR_COLUMNS, "trader": SUPPLIER_COLUMNS,
           "heat": SUPPLIER_COLUMNS + ERROR_COLUMNS, "municipality": MUNICIPALITY_COLUMNS}
EXCEL = {"en": "Data → From Text/CSV", "lv": "Dati → No teksta/CSV"}


@pytest.mark.parametrize("language", ["en", "lv"])
@pytest.mark.parametrize("kind", sorted(COLUMNS))
def test_a_guide_per_kind_and_language_covers_the_files(kind, language):
    text = (GUIDES / f"{kind}.{language}.md").read_text(encoding="utf-8")
    missing = [column for column in COLUMNS[kind] if f"`{column}`" not in text]
    assert missing == []
    for needed in ("manifest.json", "sha256sum", "Get-FileHash", EXCEL[language], "65001: Unicode (UTF-8)", "BOM",
                   "aldis.sistema", "`=`, `+`, `-`, `@`"):
        assert needed in text, needed
    assert f"({kind}.{'lv' if language == 'en' else 'en'}.md)" in (GUIDES / "README.md").read_text(encoding="utf-8")


def test_the_readme_links_the_guides():
    assert "](docs/recipients/README.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
