"""`ingest_all` (the CLI's ingest: the sources two at a time in processes of `concurrent.futures`, through the
DAG's per-source function, each source's files parsed two at a time too) stages what the sources staged one by
one give, and a bad source fails the whole ingest (and `eikis run`) with its one line, leaving no partial staging
and no process behind."""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipeline.catalog import SOURCE_ORDER, SOURCES_WITHOUT_ADDRESSES
from pipeline.config import Settings
from pipeline.errors import SourceError
from pipeline.flows import monthly
from pipeline.flows.monthly import Finished, RunConfig, ingest, ingest_all
from pipeline.handoff import SourceSummary
from pipeline.quality.sealing import Sealer
from pipeline.sources.vidversions import MARK, repeated_documents
from tests.cli import eikis, one_line_error
from tests.conftest import DEFAULT_POLICY, SAMPLE_INBOX, SAMPLE_PERIOD

SETTINGS = Settings(pseudonym_secret=b"test-secret", workers=2, data_docs=True)
TRUNCATED_VID = r"/vid/income_01.xml:\d+ \(record \d+\): malformed XML: "


@pytest.fixture(scope="module")
def together_and_one_by_one(tmp_path_factory) -> tuple[Path, Path, list[tuple[str, str, int]]]:
    base = tmp_path_factory.mktemp("concurrent")
    events: list[tuple[str, str, int]] = []  # (start|finish, source, pid)
    ingest_all(RunConfig(SAMPLE_PERIOD, str(SAMPLE_INBOX), str(base / "together")), SETTINGS,
               lambda source, pid: events.append(("start", source, pid)),
               lambda done: events.append(("finish", done.name, os.getpid())))
    one_by_one = RunConfig(SAMPLE_PERIOD, str(SAMPLE_INBOX), str(base / "one_by_one"))
    for source in SOURCE_ORDER:
        ingest(one_by_one, source, SETTINGS)
    return base / "together" / SAMPLE_PERIOD, base / "one_by_one" / SAMPLE_PERIOD, events


def test_aris_goes_first_and_the_sources_checked_against_it_start_once_it_is_staged(together_and_one_by_one):
    """No home-made scheduler (issue 21): `concurrent.futures` runs two sources at a time; ARIS starts first,
    beside a source that checks no address, and PMLP and the connection lists only after ARIS has finished."""
    _, _, events = together_and_one_by_one
    started = [source for kind, source, _ in events if kind == "start"]
    assert started[0] == "aris" and sorted(started) == sorted(SOURCE_ORDER)
    assert sorted(source for kind, source, _ in events if kind == "finish") == sorted(SOURCE_ORDER)
    aris_done = events.index(("finish", "aris", os.getpid()))
    for position, (kind, source, _) in enumerate(events):
        if kind == "start" and source != "aris" and source not in SOURCES_WITHOUT_ADDRESSES:
            assert position > aris_done, (source, events)
    assert {pid for _, _, pid in events} == {os.getpid()}  # progress is reported in the run's own process


def test_one_worker_ingests_the_sources_one_after_the_other_in_catalog_order(tmp_path):
    events: list[str] = []
    ingest_all(RunConfig(SAMPLE_PERIOD, str(SAMPLE_INBOX), str(tmp_path / "work")),
               Settings(pseudonym_secret=b"test-secret", workers=1, data_docs=False),
               lambda source, pid: events.append(f"start {source} {pid == os.getpid()}"),
               lambda done: events.append(f"finish {done.name}"))
    assert events == [line for source in SOURCE_ORDER for line in (f"start {source} True", f"finish {source}")]


def _aris_fails_at_once(run: RunConfig, source: str, settings: Settings):
    """In place of the per-source function, in the forked lanes: ARIS fails at once, the others take a second."""
    if source == "aris":
        raise SourceError("register unreadable", file=f"{run.inbox}/aris/register.csv", line=3)
    time.sleep(1)
    return SourceSummary(source=source)


