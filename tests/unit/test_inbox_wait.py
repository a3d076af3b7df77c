"""Which runs wait for the inbox (issue 9, point 9): only a scheduled run whose inbox for P has begun to fill."""

from __future__ import annotations

import shutil

import pytest

from pipeline.errors import SourceError
from pipeline.flows.monthly import RunConfig, inbox_ready
from tests.conftest import SAMPLE_INBOX, SAMPLE_PERIOD


def config(inbox) -> RunConfig:
    return RunConfig(period=SAMPLE_PERIOD, inbox=str(inbox), workdir=str(inbox / "work"))


def partial_inbox(tmp_path):
    shutil.copytree(SAMPLE_INBOX / SAMPLE_PERIOD / "aris", tmp_path / SAMPLE_PERIOD / "aris")
    return tmp_path


def test_a_scheduled_run_with_nothing_delivered_fails_at_once(tmp_path):
    with pytest.raises(SourceError, match=rf"nothing delivered for {SAMPLE_PERIOD} \(no inbox folder\); this "
                                          "scheduled run stops instead of waiting"):
        inbox_ready(config(tmp_path), scheduled=True)


def test_a_scheduled_run_waits_for_the_rest_once_delivery_has_begun(tmp_path, capsys):
    assert inbox_ready(config(partial_inbox(tmp_path)), scheduled=True) is False
    assert "waiting for sources of 2026-11: pmlp, vid" in capsys.readouterr().out


def test_a_manual_run_never_waits(tmp_path):
    with pytest.raises(SourceError, match=r"no file yet for pmlp, vid, .*a manual run does not wait"):
        inbox_ready(config(partial_inbox(tmp_path)), scheduled=False)


def test_a_complete_inbox_is_ready_for_any_run():
    assert inbox_ready(config(SAMPLE_INBOX), scheduled=True) and inbox_ready(config(SAMPLE_INBOX), scheduled=False)


def test_an_inbox_of_the_wrong_shape_fails_at_once_instead_of_being_waited_for(tmp_path):
    """A symlinked or misplaced file is not a source "not yet delivered": waiting would only time out days later."""
    inbox = partial_inbox(tmp_path)
    (inbox / SAMPLE_PERIOD / "vid").mkdir()
    (inbox / SAMPLE_PERIOD / "vid" / "income_01.xml").symlink_to(SAMPLE_INBOX / SAMPLE_PERIOD / "vid" / "income_01.xml")
    with pytest.raises(SourceError, match="vid/income_01.xml: is a symbolic link"):
        inbox_ready(config(inbox), scheduled=True)
