"""SFTP delivery against a real server on loopback: atomic rename, manifest last, no resend of identical files,
a connection dropped in the middle of an upload, and (issue 9, point 4) a verified host key, a timeout on a server
that stops answering, no temporary file left after a failure, and plain words for a full disk or a refusal."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from pathlib import Path

import pytest

from pipeline.config import Settings
from pipeline.deliver.sftp import DeliveryPlan, Endpoint, HostKeyRefused, RecipientsConfig, deliver, plan_deliveries
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


def config(port: int, host_key: str | None = None) -> RecipientsConfig:
    return RecipientsConfig(
        endpoints={"loopback": {"host": "127.0.0.1", "port": port, "username": USER, "password": PASSWORD,
                                "host_key": host_key, "timeout": 10}},
        rules=[{"match": "*", "endpoint": "loopback", "remote_dir": "/outgoing/{recipient}/{period}"}])


@pytest.fixture
def server(tmp_path):
    running = LoopbackSFTPServer(tmp_path / "sftp").start()
    yield running
    running.stop()


def test_every_recipient_gets_its_files_and_its_own_manifest(outbox, server):
    cfg = config(server.port, server.host_key_line)
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
    cfg = config(server.port, server.host_key_line)
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
        cfg = config(server.port, server.host_key_line)
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
    endpoint = Endpoint(host="127.0.0.1", port=1, username=USER, password=PASSWORD, timeout=2,
                        host_key="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDZsGrTTGeM2RNs/z+L5YdCyFkeWpP1kDSeeQ4ETGsS8")
    with pytest.raises(DeliveryError, match=rf"{plan.recipient}: delivery failed after 2 attempts"):
        deliver(plan, endpoint, outbox, SAMPLE_PERIOD, attempts=2, backoff_seconds=0.01)


def test_a_recipient_without_a_rule_is_a_configuration_error(outbox):
    cfg = RecipientsConfig(endpoints={}, rules=[{"match": "dso_*", "endpoint": "x"}])
    with pytest.raises(DeliveryError, match="no delivery rule for recipient"):
        plan_deliveries(outbox, SAMPLE_PERIOD, cfg)


OTHER_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDZsGrTTGeM2RNs/z+L5YdCyFkeWpP1kDSeeQ4ETGsS8"


def dso_plan(outbox: Path, port: int) -> DeliveryPlan:
    return next(p for p in plan_deliveries(outbox, SAMPLE_PERIOD, config(port)) if p.recipient == "dso_electricity")


def leftovers(root: Path) -> list[str]:
    return [p.name for p in root.rglob("*") if p.name.endswith(".part")]


def test_a_server_whose_host_key_is_not_configured_is_refused_and_gets_nothing(outbox, server, tmp_path):
    plan = dso_plan(outbox, server.port)
    unknown = tmp_path / "known_hosts"
    unknown.write_text(f"[127.0.0.1]:{server.port} {OTHER_KEY}\n", encoding="utf-8")
    refusals = {
        "none": (Endpoint("127.0.0.1", server.port, USER, PASSWORD, timeout=5), "no verified host key configured"),
        "other key": (Endpoint("127.0.0.1", server.port, USER, PASSWORD, host_key=OTHER_KEY, timeout=5),
                      "presented a different ssh-ed25519 host key"),
        "known_hosts": (Endpoint("127.0.0.1", server.port, USER, PASSWORD, known_hosts=str(unknown), timeout=5),
                        "presented a different ssh-ed25519 host key"),
    }
    for name, (endpoint, reason) in refusals.items():
        with pytest.raises(HostKeyRefused, match=reason):
            deliver(plan, endpoint, outbox, SAMPLE_PERIOD, attempts=3, backoff_seconds=0.01)
        assert not (server.root / "outgoing").exists(), name
    known = tmp_path / "known_hosts_ok"
    known.write_text(server.known_hosts_line, encoding="utf-8")
    rows = deliver(plan, Endpoint("127.0.0.1", server.port, USER, PASSWORD, known_hosts=str(known), timeout=5),
                   outbox, SAMPLE_PERIOD)
    assert {row["status"] for row in rows} == {"DELIVERED"}


def test_a_server_that_stops_answering_mid_write_fails_within_the_timeout(outbox, tmp_path):
    stalling = LoopbackSFTPServer(tmp_path / "sftp", stall_after_bytes=4096, stalls=99).start()
    outcome: list[BaseException | None] = []
    try:
        plan = dso_plan(outbox, stalling.port)
        endpoint = Endpoint("127.0.0.1", stalling.port, USER, PASSWORD, host_key=stalling.host_key_line, timeout=2)

        def attempt() -> None:
            try:
                deliver(plan, endpoint, outbox, SAMPLE_PERIOD, attempts=2, backoff_seconds=0.1)
                outcome.append(None)
            except BaseException as exc:  # noqa: BLE001 - handed to the test thread
                outcome.append(exc)

        started = time.monotonic()
        worker = threading.Thread(target=attempt, daemon=True)
        worker.start()
        worker.join(timeout=60)
        assert not worker.is_alive(), "delivery hung on a silent server"
        assert time.monotonic() - started < 60
    finally:
        stalling.stop()
    assert isinstance(outcome[0], DeliveryError)
    assert "dso_electricity: delivery failed after 2 attempts: the server stopped answering (no reply within 2 s)" \
        in str(outcome[0])


def test_a_silent_server_is_retried_and_its_temporary_file_removed(outbox, tmp_path):
    stalling = LoopbackSFTPServer(tmp_path / "sftp", stall_after_bytes=4096, stalls=1).start()
    try:
        plan = dso_plan(outbox, stalling.port)
        endpoint = Endpoint("127.0.0.1", stalling.port, USER, PASSWORD, host_key=stalling.host_key_line, timeout=2)
        rows = deliver(plan, endpoint, outbox, SAMPLE_PERIOD, attempts=3, backoff_seconds=0.1)
        assert rows[0]["attempts"] == 2
    finally:
        stalling.stop()
    assert leftovers(stalling.root) == []


def test_a_full_remote_disk_is_said_plainly_and_leaves_no_temporary_file(outbox, tmp_path):
    full = LoopbackSFTPServer(tmp_path / "sftp", disk_full_after_bytes=4096).start()
    try:
        plan = dso_plan(outbox, full.port)
        endpoint = Endpoint("127.0.0.1", full.port, USER, PASSWORD, host_key=full.host_key_line, timeout=5)
        with pytest.raises(DeliveryError) as raised:
            deliver(plan, endpoint, outbox, SAMPLE_PERIOD, attempts=3, backoff_seconds=0.01)
        remote = full.root / "outgoing" / "dso_electricity" / SAMPLE_PERIOD
        assert raised.value.one_line() == f"dso_electricity (/outgoing/dso_electricity/{SAMPLE_PERIOD}): " \
            "remote disk full (or quota exceeded)"
        assert full.connections == 2, "not retried (one session to upload, one to clean up)"
        assert remote.is_dir() and leftovers(full.root) == []
    finally:
        full.stop()


def test_a_permission_refusal_is_said_plainly_and_not_retried(outbox, tmp_path):
    refusing = LoopbackSFTPServer(tmp_path / "sftp", deny_writes=True).start()
    try:
        plan = dso_plan(outbox, refusing.port)
        endpoint = Endpoint("127.0.0.1", refusing.port, USER, PASSWORD, host_key=refusing.host_key_line, timeout=5)
        with pytest.raises(DeliveryError, match=r"^dso_electricity \(/outgoing/dso_electricity/2026-11\): "
                                                r"permission denied by the remote server$"):
            deliver(plan, endpoint, outbox, SAMPLE_PERIOD, attempts=3, backoff_seconds=0.01)
        assert refusing.connections == 2
    finally:
        refusing.stop()


def test_an_airflow_connection_gives_its_host_key_and_timeout_and_may_not_skip_the_check():
    endpoint = Endpoint.from_connection("sftp.example", None, "eikis", "pw",
                                        {"host_key": OTHER_KEY, "conn_timeout": "12"})
    assert (endpoint.port, endpoint.host_key, endpoint.timeout) == (22, OTHER_KEY, 12.0)
    assert Endpoint.from_connection("h", 2222, "u", None, {"known_hosts": "/k"}).known_hosts == "/k"
    with pytest.raises(HostKeyRefused, match="h: the connection sets no_host_key_check; EIKIS delivers only"):
        Endpoint.from_connection("h", 22, "u", "p", {"no_host_key_check": "true"})