def test_after_a_failure_no_further_source_starts_and_the_failure_is_raised_as_raised(tmp_path, monkeypatch):
    monkeypatch.setattr(monthly, "_ingest", _aris_fails_at_once)
    started: list[str] = []
    finished: list[Finished] = []
    with pytest.raises(SourceError) as raised:
        ingest_all(RunConfig(SAMPLE_PERIOD, str(SAMPLE_INBOX), str(tmp_path / "work")),
                   Settings(pseudonym_secret=b"test-secret", workers=2, data_docs=False),
                   lambda source, pid: started.append(source), finished.append)
    assert raised.value.one_line() == f"{SAMPLE_INBOX}/aris/register.csv:3: register unreadable"
    assert (raised.value.file, raised.value.line) == (f"{SAMPLE_INBOX}/aris/register.csv", 3)
    assert started == ["aris", "vid"] and finished == []  # VID, beside it, ran to its end; nothing started after


def test_a_source_listed_as_checking_no_address_that_checks_one_fails_loudly(tmp_path, monkeypatch):
    from pipeline import ingest as ingest_module

    monkeypatch.setattr(ingest_module, "SOURCES_WITHOUT_ADDRESSES", ("pmlp",))
    config = RunConfig(SAMPLE_PERIOD, str(SAMPLE_INBOX), str(tmp_path / "work"))
    ingest(config, "aris", SETTINGS)
    with pytest.raises(RuntimeError, match="ARIS must be staged before sources that reference addresses"):
        ingest(config, "pmlp", SETTINGS)


def test_a_bad_aris_file_fails_the_rounds_with_the_line_it_fails_with_alone(tmp_path):
    inbox = tmp_path / "inbox"
    shutil.copytree(SAMPLE_INBOX, inbox)
    register = sorted((inbox / SAMPLE_PERIOD / "aris").glob("*.csv"))[0]
    register.write_bytes(register.read_bytes().replace(b"KODS", b"KODZ", 1))  # a required column renamed
    errors = []
    for name, settings in (("rounds", SETTINGS), ("alone", Settings(pseudonym_secret=b"test-secret", workers=1))):
        with pytest.raises(SourceError) as raised:
            ingest_all(RunConfig(SAMPLE_PERIOD, str(inbox), str(tmp_path / name)), settings)
        errors.append(raised.value.one_line())
        assert not list((tmp_path / name / SAMPLE_PERIOD / "staging").glob(".*.partial"))
    assert errors[0] == errors[1] and "KODS" in errors[0]


def _opened(table, sealer: Sealer):
    """The staged table with sealed display names opened: each is sealed under a random nonce, so only the names
    can be compared, never the sealed bytes."""
    if "name_sealed" not in table.column_names:
        return table
    names = [sealer.open(value) if value else value for value in table["name_sealed"].to_pylist()]
    return table.set_column(table.column_names.index("name_sealed"), "name_sealed", [names])


def test_staged_tables_quarantines_and_summaries_are_those_of_the_sources_one_by_one(together_and_one_by_one):
    together, one_by_one, _ = together_and_one_by_one
    sealer = Sealer(SETTINGS.portal_data_key)
    for source in SOURCE_ORDER:
        files = sorted(path.name for path in (together / "staging" / f"{source}.parquet").iterdir())
        assert files == sorted(path.name for path in (one_by_one / "staging" / f"{source}.parquet").iterdir())
        parts = [name for name in files if name.endswith(".parquet")]
        if source == "vid":         # and the corrections ingest set aside beside the parts, the same records
            assert sorted(set(files) - set(parts)) == [MARK]
            marks = [repeated_documents(sorted((root / "staging" / "vid.parquet").glob("*.parquet")))
                     .sort_by([("file", "ascending"), ("record", "ascending")]) for root in (together, one_by_one)]
            assert marks[0].equals(marks[1])
        for part in parts:
            staged = [_opened(pq.read_table(root / "staging" / f"{source}.parquet" / part), sealer)
                      for root in (together, one_by_one)]
            assert staged[0].equals(staged[1], check_metadata=True), (source, part)
        quarantined = [(root / "quarantine" / f"{source}.parquet").read_bytes() for root in (together, one_by_one)]
        assert quarantined[0] == quarantined[1], source
        for name in (f"{source}.json", f"{source}.validation.json"):
            summaries = [json.loads((root / "summaries" / name).read_text()) for root in (together, one_by_one)]
            for summary in summaries:
                summary.pop("seconds", None)  # timing, the only field that may differ
            assert summaries[0] == summaries[1], name
        assert json.loads((together / "summaries" / f"{source}.json").read_text())["staged"] > 0, source
    assert not list((together / "staging").glob(".*.partial"))


