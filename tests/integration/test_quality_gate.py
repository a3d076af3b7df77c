"""Issue 9 point 8: the quarantine gate is a per-source policy number that stops only when both the share and the
absolute count of quarantined records are exceeded, and says which source, how many and where the quarantine is."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.config import Settings
from pipeline.errors import ValidationFailed
from pipeline.ingest import ingest_source
from pipeline.policy import load_policy
from pipeline.quality.expectations import validate_source
from tests.builders import InboxBuilder
from tests.conftest import MINIMAL_POLICY

P = "2025-01"
SETTINGS = Settings(pseudonym_secret=b"test-secret", workers=1, data_docs=False)


def stage_persons(root: Path, good: int, bad: int) -> Path:
    """ARIS with one house and `good + bad` persons living there, `bad` of them with a malformed code."""
    builder = InboxBuilder(P)
    builder.standard_tree()
    house = builder.house(101000021, "Ozoli")
    for serial in range(good + bad):
        code = builder.person(serial, house)
        if serial >= good:
            builder.persons[-1]["PersonCode"] = "X" + code[1:]
    builder.write(root / "inbox")
    for source in ("aris", "pmlp"):
        ingest_source(source, P, root / "inbox", root / "work", SETTINGS)
    return root / "work"


def test_one_bad_code_of_eighteen_persons_does_not_stop_a_small_month(tmp_path):
    workdir = stage_persons(tmp_path, good=17, bad=1)
    summary = validate_source("pmlp", P, workdir, SETTINGS, load_policy(MINIMAL_POLICY, P))
    assert summary.success


def test_over_both_limits_stops_naming_source_count_share_and_quarantine_file(tmp_path):
    workdir = stage_persons(tmp_path, good=40, bad=60)
    with pytest.raises(ValidationFailed) as caught:
        validate_source("pmlp", P, workdir, SETTINGS, load_policy(MINIMAL_POLICY, P))
    message = str(caught.value)
    assert message.startswith(str(workdir / P / "quarantine" / "pmlp.parquet"))
    assert "pmlp: 60 of 100 records quarantined (60.0 %)" in message
    assert "2 % and 50 records" in message and ".json" not in message


def test_a_source_of_its_own_in_the_policy_is_stricter(tmp_path):
    workdir = stage_persons(tmp_path, good=17, bad=1)
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text(MINIMAL_POLICY.read_text(encoding="utf-8")
                           + "quarantine_tolerance:\n  pmlp: {share: 0.01, min_records: 0}\n", encoding="utf-8")
    with pytest.raises(ValidationFailed, match=r"pmlp: 1 of 18 records quarantined \(5.6 %\)"):
        validate_source("pmlp", P, workdir, SETTINGS, load_policy(policy_file, P))
