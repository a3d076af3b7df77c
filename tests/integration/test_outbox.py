"""The sample month end to end: outbox layout and dialect (CONTRACTS §10), no personal data in any output,
a byte-identical re-run, and a failed run that publishes nothing."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from lxml import etree

from pipeline.config import Settings
from pipeline.errors import EikisError
from pipeline.flows.monthly import run_month
from tests.conftest import DEFAULT_POLICY, SAMPLE_INBOX, SAMPLE_PERIOD
from tests.workbooks import readable

SUPPLIER_HEADER = "object_id;aris_code;address;connection_kind;eligible;eligible_dwellings;support_types"


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sample")
    settings = Settings(pseudonym_secret=b"test-secret", workers=1, data_docs=False)
    run_month(SAMPLE_PERIOD, SAMPLE_INBOX, root / "outbox", DEFAULT_POLICY, root / "work", settings)
    return root


def outbox_files(root: Path) -> dict[str, bytes]:
    base = root / "outbox" / SAMPLE_PERIOD
    return {str(p.relative_to(base)): p.read_bytes() for p in sorted(base.rglob("*")) if p.is_file()}


def test_outbox_layout_and_headers_follow_the_contract(sample_run):
    files = outbox_files(sample_run)
    names = set(files)
    assert {"manifest.json", "dso_electricity/eligibility.csv", "dso_gas/eligibility.csv"} <= names
    patterns = [r"dso_(electricity|gas)/(eligibility|address_errors)\.csv",
                r"heat/\d{11}/(eligibility|address_errors)\.csv", r"heat/\d{11}/eligibility\.xlsx",
                r"traders_(electricity|gas)/\d{11}/eligibility\.(csv|xlsx)",
                r"municipalities/\d{9}/(households|unreached)\.(csv|xlsx)", r"manifest\.json"]
    assert all(any(re.fullmatch(p, name) for p in patterns) for name in names), names
    # v1.2: the files people open have a spreadsheet companion; the DSOs' machine exchange and returns do not
    companions = {name for name in names if name.endswith(".xlsx")}
    assert companions == {name.removesuffix(".csv") + ".xlsx" for name in names if re.fullmatch(
        r"(heat|traders_\w+)/\d{11}/eligibility\.csv|municipalities/\d{9}/\w+\.csv", name)}
    for name, content in files.items():
        if not name.endswith(".csv"):
            continue
        text = content.decode("utf-8")
        assert not text.startswith("\ufeff") and "\r" not in text and text.endswith("\n")
        header = text.split("\n", 1)[0]
        if name.endswith("households.csv"):
            assert header == "aris_code;address;eligible;status"
        elif name.endswith("unreached.csv"):
            assert header == "aris_code;address"
        elif name.endswith("address_errors.csv"):
            assert header == "object_id;aris_code;address;reason"
        else:
            assert header == SUPPLIER_HEADER


def test_rows_are_sorted_by_object_id_and_quoted_per_rfc4180(sample_run):
    text = outbox_files(sample_run)["dso_electricity/eligibility.csv"].decode("utf-8")
    ids = [line.split(";", 1)[0] for line in text.splitlines()[1:]]
    assert ids == sorted(ids)
    named_house = [line for line in text.splitlines() if ';"""' in line]
    assert named_house, "addresses with quotes must be quoted with doubled inner quotes"


def test_manifest_lists_every_file_with_rows_and_sha256(sample_run):
    files = outbox_files(sample_run)
    manifest = json.loads(files.pop("manifest.json"))
    assert manifest["period"] == SAMPLE_PERIOD
    assert manifest["support_types_on"] == ["ELECTRICITY_BASE", "ELECTRICITY_HEATING", "GAS_HEATING",
                                            "DISTRICT_HEAT", "DECENTRALISED_FUEL"]
    assert manifest["policy_digest"].startswith("sha256:")
    listed = {entry["path"]: entry for entry in manifest["files"]}
    assert set(listed) == set(files)
    for path, content in files.items():
        assert listed[path]["sha256"] == hashlib.sha256(content).hexdigest()
        text = files[re.sub(r"\.xlsx$", ".csv", path)].decode("utf-8")   # a companion has its CSV's rows
        assert listed[path]["rows"] == text.count("\n") - 1