def test_the_data_docs_index_lists_every_source_whichever_finished_last(together_and_one_by_one):
    together, _, _ = together_and_one_by_one
    index = (together / "data_docs" / "index.html").read_text(encoding="utf-8")
    assert all(f'<a href="{source}/index.html">' in index for source in SOURCE_ORDER)
    assert index.count("✔ passed") == len(SOURCE_ORDER)
    assert not list((together / "data_docs").glob(".*.tmp")) and not list((together / "summaries").glob(".*.tmp"))


def test_decide_rewrites_an_index_that_parallel_ingest_tasks_left_short(together_and_one_by_one, tmp_path):
    """Airflow's ingest tasks each write the index as they finish; decide, the first task after all of them,
    writes it once more from every source's summary."""
    together, _, _ = together_and_one_by_one
    workdir = tmp_path / "work"
    shutil.copytree(together, workdir / SAMPLE_PERIOD)
    index = workdir / SAMPLE_PERIOD / "data_docs" / "index.html"
    index.write_text("<html>only aris: <a href=\"aris/index.html\">aris</a></html>", encoding="utf-8")
    monthly.decide(RunConfig(SAMPLE_PERIOD, str(SAMPLE_INBOX), str(workdir), policy=str(DEFAULT_POLICY)), SETTINGS)
    assert all(f'<a href="{source}/index.html">' in index.read_text(encoding="utf-8") for source in SOURCE_ORDER)


def _truncated_vid(tmp_path: Path) -> Path:
    inbox = tmp_path / "inbox"
    shutil.copytree(SAMPLE_INBOX, inbox)
    vid = inbox / SAMPLE_PERIOD / "vid" / "income_01.xml"
    vid.write_bytes(vid.read_bytes()[:-200])  # cut mid-record, as an interrupted transfer leaves it
    return inbox


def test_a_truncated_vid_file_fails_the_whole_ingest_with_its_one_line_and_stops_there(tmp_path):
    inbox = _truncated_vid(tmp_path)
    started: dict[str, int] = {}
    with pytest.raises(SourceError) as raised:
        ingest_all(RunConfig(SAMPLE_PERIOD, str(inbox), str(tmp_path / "work")), SETTINGS,
                   lambda source, pid: started.__setitem__(source, pid))
    with pytest.raises(SourceError) as one_by_one:
        ingest_all(RunConfig(SAMPLE_PERIOD, str(inbox), str(tmp_path / "sequential")),
                   Settings(pseudonym_secret=b"test-secret", workers=1, data_docs=True))
    assert raised.value.one_line() == one_by_one.value.one_line()  # file, line, record and reason, as before
    assert re.search(TRUNCATED_VID, raised.value.one_line()) and "\n" not in raised.value.one_line()
    assert not (tmp_path / "work" / SAMPLE_PERIOD / "staging" / "vid.parquet").exists()
    assert not list((tmp_path / "work" / SAMPLE_PERIOD / "staging").glob(".*.partial"))
    assert "vid" in started


def test_eikis_run_with_two_workers_exits_with_the_vid_line_and_publishes_nothing(tmp_path):
    result = eikis("run", "--period", SAMPLE_PERIOD, "--inbox", _truncated_vid(tmp_path), "--outbox",
                   tmp_path / "outbox", "--policy", DEFAULT_POLICY, "--workdir", tmp_path / "work", "--no-db",
                   env={"EIKIS_WORKERS": "2"})
    line = one_line_error(result)
    # the VID line, not PeriodBusy: the sources did not take P's lock again under `run_month`'s
    assert re.search(f"^eikis: error: .*{TRUNCATED_VID}", line), line
    assert result.stderr.count("eikis: error:") == 1 and "BrokenProcessPool" not in result.stderr
    assert re.search(r" eikis\.flows\.monthly \[vid\]: ingest vid: failed after ", result.stderr)  # lines name it
    assert not (tmp_path / "outbox" / SAMPLE_PERIOD).exists()
