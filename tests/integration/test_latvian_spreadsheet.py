"""Issue 24's "done when": every recipient kind's `.xlsx` companion, opened in LibreOffice with Latvian settings (the
double-click path of a social worker or an accountant), gives numbers where there are amounts and intact
diacritics.

The sample month runs end to end (`eikis run`, `eikis aldis`, `eikis generate-claims`, `eikis claims`), one
companion of every kind the data dictionary lists is converted by headless LibreOffice, in a profile whose locale
is lv-LV, to flat OpenDocument (`.fods`), and each cell's type and value as LibreOffice read it is compared with the
CSV beside the companion: amounts are floats with the CSV's digits, shown with the Latvian decimal comma; flags
and counts are floats; dates are dates; every text (ids, codes, addresses with ā ē ī ū ļ ņ š ž) is the CSV's text.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from pipeline.cli import main
from pipeline.csvio import ContractDialect
from pipeline.publish.dictionary import FILE_KINDS, Kind, column, file_kind
from tests.conftest import DEFAULT_POLICY, ROOT, SAMPLE_INBOX, SAMPLE_PERIOD

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
pytestmark = pytest.mark.skipif(SOFFICE is None, reason="LibreOffice is not installed (apt-get install -y "
                                                          "libreoffice-calc; .ci/run installs it)")

NS = {"table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
      "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
      "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
      "style": "urn:oasis:names:tc:opendocument:xmlns:style:1.0",
      "fo": "urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"}
LATVIAN_PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Setup/L10N">
  <prop oor:name="ooSetupSystemLocale" oor:op="fuse"><value>lv-LV</value></prop></item>
<item oor:path="/org.openoffice.Setup/L10N"><prop oor:name="ooLocale" oor:op="fuse"><value>lv</value></prop></item>
</oor:items>
"""
DIACRITICS = set("āēīūļņšž")


