"""Delivery failures in one line, after the month is recorded (issue 22, point 5): an SFTP server that accepts
the connection and then says nothing (a stalled server) makes `eikis run --recipients` end with one
`eikis: error:` line naming the recipient and the reason — no paramiko log lines, no exception text — and the month
it published is already in the store, because the record comes before any delivery is attempted."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

from tests.cli import eikis, one_line_error
from tests.conftest import DEFAULT_POLICY, SAMPLE_INBOX, SAMPLE_PERIOD


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP port on loopback that accepts connections and never sends a byte (no SSH banner)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join(timeout=5)
    for connection in held:
        connection.close()
    listener.close()


def test_a_stalled_server_is_one_line_and_the_month_is_recorded_first(tmp_path, silent_server):
    recipients = tmp_path / "recipients.yaml"
    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDZsGrTTGeM2RNs/z+L5YdCyFkeWpP1kDSeeQ4ETGsS8"
    recipients.write_text(json.dumps({
        "endpoints": {"stalled": {"host": "127.0.0.1", "port": silent_server, "username": "eikis", "timeout": 2,
                                  "host_key": key}},
        "recipients": [{"match": "*", "endpoint": "stalled", "remote_dir": "/{recipient}/{period}"}]}),
        encoding="utf-8")
    store = tmp_path / "store.sqlite"
    result = eikis("run", "--period", SAMPLE_PERIOD, "--inbox", SAMPLE_INBOX, "--outbox", tmp_path / "outbox",
                   "--policy", DEFAULT_POLICY, "--workdir", tmp_path / "work", "--db", f"sqlite:///{store}",
                   "--recipients", recipients)
    line = one_line_error(result)
    assert "the server stopped answering" in line and "delivery failed" in line, line
    for noise in ("paramiko", "SSHException", "Exception (client)", "banner", "Traceback"):
        assert noise not in result.stderr, result.stderr[-3000:]
    with create_engine(f"sqlite:///{store}").connect() as conn:
        recorded = conn.execute(text("SELECT period FROM runs")).scalars().all()
    assert recorded == [SAMPLE_PERIOD]  # before: published but not recorded
