"""A store filled by a real `eikis run` of the sample month, with one user per role, and signed-in test clients.

The sample person used throughout: Raivis Bērziņš, 261148-13241, at "Mežmaļi", Vecates pag., Valmieras nov.
(ARIS 101000047), a household of five counted persons (persons_01.xml); another Raivis Bērziņš lives elsewhere.
"""

from __future__ import annotations

import html
import re
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from pipeline.cli import main
from pipeline.portal.app import create_app
from pipeline.portal.serve import uvicorn_config
from pipeline.portal.settings import PortalSettings
from pipeline.portal.users import add_user
from pipeline.store.db import connect
from tests.conftest import DEFAULT_POLICY, SAMPLE_INBOX, SAMPLE_PERIOD

PASSWORD = "correct horse battery staple"
KEYS = {"EIKIS_PSEUDONYM_SECRET": "test-secret", "EIKIS_PORTAL_DATA_KEY": "test-data-key",
        "EIKIS_PORTAL_SESSION_KEY": "test-session-key", "EIKIS_DATA_DOCS": "0", "EIKIS_WORKERS": "1"}
CODE, CODE_NO_DASH = "261148-13241", "26114813241"
ARIS_CODE, ADDRESS = "101000047", '"Mežmaļi", Vecates pag., Valmieras nov., LV-1004'
OTHER_MEMBERS = {"32068894071": "Evita Liepiņa", "01075913248": "Inese Balode", "25090123240": "Inese Žagare",
                 "20116513245": "Jānis Zariņš"}


@dataclass(frozen=True)
class Store:
    url: str
    workdir: Path
    outbox: Path


@pytest.fixture(scope="session")
def portal_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    root = tmp_path_factory.mktemp("portal")
    url = f"sqlite:///{root / 'eikis.sqlite'}"
    with pytest.MonkeyPatch.context() as env:
        for name, value in KEYS.items():
            env.setenv(name, value)
        assert main(["run", "--period", SAMPLE_PERIOD, "--inbox", str(SAMPLE_INBOX), "--outbox", str(root / "outbox"),
                     "--policy", str(DEFAULT_POLICY), "--workdir", str(root / "work"), "--db", url]) == 0
    engine = connect(url)
    for role in ("staff", "auditor", "admin"):
        add_user(engine, role, role, PASSWORD)
    return Store(url, root / "work", root / "outbox")


def new_user(url: str, role: str = "staff") -> str:
    """A user of the test's own, for a test that changes what is stored for a user (its language): the store and
    the role users are shared by the session."""
    username = f"{role}-{uuid.uuid4().hex[:8]}"
    add_user(connect(url), username, role, PASSWORD)
    return username


def portal_settings(url: str, **changes: object) -> PortalSettings:
    return PortalSettings.from_env(url, environ={**KEYS, **{k: str(v) for k, v in changes.items()}})


@pytest.fixture
def app(portal_store: Store):
    return create_app(portal_settings(portal_store.url))


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def sign_in(client: TestClient, username: str, password: str = PASSWORD):
    token = csrf_of(client.get("/login").text)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token},
                       follow_redirects=False)


@pytest.fixture
def signed_in(app):
    """A factory: a TestClient signed in with the given role."""
    def make(role: str = "staff") -> TestClient:
        client = TestClient(app, raise_server_exceptions=False, headers={"Accept-Language": "en"})
        assert sign_in(client, role).status_code == 303
        return client
    return make


def search(client: TestClient, kind: str, query: str):
    token = csrf_of(client.get("/search").text)
    return client.post("/search", data={"kind": kind, "q": query, "csrf_token": token})


def household_links(html: str) -> list[str]:
    return re.findall(r'href="(/household/[^"]+)"', html)


def open_household(client: TestClient, aris_code: str) -> str:
    """The household page of an ARIS code (found by address search, as staff find it), entities unescaped."""
    return html.unescape(client.get(household_links(search(client, "address", aris_code).text)[0]).text)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running_portal(settings: PortalSettings) -> Iterator[str]:
    """The app under real uvicorn on a loopback port, configured as `eikis portal` configures it."""
    import uvicorn

    config = uvicorn_config(create_app(settings), settings, "127.0.0.1", free_port(), log_config=None,
                            lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
