"""Issue 9 point 7: every failure of `eikis` is exit 2 and one line, never a traceback; an unreachable store is
found before anything is published; a stage that fails does not log "finished"."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from pipeline.logs import get_logger, timed
from tests.cli import eikis, one_line_error
from tests.conftest import DEFAULT_POLICY, SAMPLE_INBOX, SAMPLE_PERIOD


@pytest.mark.parametrize(("fraction", "seed"), [("0", "1"), ("5", "1"), ("-0.5", "1"), ("nan", "1"), ("1", "-3")])
def test_generate_refuses_a_fraction_outside_0_1_and_a_negative_seed(tmp_path, fraction, seed):
    line = one_line_error(eikis("generate", "--period", "2026-11", "--out", tmp_path, "--fraction", fraction,
                                "--seed", seed))
    assert ("--fraction" in line) if fraction != "1" else ("--seed" in line)
    assert not (tmp_path / "2026-11").exists()


def test_a_bad_option_is_one_line_without_the_usage(tmp_path):
    result = eikis("run", "--period", "2026-13", "--inbox", tmp_path)
    assert one_line_error(result) and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("url", ["garbage://", "postgresql+psycopg2://postgres@127.0.0.1:1/eikis", "sqlite:////nonexistent/dir/x.db"])
def test_a_store_that_cannot_be_used_is_one_line(tmp_path, url):
    line = one_line_error(eikis("retention", "--db", url, "--workdir", tmp_path))
    assert "store" in line


def test_an_unreachable_store_is_found_before_the_outbox_is_published(tmp_path):
    result = eikis("run", "--period", SAMPLE_PERIOD, "--inbox", SAMPLE_INBOX, "--outbox", tmp_path / "out",
                   "--policy", DEFAULT_POLICY, "--workdir", tmp_path / "work",
                   "--db", "postgresql+psycopg2://postgres@127.0.0.1:1/eikis")
    assert "store" in one_line_error(result)
    assert not (tmp_path / "out" / SAMPLE_PERIOD).exists()
    assert not (tmp_path / "work" / SAMPLE_PERIOD / "staging").exists()  # refused before any work


def test_a_workdir_that_is_a_file_is_one_line(tmp_path):
    workdir = tmp_path / "work"
    workdir.write_text("not a folder", encoding="utf-8")
    line = one_line_error(eikis("ingest", "--period", SAMPLE_PERIOD, "--inbox", SAMPLE_INBOX, "--workdir", workdir))
    assert str(workdir) in line


def test_a_policy_that_is_a_folder_is_one_line(tmp_path):
    (tmp_path / "policy.yaml").mkdir()
    line = one_line_error(eikis("run", "--period", SAMPLE_PERIOD, "--inbox", SAMPLE_INBOX, "--outbox",
                                tmp_path / "out", "--policy", tmp_path / "policy.yaml", "--workdir",
                                tmp_path / "work", "--no-db"))
    assert "policy.yaml" in line


def test_a_policy_with_a_wrong_type_is_one_line_naming_key_and_version(tmp_path):
    policy = tmp_path / "policy.yaml"
    policy.write_text(Path(DEFAULT_POLICY).read_text(encoding="utf-8").replace(
        "income_window_months: 12", "income_window_months: yes"), encoding="utf-8")
    line = one_line_error(eikis("run", "--period", SAMPLE_PERIOD, "--inbox", SAMPLE_INBOX, "--outbox",
                                tmp_path / "out", "--policy", policy, "--workdir", tmp_path / "work", "--no-db"))
    assert "income_window_months must be a whole number" in line and "version 2022-10" in line


def test_a_failed_stage_does_not_log_finished(caplog):
    log = get_logger("test")
    with caplog.at_level(logging.INFO, logger="eikis"), pytest.raises(RuntimeError), timed(log, "decide"):
        raise RuntimeError("boom")
    messages = [record.getMessage() for record in caplog.records]
    assert "decide: started" in messages
    assert not any("finished" in message for message in messages)
    assert any(message.startswith("decide: failed after") and "RuntimeError" in message for message in messages)