def _personal_values() -> tuple[set[str], set[str], set[str]]:
    """Every personal code, name and income figure in the sample's PMLP, VID and VSAA files."""
    codes: set[str] = set()
    names: set[str] = set()
    amounts: set[str] = set()
    base = SAMPLE_INBOX / SAMPLE_PERIOD
    for path in sorted(base.glob("pmlp/*.xml")) + sorted(base.glob("vid/*.xml")) + sorted(base.glob("vsaa/*.xml")):
        for element in etree.parse(str(path)).iter():
            local = etree.QName(element).localname
            text = (element.text or "").strip()
            if local == "PersonCode":
                codes.update({text, text.replace("-", "")})
            elif local in ("GivenName", "Surname"):
                names.add(text)
            elif local in ("AmountEUR", "Month") and re.fullmatch(r"\d{3,}\.\d{2}", text):
                amounts.add(text)
    return codes, names, amounts


def test_no_personal_code_name_or_income_reaches_any_outbox_file(sample_run):
    codes, names, amounts = _personal_values()
    assert len(codes) > 400 and len(names) > 20 and len(amounts) > 1000
    for name, content in outbox_files(sample_run).items():
        text = readable(name, content)
        fields = set(re.split(r"[;\n\"{}\[\],: <>=/]+", text))
        assert not fields & codes, f"personal code in {name}"
        assert not fields & amounts, f"income figure in {name}"
        assert not any(re.search(rf"\b{re.escape(n)}\b", text) for n in names), f"name in {name}"


def test_decision_records_use_pseudonymous_keys_only(sample_run):
    members = pq.read_table(sample_run / "work" / SAMPLE_PERIOD / "decisions" / "members.parquet").to_pandas()
    codes, _, _ = _personal_values()
    assert "person_code" not in members.columns
    assert members["person_key"].str.fullmatch(r"[0-9a-f]{16}").all()
    assert not set(members["person_key"]) & codes
    assert len([c for c in members.columns if c.startswith("vid_")]) == 12
    households = pq.read_table(sample_run / "work" / SAMPLE_PERIOD / "decisions" / "households.parquet").to_pandas()
    assert {"members", "total_income_eur", "avg_income_eur", "threshold_eur", "policy_version", "status",
            "reason"} <= set(households.columns)


def test_rerunning_the_month_gives_byte_identical_files(sample_run, tmp_path):
    settings = Settings(pseudonym_secret=b"test-secret", workers=2, data_docs=False)
    run_month(SAMPLE_PERIOD, SAMPLE_INBOX, tmp_path / "outbox", DEFAULT_POLICY, tmp_path / "work", settings)
    assert outbox_files(tmp_path) == outbox_files(sample_run)


def test_run_report_has_a_chart_and_the_main_figures(sample_run):
    report = sample_run / "work" / SAMPLE_PERIOD / "report"
    page = (report / "report.html").read_text(encoding="utf-8")
    markdown = (report / "report.md").read_text(encoding="utf-8")
    assert "<svg" in page and "<rect" in page
    for heading in ("## Summary", "## By municipality", "## By recipient", "## Sources and quarantine",
                    "## Recipient files", "## Change since the previous month", "## Month-over-month checks"):
        assert heading in markdown


def test_a_failed_run_publishes_nothing_and_keeps_an_earlier_publication(sample_run, tmp_path):
    inbox = tmp_path / "inbox"
    shutil.copytree(SAMPLE_INBOX, inbox)
    outbox = tmp_path / "outbox"
    shutil.copytree(sample_run / "outbox", outbox)
    before = outbox_files(tmp_path)
    broken = inbox / SAMPLE_PERIOD / "vid" / "income_01.xml"
    broken.write_bytes(broken.read_bytes()[:-200])  # truncated mid-record
    settings = Settings(pseudonym_secret=b"test-secret", workers=1, data_docs=False)
    with pytest.raises(EikisError):
        run_month(SAMPLE_PERIOD, inbox, outbox, DEFAULT_POLICY, tmp_path / "work", settings)
    assert outbox_files(tmp_path) == before
    assert [p.name for p in outbox.iterdir() if not p.name.endswith(".lock")] == [SAMPLE_PERIOD]  # + P's run lock