@pytest.fixture(scope="module")
def outboxes(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The sample month's three published outboxes: monthly, ALDIS and the claims check's preview."""
    root = tmp_path_factory.mktemp("latvian")
    common = ["--period", SAMPLE_PERIOD, "--workdir", str(root / "work")]
    assert main(["run", *common, "--inbox", str(SAMPLE_INBOX), "--outbox", str(root / "outbox"),
                 "--policy", str(DEFAULT_POLICY), "--no-db"]) == 0
    assert main(["aldis", *common, "--inbox", str(SAMPLE_INBOX), "--outbox", str(root / "aldis"),
                 "--traders", str(ROOT / "policy" / "traders.yaml")]) == 0
    assert main(["generate-claims", "--period", SAMPLE_PERIOD, "--published", str(root / "outbox"),
                 "--aldis", str(root / "aldis"), "--out", str(root / "claims"), "--policy", str(DEFAULT_POLICY),
                 "--seed", "7"]) == 0
    assert main(["claims", *common, "--claims", str(root / "claims"), "--published", str(root / "outbox"),
                 "--aldis", str(root / "aldis"), "--outbox", str(root / "claims_outbox"),
                 "--policy", str(DEFAULT_POLICY), "--as-of", SAMPLE_PERIOD]) == 0
    previews = [path.parent for path in (root / "claims_outbox" / "runs" / SAMPLE_PERIOD).glob("*/manifest.json")]
    assert len(previews) == 1                                 # a check publishes its own run's folder
    return [root / "outbox" / SAMPLE_PERIOD, root / "aldis" / SAMPLE_PERIOD, previews[0]]


def one_per_kind(outboxes: list[Path]) -> dict[str, Path]:
    """For every file kind with a companion, and every supplier folder kind, the companion with the most rows."""
    chosen: dict[str, Path] = {}
    for outbox in outboxes:
        for path in sorted(outbox.rglob("*.xlsx")):
            relative = str(path.relative_to(outbox))
            kind = file_kind(relative.removesuffix(".xlsx") + ".csv")
            assert kind is not None and kind.companion, relative
            label = f"{kind.key}:{relative.split('/')[0]}" if kind.key in ("supplier", "claim_result") else kind.key
            if label not in chosen or _rows(path) > _rows(chosen[label]):
                chosen[label] = path
    return chosen


def _rows(companion: Path) -> int:
    return len(_csv(companion)) - 1


def _csv(companion: Path) -> list[list[str]]:
    with companion.with_suffix(".csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle, dialect=ContractDialect))


def convert_in_latvian_libreoffice(files: dict[str, Path], folder: Path) -> dict[str, Path]:
    """Each companion as LibreOffice (locale lv-LV) reads it, saved as flat OpenDocument."""
    profile = folder / "profile"
    (profile / "user").mkdir(parents=True)
    (profile / "user" / "registrymodifications.xcu").write_text(LATVIAN_PROFILE, encoding="utf-8")
    source = folder / "in"
    source.mkdir()
    names = {}
    for label, path in files.items():
        name = label.replace(":", "_").replace("/", "_")
        shutil.copyfile(path, source / f"{name}.xlsx")
        names[label] = folder / "out" / f"{name}.fods"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(folder), "LANG": "lv_LV.UTF-8"}
    done = subprocess.run([str(SOFFICE), f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
                           "--convert-to", "fods", "--outdir", str(folder / "out"),
                           *sorted(str(path) for path in source.iterdir())],
                          env=env, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    missing = [str(path) for path in names.values() if not path.exists()]
    assert not missing, (missing, done.stdout, done.stderr)
    return names


def cells(fods: Path, width: int) -> list[list[tuple[str | None, str | None, str]]]:
    """The first sheet's rows as LibreOffice typed them: (value type, value, shown text) per cell."""
    tree = etree.parse(str(fods))
    table = tree.find(".//office:spreadsheet/table:table", NS)
    rows = []
    for row in table.iterfind(".//table:table-row", NS):
        found: list[tuple[str | None, str | None, str]] = []
        for cell in row.iterfind("table:table-cell", NS):
            kind = cell.get(f"{{{NS['office']}}}value-type")
            value = cell.get(f"{{{NS['office']}}}value") or cell.get(f"{{{NS['office']}}}date-value")
            shown = "\n".join("".join(p.itertext()) for p in cell.iterfind("text:p", NS))
            repeat = int(cell.get(f"{{{NS['table']}}}number-columns-repeated", "1"))
            found.extend([(kind, value, shown)] * min(repeat, width - len(found)))
            if len(found) >= width:
                break
        found.extend([(None, None, "")] * (width - len(found)))
        repeat = int(row.get(f"{{{NS['table']}}}number-rows-repeated", "1"))
        rows.extend([found] * (1 if any(kind for kind, _, _ in found) else repeat))
    return rows


def test_every_recipient_kinds_companion_reads_as_numbers_and_latvian_text_in_libreoffice(outboxes, tmp_path):
    chosen = one_per_kind(outboxes)
    kinds = {label.split(":")[0] for label in chosen}
    assert kinds == {kind.key for kind in FILE_KINDS if kind.companion}, "a kind people open was not converted"
    assert {"supplier:traders_electricity", "supplier:heat", "claim_result:traders_electricity",
            "claim_result:heat"} <= set(chosen)
    converted = convert_in_latvian_libreoffice(chosen, tmp_path)
    letters: set[str] = set()
    amounts = 0
    for label, path in chosen.items():
        header, *rows = _csv(path)
        sheet = cells(converted[label], len(header))
        styles = etree.parse(str(converted[label]))
        assert styles.find(".//style:text-properties[@fo:language='lv'][@fo:country='LV']", NS) is not None, \
            "LibreOffice did not run with Latvian settings"
        assert [shown for _, _, shown in sheet[0]] == header, label
        assert len([row for row in sheet[1:] if any(kind for kind, _, _ in row)]) == len(
            [row for row in rows if any(row)]), label
        for number, (expected, got) in enumerate(zip(rows, sheet[1:], strict=False), start=2):
            for name, text, (kind, value, shown) in zip(header, expected, got, strict=True):
                where = f"{label} line {number} {name}"
                if text == "":
                    assert kind is None, where
                    continue
                wanted = column(name).kind
                if wanted is Kind.AMOUNT:
                    assert kind == "float" and Decimal(value) == Decimal(text), (where, kind, value)
                    assert shown == text.replace(".", ","), (where, shown)   # the Latvian decimal comma
                    amounts += 1
                elif wanted is Kind.INTEGER:
                    assert kind == "float" and Decimal(value) == int(text), (where, kind, value)
                elif wanted is Kind.DATE:
                    assert kind == "date" and value == text, (where, kind, value)
                else:
                    assert kind == "string" and shown == text, (where, kind, shown)
                    letters.update(text.lower())
    assert amounts > 20
    assert letters >= DIACRITICS, DIACRITICS - letters
