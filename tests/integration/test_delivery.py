"""SFTP delivery against a real server on loopback: atomic rename, manifest last, no resend of identical files,
and a connection dropped in the middle of an upload."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from pipeline.config import Settings
from pipeline.deliver.sftp import Endpoint, RecipientsConfig, deliver, plan_deliveries
from pipeline.errors import DeliveryError
from pipeline.flows.monthly import run_month
from tests.conftest import DEFAULT_POLICY, SAMPLE_INBOX, SAMPLE_PERIOD
from tests.sftp_server import PASSWORD, USER, LoopbackSFTPServer


@pytest.fixture(scope="module")
def outbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("published")
    settings = Settings(pseudonym_secret=b"test-secret", workers=1, data_docs=False)
    run_month(SAMPLE_PERIOD, SAMPLE_INBOX, root / "outbox", DEFAULT_POLICY, root / "work", settings)
    return root / "outbox"


def config(port: int) -> RecipientsConfig:
    return RecipientsConfig(
        endpoints={"loopback": {"host": "127.0.0.1", "port": port, "username": USER, "password": PASSWORD,
                                "timeout": 10}},
        rules=[{"match": "*", "endpoint": "loopback", "remote_dir": "/outgoing/{recipient}/{period}"}])


@pytest.fixture
def server(tmp_path):
    running = LoopbackSFTPServer(tmp_path / "sftp").start()
    yield running
    running.stop()


def test_every_recipient_gets_its_files_and_its_own_manifest(outbox, server):
    cfg = config(server.port)
    plans = plan_deliveries(outbox, SAMPLE_PERIOD, cfg)
    assert {p.recipient for p in plans} >= {"dso_electricity", "dso_gas"}
    for plan in plans:
        rows = deliver(plan, cfg.endpoint(plan.endpoint), outbox, SAMPLE_PERIOD, backoff_seconds=0.1)
        assert {row["status"] for row in rows} == {"DELIVERED"}
    heat = next(p for p in plans if p.recipient.startswith("heat/"))
    remote = server.root / "outgoing" / heat.recipient / SAMPLE_PERIOD
    manifest = json.loads((remote / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["recipient"] == heat.recipient
    delivered = sorted(p.name for p in remote.iterdir() if p.name != "manifest.json")
    assert [f["path"] for f in manifest["files"]] == delivered
    for entry in manifest["files"]:
        assert hashlib.sha256((remote / entry["path"]).read_bytes()).hexdigest() == entry["sha256"]
    assert not [p for p in server.root.rglob("*") if p.name.startswith(".eikis-")]


def test_identical_files_are_not_sent_again(outbox, server):
    cfg = config(server.port)
    plan = next(p for p in plan_deliveries(outbox, SAMPLE_PERIOD, cfg) if p.recipient == "dso_electricity")
    deliver(plan, cfg.endpoint(plan.endpoint), outbox, SAMPLE_PERIOD)
    target = server.root / "outgoing" / "dso_electricity" / SAMPLE_PERIOD / "eligibility.csv"
    before = target.stat().st_mtime_ns
    rows = deliver(plan, cfg.endpoint(plan.endpoint), outbox, SAMPLE_PERIOD)
    assert {row["status"] for row in rows} == {"UNCHANGED"}
    assert target.stat().st_mtime_ns == before


def test_a_connection_dropped_mid_upload_is_retried_and_never_leaves_a_partial_file(outbox, tmp_path):
    server = LoopbackSFTPServer(tmp_path / "sftp", drop_after_bytes=4096, drops=2).start()
    try:
        cfg = config(server.port)
        plan = next(p for p in plan_deliveries(outbox, SAMPLE_PERIOD, cfg) if p.recipient == "dso_electricity")
        size = (outbox / SAMPLE_PERIOD / "dso_electricity" / "eligibility.csv").stat().st_size
        assert size > 4096, "the file must be larger than the drop point"
        rows = deliver(plan, cfg.endpoint(plan.endpoint), outbox, SAMPLE_PERIOD, backoff_seconds=0.05)
        assert rows[0]["attempts"] == 3 and server.connections >= 3
        remote = server.root / "outgoing" / "dso_electricity" / SAMPLE_PERIOD
        assert (remote / "eligibility.csv").read_bytes() == (outbox / SAMPLE_PERIOD / "dso_electricity" /
                                                             "eligibility.csv").read_bytes()
        assert sorted(p.name for p in remote.iterdir()) == ["address_errors.csv", "eligibility.csv", "manifest.json"]
    finally:
        server.stop()


def test_delivery_gives_up_with_a_clear_error_when_the_server_is_gone(outbox, tmp_path):
    plan = plan_deliveries(outbox, SAMPLE_PERIOD, config(1))[0]
    endpoint = Endpoint(host="127.0.0.1", port=1, username=USER, password=PASSWORD, timeout=2)
    with pytest.raises(DeliveryError, match=rf"{plan.recipient}: delivery failed after 2 attempts"):
        deliver(plan, endpoint, outbox, SAMPLE_PERIOD, attempts=2, backoff_seconds=0.01)


def test_a_recipient_without_a_rule_is_a_configuration_error(outbox):
    cfg = RecipientsConfig(endpoints={}, rules=[{"match": "dso_*", "endpoint": "x"}])
    with pytest.raises(DeliveryError, match="no delivery rule for recipient"):
        plan_deliveries(outbox, SAMPLE_PERIOD, cfg)
