"""Issue 24.4: sign-in that protects without locking the office, and the shell commands that manage it.

Wrong passwords lock the user (everywhere) until the window passes or an admin runs `eikis portal-user unlock`;
the colleagues behind the same address are not locked by them. Unknown user names lock the client. Passwords are
read without echo on a terminal; `--db` never creates a store.
"""

from __future__ import annotations

import os
import pty
import select
import signal
import sys
import time
from pathlib import Path

from fastapi.testclient import TestClient

from pipeline.cli import main
from pipeline.portal.app import create_app
from pipeline.portal.users import add_user, check_password
from pipeline.store.db import connect
from tests.portal.conftest import PASSWORD, portal_settings, sign_in

ROOT = Path(__file__).resolve().parents[2]


def test_wrong_passwords_lock_the_user_not_the_office_and_an_admin_unlocks(portal_store, capsys):
    engine = connect(portal_store.url)
    add_user(engine, "forgetful", "staff", PASSWORD)
    app = create_app(portal_settings(portal_store.url, EIKIS_PORTAL_MAX_FAILURES=3))
    office = TestClient(app, client=("10.1.0.1", 5000))
    for _ in range(3):
        assert sign_in(office, "forgetful", "wrong password!").status_code == 401
    assert sign_in(office, "forgetful").status_code == 429                      # the user is locked ...
    assert sign_in(TestClient(app, client=("10.1.0.2", 5000)), "forgetful").status_code == 429   # everywhere
    assert sign_in(office, "auditor").status_code == 303             # ... a colleague at the same address is not
    assert main(["portal-user", "unlock", "--db", portal_store.url, "--username", "forgetful"]) == 0
    assert "forgetful unlocked" in capsys.readouterr().out
    assert sign_in(office, "forgetful").status_code == 303


def test_unknown_user_names_lock_the_client(portal_store):
    app = create_app(portal_settings(portal_store.url, EIKIS_PORTAL_MAX_FAILURES=3))
    scanner = TestClient(app, client=("10.2.0.1", 5000))
    for name in ("admin1", "root", "test"):
        assert sign_in(scanner, name, "wrong password!").status_code == 401
    assert sign_in(scanner, "staff").status_code == 429            # no more guessing from this machine
    assert sign_in(TestClient(app, client=("10.2.0.2", 5000)), "staff").status_code == 303


def test_many_wrong_passwords_from_one_client_still_hit_a_higher_bound(portal_store):
    engine = connect(portal_store.url)
    for i in range(4):
        add_user(engine, f"sprayed{i}", "staff", PASSWORD)
    app = create_app(portal_settings(portal_store.url, EIKIS_PORTAL_MAX_FAILURES=2,
                                     EIKIS_PORTAL_CLIENT_MAX_FAILURES=6))
    sprayer = TestClient(app, client=("10.3.0.1", 5000))
    statuses = [sign_in(sprayer, f"sprayed{i}", f"guess {j} is wrong").status_code for i in range(4) for j in (1, 2)]
    assert statuses[:6] == [401] * 6 and statuses[6:] == [429, 429]
    assert sign_in(sprayer, "auditor").status_code == 429
    assert sign_in(TestClient(app, client=("10.3.0.2", 5000)), "auditor").status_code == 303


def test_unlock_of_an_unknown_user_is_a_one_line_error(portal_store, capsys):
    assert main(["portal-user", "unlock", "--db", portal_store.url, "--username", "nobody-here"]) == 2
    assert "no user nobody-here" in capsys.readouterr().err


def _run_on_a_terminal(argv: list[str], typed: list[str]) -> tuple[int, str]:
    """Run `eikis ARGV` with a pseudo-terminal as its controlling terminal, typing each line when asked."""
    pid, master = pty.fork()
    if pid == 0:                                             # the child: the terminal is its stdin/stdout/stderr
        os.chdir(ROOT)
        os.execv(sys.executable, [sys.executable, "-c", "import sys; from pipeline.cli import main; "
                                  "sys.exit(main(sys.argv[1:]))", *argv])
    output, pending, deadline = b"", list(typed), time.monotonic() + 300    # imports are slow on a busy machine
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
            if pending and output.endswith(b": "):          # a prompt, not the newline after the answer
                os.write(master, pending.pop(0).encode() + b"\r")
    if time.monotonic() >= deadline:
        os.kill(pid, signal.SIGKILL)                         # never leave the test waiting on a prompt
    _, status = os.waitpid(pid, 0)
    os.close(master)
    return os.waitstatus_to_exitcode(status), output.decode(errors="replace")


def test_portal_user_add_on_a_terminal_does_not_echo_the_password(portal_store):
    secret = "tty typed passphrase 42"
    code, screen = _run_on_a_terminal(["portal-user", "add", "--db", portal_store.url, "--username", "ttyuser",
                                       "--role", "staff"], [secret, secret])
    assert code == 0, screen
    assert secret not in screen and "ttyuser added" in screen
    assert check_password(connect(portal_store.url), "ttyuser", secret) is not None


def test_portal_user_add_on_a_terminal_refuses_a_mistyped_confirmation(portal_store):
    code, screen = _run_on_a_terminal(["portal-user", "add", "--db", portal_store.url, "--username", "ttytypo",
                                       "--role", "staff"], ["first passphrase 123", "other passphrase 123"])
    assert code == 2 and "do not match" in screen
    assert check_password(connect(portal_store.url), "ttytypo", "first passphrase 123") is None


def test_db_that_does_not_exist_is_refused_and_not_created(tmp_path, capsys, monkeypatch):
    typo = tmp_path / "eikis.sqllite"
    for argv in (["portal-user", "list", "--db", f"sqlite:///{typo}"],
                 ["portal-user", "unlock", "--db", f"sqlite:///{typo}", "--username", "x"],
                 ["portal", "--db", f"sqlite:///{typo}", "--host", "192.0.2.1"]):
        monkeypatch.setenv("EIKIS_PORTAL_SESSION_KEY", "test-session-key")
        monkeypatch.setenv("EIKIS_PORTAL_DATA_KEY", "test-data-key")
        assert main(argv) == 2
        error = capsys.readouterr().err
        assert str(typo) in error and "eikis db upgrade" in error, argv
        assert not typo.exists()
