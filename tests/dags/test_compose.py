"""docker-compose.yaml cannot run here (no Docker engine): check its structure, and run what it runs.

The helpers the containers execute (deploy/*.sh, deploy/*.py, the `_CMD` settings) run here for real, against
temporary secret files; the compose file is checked against the code it deploys (every `EIKIS_*` setting a flow
reads is derived from the code, not listed by hand).
"""

from __future__ import annotations

import ast
import base64
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from datetime import date as dt_date
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
AIRFLOW_SERVICES = ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-worker",
                    "airflow-triggerer", "airflow-init")
IMAGE = "eikis-airflow:0.1.0"

# Settings the code reads that the deployment deliberately leaves unset, each with the reason.
LEFT_UNSET = {
    "EIKIS_DEV_MODE": "development values of the secrets: never in production",
    "EIKIS_DB_PASSWORD": "the store's password comes from the file EIKIS_DB_PASSWORD_FILE names",
    "EIKIS_QUARANTINE_TOLERANCE": "the policy's per-source share applies; an override is a decision for one run",
    "EIKIS_BATCH_ROWS": "tuning knob; the default fits the worker's memory",
    "EIKIS_DATA_DOCS": "GX data docs stay on (the default)",
}


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yaml").read_text(encoding="utf-8"))


def secret_targets(service: dict) -> set[str]:
    """The file names a service's secrets appear under in /run/secrets/."""
    return {item if isinstance(item, str) else item.get("target", item["source"]) for item in
            service.get("secrets", [])}


def secret_sources(service: dict) -> set[str]:
    return {item if isinstance(item, str) else item["source"] for item in service.get("secrets", [])}


def settings_the_code_reads() -> dict[str, set[str]]:
    """Every `EIKIS_*` name a DAG, the settings module or a flow (what the tasks run) uses as a string constant."""
    files = [*sorted((ROOT / "dags").glob("*.py")), ROOT / "pipeline" / "config.py",
             *sorted((ROOT / "pipeline" / "flows").glob("*.py"))]
    found: dict[str, set[str]] = {}
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and re.fullmatch(r"EIKIS_[A-Z0-9_]+", node.value):
                found.setdefault(node.value, set()).add(path.relative_to(ROOT).as_posix())
    return found


def test_every_production_service_is_there():
    services = compose()["services"]
    assert {"airflow-db", "store-db", "redis", "sftp-in", "sftp-out", "portal", "store-migrate", "volumes-init",
            *AIRFLOW_SERVICES} <= set(services)
    commands = {name: service.get("command") for name, service in services.items()}
    assert commands["airflow-apiserver"] == "api-server" and commands["airflow-dag-processor"] == "dag-processor"
    assert commands["airflow-worker"] == "celery worker" and commands["airflow-scheduler"] == "scheduler"


def test_every_setting_a_flow_reads_is_set_for_the_worker_that_runs_it():
    read = settings_the_code_reads()
    assert {"EIKIS_INBOX", "EIKIS_CLAIMS", "EIKIS_ALDIS_RECIPIENTS", "EIKIS_PSEUDONYM_SECRET"} <= set(read)
    services = compose()["services"]
    worker = services["airflow-worker"]
    provided = set(worker["environment"]) | secret_targets(worker)
    missing = {name: sorted(files) for name, files in read.items() if name not in provided and name not in LEFT_UNSET}
    assert not missing, f"read by the code but not set for airflow-worker: {missing}"
    for name in AIRFLOW_SERVICES:   # the paths are the same everywhere: one anchor
        env = services[name]["environment"]
        assert {key: env.get(key) for key in read if key in worker["environment"]} == \
            {key: worker["environment"][key] for key in read if key in worker["environment"]}, name
    everywhere = [dict(service.get("environment") or {}) for service in services.values()]
    for name in ("EIKIS_DEV_MODE", "EIKIS_DB_PASSWORD"):
        assert not any(name in env for env in everywhere), name


def test_every_path_a_flow_reads_or_writes_is_a_volume_or_a_read_only_mount():
    services = compose()["services"]
    worker = services["airflow-worker"]
    mounts = {mount.split(":")[1]: mount for mount in worker["volumes"]}
    named = set(compose()["volumes"])
    for key, value in worker["environment"].items():
        if not key.startswith("EIKIS_") or not str(value).startswith("/opt/eikis/"):
            continue
        if key == "EIKIS_DB_PASSWORD_FILE":
            assert value == "/run/secrets/eikis_db_password"
            continue
        target = next((t for t in mounts if value == t or value.startswith(t + "/")), None)
        assert target, f"{key}={value} is in the container's writable layer"
        source = mounts[target].split(":")[0]
        if value.startswith("/opt/eikis/data/"):
            assert source in named and value == target, f"{key}: its own named volume"
        else:
            assert mounts[target].endswith(":ro"), f"{key}: configuration is mounted read-only"
    for example in ("recipients", "aldis_recipients", "claims_recipients"):
        setting = worker["environment"][f"EIKIS_{example.upper()}"]
        assert setting == f"/opt/eikis/config/{example}.yaml"
        document = yaml.safe_load((ROOT / "config" / f"{example}.example.yaml").read_text(encoding="utf-8"))
        assert document["recipients"] and set(document["endpoints"]) >= {r["endpoint"] for r in
                                                                          document["recipients"]}


def test_one_image_carries_the_code_and_the_dags():
    document = compose()
    for name, service in document["services"].items():
        assert not any(str(m).startswith("./dags") for m in service.get("volumes", [])), name
        if service.get("image") == IMAGE:
            assert service.get("build") == ".", f"{name} builds the image it runs"
    assert document["services"]["portal"]["build"] == "."
    env = document["x-airflow-common"]["environment"]
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == "/opt/eikis/dags" and "AIRFLOW__CORE__DAGS_FOLDER=/opt/eikis/dags" \
        in dockerfile


def test_airflow_signs_in_through_fab_with_named_users_and_two_separate_roles():
    services = compose()["services"]
    for name in AIRFLOW_SERVICES:
        env = services[name]["environment"]
        assert env["AIRFLOW__CORE__AUTH_MANAGER"] == \
            "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager", name
    init = services["airflow-init"]
    script = init["command"][-1]
    assert "deploy/airflow_users.py /opt/eikis/config/airflow-users.yaml /run/secrets/airflow_user_passwords" \
        in script and script.index("airflow db migrate") < script.index("airflow_users.py")
    assert "airflow_user_passwords" in secret_targets(init)
    assert not any("airflow_user_passwords" in secret_targets(s) for n, s in services.items() if n != "airflow-init")
    sys.path.insert(0, str(ROOT / "deploy"))
    try:
        import airflow_users
    finally:
        sys.path.remove(str(ROOT / "deploy"))
    users = airflow_users.read_users(ROOT / "config" / "airflow-users.example.yaml")
    assert {u["role"] for u in users} >= {airflow_users.OPERATOR, airflow_users.APPROVER}
    assert "apache-airflow-providers-fab" in (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r"^apache-airflow-providers-fab==", (ROOT / "requirements.lock").read_text(), re.MULTILINE)


def test_no_secret_is_written_into_the_compose_file_or_an_environment_variable():
    text = (ROOT / "docker-compose.yaml").read_text(encoding="utf-8")
    assert not re.search(r"\$\{[A-Z_]*(PASSWORD|SECRET|KEY)[A-Z_]*", text), "a secret interpolated from .env"
    document = compose()
    for name, service in document["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if re.search(r"PASSWORD|SECRET|FERNET|_KEY$|SQL_ALCHEMY_CONN$|BROKER_URL$|RESULT_BACKEND$", key):
                assert key.endswith(("_CMD", "_FILE")), f"{name}: {key} is a plain value"
                assert "/run/secrets/" in str(value), f"{name}: {key}"
    connection = json.loads(document["x-airflow-common"]["environment"]["AIRFLOW_CONN_EIKIS_SFTP"])
    assert "password" not in connection and connection["extra"]["key_file"] == "/run/secrets/eikis_sftp_key"
    example = (ROOT / "config" / "env.example").read_text(encoding="utf-8")
    assert not re.search(r"^[A-Z_]*(PASSWORD|SECRET|KEY)[A-Z_]*=", example, re.MULTILINE)


def test_each_secret_is_mounted_only_into_the_services_that_use_it():
    services = compose()["services"]
    uses = {name: secret_sources(service) for name, service in services.items()}
    eikis_data = {"eikis_pseudonym_secret", "eikis_portal_data_key"}
    assert {name for name, used in uses.items() if used & eikis_data} == {"airflow-worker", "portal"}
    assert {name for name, used in uses.items() if "eikis_sftp_key" in used} == {"airflow-worker"}
    assert {name for name, used in uses.items() if "eikis_db_password" in used} == \
        {"airflow-worker", "portal", "store-db"}
    assert {name for name, used in uses.items() if "eikis_db_owner_password" in used} == {"store-db", "store-migrate"}
    assert {name for name, used in uses.items() if "eikis_portal_session_key" in used} == {"portal"}
    for name in ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer"):
        assert uses[name] == {"airflow_db_password", "redis_password", "airflow_fernet_key", "airflow_jwt_secret",
                              "airflow_api_secret_key"}, name
    declared = set(compose()["secrets"])
    assert set().union(*uses.values()) == declared, "every declared secret is used, every used one declared"


def run_cmd_setting(command: str, secrets: Path) -> str:
    """Run an Airflow `_CMD` value as Airflow does (split, no shell), with the secrets in a temporary folder."""
    argv = [sys.executable if part == "python" else
            part.replace("/run/secrets", str(secrets)).replace("/opt/eikis/deploy", str(ROOT / "deploy"))
            for part in shlex.split(command)]
    return subprocess.run(argv, check=True, capture_output=True, text=True, timeout=60).stdout   # exactly as printed


def test_airflow_reads_its_secrets_through_cmd_settings_that_join_them_at_read_time(tmp_path):
    env = compose()["x-airflow-common"]["environment"]
    (tmp_path / "airflow_db_password").write_text("p@ss/word:1\n")
    (tmp_path / "redis_password").write_text("r3dis\n")
    (tmp_path / "airflow_fernet_key").write_text("f" * 43 + "=\n")
    for name in ("airflow_jwt_secret", "airflow_api_secret_key"):
        (tmp_path / name).write_text("s3cret\n")
    expected = {
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_CMD": "postgresql+psycopg2://airflow:p%40ss%2Fword%3A1@airflow-db/airflow",
        "AIRFLOW__CELERY__RESULT_BACKEND_CMD": "db+postgresql://airflow:p%40ss%2Fword%3A1@airflow-db/airflow",
        "AIRFLOW__CELERY__BROKER_URL_CMD": "redis://default:r3dis@redis:6379/0",
        "AIRFLOW__CORE__FERNET_KEY_CMD": "f" * 43 + "=",
        "AIRFLOW__API_AUTH__JWT_SECRET_CMD": "s3cret",
        "AIRFLOW__API__SECRET_KEY_CMD": "s3cret",
    }
    for key, value in expected.items():
        assert run_cmd_setting(env[key], tmp_path) == value, key

    # and Airflow itself takes them so (its configuration runs each command, split, without a shell)
    settings = {key: value.replace("/run/secrets", str(tmp_path)).replace("/opt/eikis/deploy", str(ROOT / "deploy"))
                .replace("python ", f"{sys.executable} ", 1) for key, value in env.items() if key.endswith("_CMD")}
    read = ("from airflow.configuration import conf\n"
            "for section, key in [('database', 'sql_alchemy_conn'), ('celery', 'broker_url'), ('celery', "
            "'result_backend'), ('core', 'fernet_key'), ('api_auth', 'jwt_secret'), ('api', 'secret_key')]:\n"
            "    print(conf.get(section, key))\n")
    run = subprocess.run([sys.executable, "-c", read], capture_output=True, text=True, timeout=300, check=True,
                         env={**os.environ, **settings, "AIRFLOW_HOME": str(tmp_path / "airflow")})
    assert run.stdout.splitlines() == [expected[key] for key in (
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_CMD", "AIRFLOW__CELERY__BROKER_URL_CMD",
        "AIRFLOW__CELERY__RESULT_BACKEND_CMD", "AIRFLOW__CORE__FERNET_KEY_CMD", "AIRFLOW__API_AUTH__JWT_SECRET_CMD",
        "AIRFLOW__API__SECRET_KEY_CMD")]


def test_read_secret_refuses_a_url_with_a_password_and_never_prints_it(tmp_path):
    (tmp_path / "pw").write_text("hunter22\n")
    script = str(ROOT / "deploy" / "read_secret.py")
    run = subprocess.run([sys.executable, script, "--into-url", "postgresql://u:old@h/db", str(tmp_path / "pw")],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 1 and "old" not in run.stderr + run.stdout and "hunter22" not in run.stderr
    (tmp_path / "empty").write_text("")
    run = subprocess.run([sys.executable, script, str(tmp_path / "empty")], capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 1 and run.stderr == f"read_secret: {tmp_path / 'empty'} is empty\n"


def test_eikis_secrets_mounted_under_their_variable_names_become_variables(tmp_path):
    (tmp_path / "EIKIS_PSEUDONYM_SECRET").write_text("abc123\n")
    (tmp_path / "eikis_db_password").write_text("left alone\n")
    script = str(ROOT / "deploy" / "secrets-env.sh")
    env = {"PATH": os.environ["PATH"], "EIKIS_SECRETS_DIR": str(tmp_path)}
    run = subprocess.run(["bash", script, "env"], env=env, capture_output=True, text=True, timeout=60, check=True)
    variables = dict(line.split("=", 1) for line in run.stdout.splitlines() if "=" in line)
    assert variables["EIKIS_PSEUDONYM_SECRET"] == "abc123" and "eikis_db_password" not in run.stdout
    (tmp_path / "EIKIS_PORTAL_DATA_KEY").write_text("")
    run = subprocess.run(["bash", script, "env"], env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 1 and "EIKIS_PORTAL_DATA_KEY is empty" in run.stderr and "abc123" not in run.stderr
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert 'ENTRYPOINT ["/usr/bin/dumb-init", "--", "/opt/eikis/deploy/secrets-env.sh", "airflow"]' in dockerfile
    portal = compose()["services"]["portal"]
    assert portal["entrypoint"] == ["/usr/bin/dumb-init", "--", "/opt/eikis/deploy/secrets-env.sh"]


def test_make_secrets_makes_every_secret_the_compose_file_mounts(tmp_path):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "airflow-users.yaml").write_bytes(
        (ROOT / "config" / "airflow-users.example.yaml").read_bytes())
    script = str(ROOT / "deploy" / "make-secrets.sh")
    subprocess.run(["bash", script, str(tmp_path)], check=True, capture_output=True, text=True, timeout=120)
    secrets = tmp_path / "secrets"
    assert secrets.stat().st_mode & 0o777 == 0o700
    for name, declared in compose()["secrets"].items():
        path = tmp_path / declared["file"]
        assert path.is_file() and path.read_text().strip(), name
    key = (secrets / "airflow_fernet_key").read_text().strip()
    assert len(base64.urlsafe_b64decode(key)) == 32
    lines = (secrets / "airflow_user_passwords").read_text().splitlines()
    users = yaml.safe_load((ROOT / "config" / "airflow-users.example.yaml").read_text())["users"]
    assert [line.split(":", 1)[0] for line in lines] == [u["username"] for u in users]
    assert all(len(line.split(":", 1)[1]) == 32 for line in lines)
    before = (secrets / "eikis_pseudonym_secret").read_text()
    again = subprocess.run(["bash", script, str(tmp_path)], check=True, capture_output=True, text=True, timeout=120)
    assert (secrets / "eikis_pseudonym_secret").read_text() == before, "never overwrites a secret"
    assert "keeping secrets/eikis_pseudonym_secret" in again.stdout


def test_the_store_has_its_own_database_server_owner_and_application_role():
    services = compose()["services"]
    store = services["store-db"]
    assert store["environment"]["POSTGRES_USER"] == "eikis_owner"
    assert store["environment"]["POSTGRES_PASSWORD_FILE"] == "/run/secrets/eikis_db_owner_password"
    assert "./config/postgres-init.sh:/docker-entrypoint-initdb.d/10-eikis.sh:ro" in store["volumes"]
    init = (ROOT / "config" / "postgres-init.sh").read_text(encoding="utf-8")
    assert "CREATE ROLE eikis LOGIN PASSWORD %L" in init and "PASSWORD '$" not in init
    assert services["airflow-worker"]["environment"]["EIKIS_DB_URL"] == "postgresql+psycopg2://eikis@store-db/eikis"
    portal = services["portal"]
    assert portal["command"][portal["command"].index("--db") + 1] == "postgresql+psycopg2://eikis@store-db/eikis"
    migrate = services["store-migrate"]
    assert migrate["command"] == ["eikis", "db", "upgrade"] and migrate["environment"]["EIKIS_DB_APP_ROLE"] == "eikis"
    assert services["airflow-worker"]["depends_on"]["store-migrate"]["condition"] == "service_completed_successfully"


def test_volumes_init_is_the_only_root_step_and_gives_the_data_volumes_to_the_task_user():
    services = compose()["services"]
    init = services["volumes-init"]
    script = init["command"][-1]
    data = {mount.split(":")[1] for mount in init["volumes"]}
    assert data == {m.split(":")[1] for m in services["airflow-worker"]["volumes"] if not m.startswith("./")}
    for folder in data:
        assert folder in script, folder
    assert "chown -R 50000:0 $$data" in script and init["network_mode"] == "none" and not init.get("secrets")
    assert "chmod 0700 $$data" in script, "the data volumes are owner-only: they hold personal data"
    roots = [name for name, service in services.items() if str(service.get("user", "")).startswith("0")]
    assert roots == ["volumes-init"]


def test_secrets_stay_out_of_the_image_and_out_of_git():
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".env", "secrets"} <= set(ignored)
    assert "secrets/" in (ROOT / ".gitignore").read_text(encoding="utf-8").split()


def test_every_delivery_endpoint_verifies_the_host_key_the_example_known_hosts_describes():
    env = compose()["x-airflow-common"]["environment"]
    extra = json.loads(env["AIRFLOW_CONN_EIKIS_SFTP"])["extra"]
    assert extra["known_hosts"] == "/opt/eikis/config/known_hosts" and "no_host_key_check" not in extra
    for example in ("recipients", "aldis_recipients", "claims_recipients"):
        recipients = yaml.safe_load((ROOT / "config" / f"{example}.example.yaml").read_text(encoding="utf-8"))
        for name, endpoint in recipients["endpoints"].items():
            assert "airflow_conn_id" in endpoint or endpoint.get("known_hosts") or endpoint.get("host_key"), name
    example = (ROOT / "config" / "known_hosts.example").read_text(encoding="utf-8")
    assert "ssh-keyscan" in example and "secrets/sftp_out_host_ed25519_key.pub" in example


def test_the_celery_worker_runs_only_as_many_tasks_as_its_memory_holds():
    worker = compose()["services"]["airflow-worker"]
    concurrency = int(worker["environment"]["AIRFLOW__CELERY__WORKER_CONCURRENCY"])
    limit_gb = float(worker["mem_limit"].rstrip("g"))
    benchmarks = (ROOT / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    peak_gb = float(re.search(r"\*\*total\*\*.*\*\*([\d.]+) GB\*\*", benchmarks).group(1))
    assert concurrency >= 1 and concurrency * peak_gb <= limit_gb


def test_the_portal_serves_the_store_on_loopback_with_its_keys_as_secrets():
    portal = compose()["services"]["portal"]
    command = portal["command"]
    assert command[:2] == ["eikis", "portal"] and command[-4:] == ["--host", "0.0.0.0", "--port", "8000"]
    assert {"EIKIS_PSEUDONYM_SECRET", "EIKIS_PORTAL_DATA_KEY", "EIKIS_PORTAL_SESSION_KEY", "eikis_db_password"} \
        <= secret_targets(portal)
    assert portal["environment"]["EIKIS_DB_PASSWORD_FILE"] == "/run/secrets/eikis_db_password"
    assert portal["ports"] == ["127.0.0.1:8000:8000"] and "/healthz" in " ".join(portal["healthcheck"]["test"])
    assert portal["depends_on"]["store-db"]["condition"] == "service_healthy"


def sign_in_through_the_api_server(env: dict[str, str], tmp_path: Path, passwords: dict[str, str]) -> dict[str, int]:
    """Start `airflow api-server` (FAB) on a loopback port; the status of a token request per user, and of an
    anonymous API call; then stop the server (its own process group only)."""
    import signal
    import socket
    import time
    import urllib.error
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = (tmp_path / "api-server.log").open("w")
    server = subprocess.Popen(["airflow", "api-server", "-H", "127.0.0.1", "-p", str(port), "-w", "1"], env=env,
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def status(path: str, body: dict | None = None) -> int:
        request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method="POST" if body else "GET",
                                         data=json.dumps(body).encode() if body else None,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status
        except urllib.error.HTTPError as refusal:
            return refusal.code

    try:
        deadline = time.monotonic() + 240
        while True:
            assert server.poll() is None and time.monotonic() < deadline, (tmp_path / "api-server.log").read_text()
            try:
                if status("/api/v2/version") == 200:
                    break
            except OSError:
                time.sleep(1)
        result = {user: status("/auth/token", {"username": user, "password": password})
                  for user, password in passwords.items()}
        result["anonymous /api/v2/dags"] = status("/api/v2/dags")
        return result
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
        log.close()


@pytest.mark.slow
@pytest.mark.postgres
def test_airflow_users_creates_named_users_whose_roles_split_trigger_and_approval(tmp_path):
    """Real Airflow metadata on PostgreSQL (reached as compose does: the `_CMD` setting joins the password from a
    secret file), real FAB security manager: the roles' rights and the passwords."""
    from tests.pg import fresh_postgres_database

    url = fresh_postgres_database("eikis_test_airflow_users", migrated=False)   # Airflow's own schema only
    (tmp_path / "airflow_db_password").write_text("unused-by-trust-auth\n")
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path / "airflow"), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
           "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_CMD": f"{sys.executable} {ROOT / 'deploy' / 'read_secret.py'} "
                                                      f"--into-url {url} {tmp_path / 'airflow_db_password'}",
           "AIRFLOW__CORE__AUTH_MANAGER": "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager",
           "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"}
    migrate = subprocess.run(["airflow", "db", "migrate"], env=env, capture_output=True, text=True, timeout=600)
    assert migrate.returncode == 0, migrate.stdout[-3000:] + migrate.stderr[-3000:]
    users = tmp_path / "users.yaml"
    users.write_text((ROOT / "config" / "airflow-users.example.yaml").read_text())
    passwords = tmp_path / "passwords"
    passwords.write_text("admin1:a-long-password-1\noperator1:a-long-password-2\napprover1:a:long:password3\n")
    script = str(ROOT / "deploy" / "airflow_users.py")
    run = subprocess.run([sys.executable, script, str(users), str(passwords)], env=env, capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 1 and "airflow-users: user approver2 has no line in the passwords file" in run.stderr
    passwords.write_text(passwords.read_text() + "approver2:a-long-password-4\n")
    run = subprocess.run([sys.executable, script, str(users), str(passwords)], env=env, capture_output=True,
                         text=True, timeout=600, check=True)
    assert "airflow-users: created operator1 (EIKIS Operator)" in run.stdout
    approver_ids = re.search(r"^airflow-users: EIKIS_CLAIMS_APPROVERS=([0-9,]+) ", run.stdout, re.MULTILINE).group(1)
    assert "a-long-password" not in run.stdout + run.stderr
    check = r"""
import json, sys
from werkzeug.security import check_password_hash
from airflow.providers.fab.auth_manager.cli_commands.utils import get_application_builder
with get_application_builder() as ab:
    sm = ab.sm
    def rights(role):
        return sorted(f"{p.action.name} on {p.resource.name}" for p in sm.find_role(role).permissions)
    out = {"operator": rights("EIKIS Operator"), "approver": rights("EIKIS Approver"),
           "users": {u.username: [[r.name for r in u.roles], u.active] for u in sm.get_all_users()},
           "password_ok": check_password_hash(sm.find_user(username="approver1").password, "a:long:password3"),
           "approver_ids": sorted(sm.find_user(username=n).get_id() for n in ("approver1", "approver2"))}
print("RESULT" + json.dumps(out))
"""
    out = subprocess.run([sys.executable, "-c", check], env=env, capture_output=True, text=True, timeout=600,
                         check=True).stdout
    result = json.loads(out.split("RESULT", 1)[1])
    assert "can_create on DAG Runs" in result["operator"] and "can_edit on HITL Detail" not in result["operator"]
    assert "can_edit on HITL Detail" in result["approver"] and "can_create on DAG Runs" not in result["approver"]
    assert "can_edit on Task Instances" not in result["approver"]
    assert result["users"]["operator1"] == [["EIKIS Operator"], True] and result["password_ok"]
    assert approver_ids.split(",") == result["approver_ids"], "the ids the claims DAG's approval is addressed to"
    # the api-server signs the named users in through FAB: a token for a right password, none for a wrong one
    signed_in = sign_in_through_the_api_server(env, tmp_path, {"operator1": "a-long-password-2",
                                                               "approver1": "wrong-password"})
    assert signed_in == {"operator1": 201, "approver1": 401, "anonymous /api/v2/dags": 401}
    # a user taken out of the file is deactivated, never deleted (the audit trail keeps the name)
    users.write_text(yaml.safe_dump({"users": [u for u in yaml.safe_load(users.read_text())["users"]
                                               if u["username"] != "operator1"]}))
    run = subprocess.run([sys.executable, script, str(users), str(passwords)], env=env, capture_output=True,
                         text=True, timeout=600, check=True)
    assert "airflow-users: deactivated operator1 (not in the users file)" in run.stdout


# --- per-party SFTP accounts, Redis, networks (issue 27.3) -----------------------------------------------------

SSHD_CONFIG = ROOT / "deploy" / "sftp" / "sshd_config"
# A real sshd for the tests that run one (.ci/run unpacks Debian's package and sets EIKIS_TEST_SSHD); else skipped.
REAL_SSHD = os.environ.get("EIKIS_TEST_SSHD") or ("/usr/sbin/sshd" if Path("/usr/sbin/sshd").is_file() else "")
SFTP_ENTRYPOINT = ROOT / "deploy" / "sftp" / "entrypoint.sh"


def sshd_blocks() -> dict[str, dict[str, str]]:
    """sshd_config as {"": global options, "Group g": that Match block's options} (keywords lower-cased)."""
    blocks: dict[str, dict[str, str]] = {"": {}}
    current = ""
    for line in SSHD_CONFIG.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        keyword, _, value = line.strip().partition(" ")
        if keyword == "Match":
            current = value.strip()
            blocks[current] = {}
        else:
            blocks[current][keyword.lower()] = value.strip()
    return blocks


def accounts(name: str) -> list[list[str]]:
    text = (ROOT / "config" / f"{name}.accounts.example").read_text(encoding="utf-8")
    return [line.split(maxsplit=4 if name == "sftp-in" else 3) for line in text.splitlines()
            if line.strip() and not line.startswith("#")]


def test_the_sftp_servers_accept_keys_only_and_nothing_but_chrooted_sftp():
    options = sshd_blocks()[""]
    assert options["passwordauthentication"] == "no" and options["authenticationmethods"] == "publickey"
    assert options["kbdinteractiveauthentication"] == "no" and options["permitrootlogin"] == "no"
    assert options["authorizedkeysfile"] == "/etc/ssh/authorized_keys/%u", "keys root-owned, not in a home"
    assert options["disableforwarding"] == "yes" and options["permittty"] == "no"
    assert options["subsystem"] == "sftp internal-sftp"
    for group in ("sftp-provider", "sftp-recipient", "sftp-writer"):
        block = sshd_blocks()[f"Group {group}"]
        assert block["chrootdirectory"] == "%h", group
        assert block["forcecommand"].startswith("internal-sftp ") and "-P symlink,hardlink" in block["forcecommand"]


def test_each_provider_can_only_write_into_its_own_drop_and_never_read_it_back():
    command = shlex.split(sshd_blocks()["Group sftp-provider"]["forcecommand"])
    flags = dict(zip(command[1::2], command[2::2], strict=False))
    assert flags["-d"] == "/upload" and flags["-u"] == "0737", "new files 0040: no read-back by their owner"
    denied = set(flags["-P"].split(","))
    assert {"symlink", "hardlink", "setstat", "fsetstat", "lsetstat", "mkdir", "rmdir"} <= denied
    sys.path.insert(0, str(ROOT / "deploy"))
    try:
        import collect_drops
    finally:
        sys.path.remove(str(ROOT / "deploy"))
    assert collect_drops.PERIOD_FOLDER_MODE & 0o007 == 0o003, "others (providers) write and enter, never list"
    rows = accounts("sftp-in")
    names, uids = [row[0] for row in rows], [row[1] for row in rows]
    assert len(set(names)) == len(names) and len(set(uids)) == len(uids) and "50000" not in uids
    assert {row[2] for row in rows} == {"inbox", "claims"}, "providers for the inbox and suppliers for claims"
    assert {"aris", "pmlp", "vid", "vsaa", "sopa", "prices"} <= {row[3] for row in rows}
    assert all(row[4].startswith("ssh-ed25519 ") for row in rows)
    entrypoint = SFTP_ENTRYPOINT.read_text(encoding="utf-8")
    assert 'root_owned "/srv/drop/$name"' in entrypoint
    assert 'install -d -o 50000 -g 50000 -m 0755 "/srv/drop/$name/upload"' in entrypoint


def test_each_recipient_has_its_own_read_only_account_and_eikis_writes_its_files():
    block = sshd_blocks()["Group sftp-recipient"]["forcecommand"]
    assert " -R " in f" {block} " and "-d /files" in block
    writer = sshd_blocks()["Group sftp-writer"]["forcecommand"]
    assert "-u 0027" in writer and "-d /outgoing" in writer
    rows = accounts("sftp-out")
    names, uids, folders = [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]
    assert len(set(names)) == len(names) == len(set(folders)) and len(set(uids)) == len(uids)
    assert {"dso_electricity", "sopa", "payout"} <= set(folders)
    assert any(folder.startswith("municipalities/") for folder in folders)
    entrypoint = SFTP_ENTRYPOINT.read_text(encoding="utf-8")
    assert 'install -d -o eikis -g "$name" -m 2750 "/srv/outgoing/$folder/files"' in entrypoint
    for example in ("recipients", "aldis_recipients", "claims_recipients"):
        document = yaml.safe_load((ROOT / "config" / f"{example}.example.yaml").read_text(encoding="utf-8"))
        for rule in document["recipients"]:
            assert rule["remote_dir"].startswith(("/outgoing/{recipient}/files/", "/outgoing/sopa/files/")), example


def test_the_sftp_services_run_the_eikis_sftp_image_each_with_its_own_host_key_and_accounts():
    services = compose()["services"]
    keys = {}
    for name, role in (("sftp-in", "in"), ("sftp-out", "out")):
        service = services[name]
        assert service["build"] == "deploy/sftp" and service["environment"]["SFTP_ROLE"] == role
        mounts = service["volumes"]
        keys[name] = next(m.split(":")[0] for m in mounts if m.endswith(":/etc/ssh/ssh_host_ed25519_key:ro"))
        assert f"./config/{name}.accounts:/etc/eikis-sftp/accounts:ro" in mounts
        assert not any(m.startswith(("eikis-inbox:", "eikis-claims:", "eikis-outbox:", "eikis-work:")) for m in mounts)
        assert not service.get("secrets") and "command" not in service
    assert keys["sftp-in"] != keys["sftp-out"], "separate host keys"
    assert "./secrets/eikis_sftp_key.pub:/etc/eikis-sftp/eikis.pub:ro" in services["sftp-out"]["volumes"]
    dockerfile = (ROOT / "deploy" / "sftp" / "Dockerfile").read_text(encoding="utf-8")
    assert "openssh-server" in dockerfile and "COPY sshd_config /etc/ssh/sshd_config" in dockerfile
    collector = services["drop-collector"]
    assert collector["network_mode"] == "none" and collector["user"] == "50000:50000"
    assert {"eikis-drops:/srv/drop", "eikis-inbox:/opt/eikis/data/inbox", "eikis-claims:/opt/eikis/data/claims"} \
        <= set(collector["volumes"])


def test_redis_requires_a_password_that_is_in_no_argv():
    redis = compose()["services"]["redis"]
    command = " ".join(redis["command"])
    assert "requirepass" in command and "redis-server -" in command and "/run/secrets/redis_password" in command
    assert "--requirepass" not in command and secret_sources(redis) == {"redis_password"}
    assert "REDISCLI_AUTH" in " ".join(redis["healthcheck"]["test"])
    broker = compose()["x-airflow-common"]["environment"]["AIRFLOW__CELERY__BROKER_URL_CMD"]
    assert "/run/secrets/redis_password" in broker


def test_the_sftp_servers_and_the_portal_cannot_reach_redis_or_the_metadata_database():
    document = compose()
    services = document["services"]

    def networks(name: str) -> set[str]:
        service = services[name]
        return set() if service.get("network_mode") == "none" else set(service["networks"])

    for name, service in services.items():
        assert service.get("network_mode") == "none" or service.get("networks"), f"{name} is on the default network"
    private = networks("redis") | networks("airflow-db")
    for name in ("sftp-in", "sftp-out", "portal", "drop-collector", "store-db", "store-migrate"):
        assert not networks(name) & private, name
    assert not networks("sftp-in") & (networks("store-db") | networks("airflow-worker")), "sftp-in reaches nothing"
    for name in ("airflow", "store"):
        assert document["networks"][name]["internal"] is True, name


def test_the_collector_moves_completed_uploads_and_never_replaces_an_extract(tmp_path):
    sys.path.insert(0, str(ROOT / "deploy"))
    try:
        import collect_drops
    finally:
        sys.path.remove(str(ROOT / "deploy"))
    accounts_file = tmp_path / "sftp-in.accounts"
    accounts_file.write_text("# comment\nvid 21003 inbox vid ssh-ed25519 AAAA x\n"
                             "claims_el_1 21040 claims traders_electricity/40000000002 ssh-ed25519 AAAA y\n")
    registered = collect_drops.read_accounts(accounts_file)
    drops, inbox, claims = tmp_path / "drop", tmp_path / "inbox", tmp_path / "claims"
    for account in registered:
        (drops / account.name / "upload").mkdir(parents=True)
    collect_drops.prepare_period_folders(drops, registered, collect_drops.open_periods(dt_date(2026, 12, 7)))
    period = drops / "vid" / "upload" / "2026-11"
    assert period.stat().st_mode & 0o7777 == 0o3773
    assert (drops / "vid" / "upload" / "2026-05").is_dir() and (drops / "vid" / "upload" / "2027-01").is_dir()
    (period / "income_01.xml").write_bytes(b"<a/>")
    (period / "income_02.xml.part").write_bytes(b"<b")          # still uploading
    (period / "fresh.xml").write_bytes(b"<c/>")                  # changed a moment ago
    os.utime(period / "income_01.xml", (1_000, 1_000))
    (period / "link.xml").symlink_to(tmp_path / "accounts_file")
    claim = drops / "claims_el_1" / "upload" / "2026-11" / "claims.csv"
    claim.write_bytes(b"claim_id;x\n")
    os.utime(claim, (1_000, 1_000))
    roots = {"inbox": inbox, "claims": claims}
    lines = list(collect_drops.collect(drops, roots, registered, settle=60, now=(period / "fresh.xml").stat().st_mtime))
    assert (inbox / "2026-11" / "vid" / "income_01.xml").read_bytes() == b"<a/>"
    assert (claims / "2026-11" / "traders_electricity" / "40000000002" / "claims.csv").read_bytes() == b"claim_id;x\n"
    assert not (period / "income_01.xml").exists() and (period / "income_02.xml.part").exists()
    assert (period / "fresh.xml").exists() and not (inbox / "2026-11" / "vid" / "fresh.xml").exists()
    assert "skipped vid 2026-11/link.xml: not a regular file" in lines
    assert "moved vid 2026-11/income_01.xml -> inbox/2026-11/vid/" in lines
    # the same name again with other bytes: the extract already there is kept, the upload waits in the drop
    (period / "income_01.xml").write_bytes(b"<changed/>")
    os.utime(period / "income_01.xml", (1_000, 1_000))
    lines = list(collect_drops.collect(drops, roots, registered, settle=60))
    assert "refused vid 2026-11/income_01.xml: inbox/2026-11/vid/income_01.xml exists with other bytes" in lines
    assert (inbox / "2026-11" / "vid" / "income_01.xml").read_bytes() == b"<a/>" and (period / "income_01.xml").exists()
    assert not list((inbox / "2026-11" / "vid").glob(".*")), "no temporary file left"


def test_an_accounts_line_with_a_path_out_of_its_folder_is_refused(tmp_path):
    sys.path.insert(0, str(ROOT / "deploy"))
    try:
        import collect_drops
    finally:
        sys.path.remove(str(ROOT / "deploy"))
    bad = tmp_path / "accounts"
    for folder in ("../work", "vid/../../work", "/etc"):
        bad.write_text(f"vid 21003 inbox {folder} ssh-ed25519 AAAA x\n")
        with pytest.raises(ValueError, match="line 1"):
            collect_drops.read_accounts(bad)


def test_sshd_accepts_the_configuration(tmp_path):
    """`sshd -t` on deploy/sftp/sshd_config (needs an sshd binary: EIKIS_TEST_SSHD, or openssh-server installed)."""
    sshd = REAL_SSHD
    if not sshd:
        pytest.skip("no sshd binary here (apt-get install openssh-server, or set EIKIS_TEST_SSHD)")
    key = tmp_path / "host_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True, timeout=60)
    config = tmp_path / "sshd_config"
    config.write_text(SSHD_CONFIG.read_text().replace("/etc/ssh/ssh_host_ed25519_key", str(key)))
    passwd = tmp_path / "passwd"
    passwd.write_text(Path("/etc/passwd").read_text() + "sshd:x:105:65534::/run/sshd:/usr/sbin/nologin\n")
    # sshd wants its privilege separation user and directory (/run/sshd, made by the package's service, absent on
    # a machine where the package is only unpacked): both in a private mount namespace, not on this machine
    script = (f"mount --bind {passwd} /etc/passwd && mount -t tmpfs tmpfs /run && mkdir -m 755 /run/sshd && "
              f"{sshd} -t -f {config} -o AllowGroups=sftp-provider")
    run = subprocess.run(["unshare", "-rm", "bash", "-c", script], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr


# --- supply chain of the image (issue 27.6) ------------------------------------------------------------------------

def dockerfile_stages() -> dict[str, str]:
    """Dockerfile text per stage name (`FROM … AS name`)."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    parts = re.split(r"^FROM\s+\S+\s+AS\s+(\S+)\s*$", text, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_the_image_is_built_in_two_stages_with_the_compiler_only_in_the_build_stage():
    stages = dockerfile_stages()
    assert list(stages) == ["build", "runtime"]
    build, runtime = stages["build"], stages["runtime"]
    assert "gcc" in build and "libpq-dev" in build
    for tool in ("gcc", "libc6-dev", "libpq-dev", "build-essential", "make ", "clang"):
        assert tool not in runtime, f"{tool} in the runtime stage"
    assert "COPY --from=build /opt/eikis/venv /opt/eikis/venv" in runtime
    assert "import pipeline.sources._canonscan" in build and "pip check" in build
    assert "pipeline/sources/*.so" in (ROOT / ".dockerignore").read_text(encoding="utf-8").split()


def test_the_code_in_the_image_belongs_to_root_and_is_read_only_for_the_services():
    runtime = dockerfile_stages()["runtime"]
    assert "--chown" not in runtime, "nothing copied into the runtime stage belongs to the running user"
    assert "chown -R root:root /opt/eikis" in runtime and "chmod -R go-w /opt/eikis" in runtime
    assert runtime.index("chmod -R go-w /opt/eikis") < runtime.index("USER 50000:0")
    services = compose()["services"]
    for name, service in services.items():
        if service.get("image") == IMAGE and name != "volumes-init":
            assert str(service.get("user", "50000:0")).startswith("50000:"), name
            assert not any(":/opt/eikis/" in m and not m.endswith(":ro") and "/opt/eikis/data/" not in m
                           for m in service.get("volumes", [])), f"{name} mounts over the code writable"


def locked(path: Path) -> dict[str, str]:
    """{name: its `name==version` line and hash lines} of a uv lock file."""
    blocks = re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)((?:\s*\\\n\s+--hash=\S+)+)",
                        path.read_text(encoding="utf-8"), flags=re.MULTILINE)
    return {name.lower(): version + "".join(sorted(re.findall(r"--hash=\S+", hashes)))
            for name, version, hashes in blocks}


def test_the_image_installs_the_runtime_part_of_the_lock_with_the_same_pins_and_hashes():
    build = dockerfile_stages()["build"]
    assert "pip install --require-hashes --no-deps -r /src/requirements-runtime.lock" in build
    full, runtime = locked(ROOT / "requirements.lock"), locked(ROOT / "requirements-runtime.lock")
    assert runtime and all(full.get(name) == pins for name, pins in runtime.items()), "same versions and hashes"
    assert not {"pytest", "ruff", "hypothesis", "playwright", "import-linter"} & set(runtime), "development tools"
    assert {"apache-airflow", "apache-airflow-providers-celery", "apache-airflow-providers-fab", "psycopg2",
            "setuptools"} <= set(runtime)
    assert "-c $(LOCK) -o requirements-runtime.lock" in (ROOT / "Makefile").read_text(encoding="utf-8")


def pin_images_module():
    sys.path.insert(0, str(ROOT / "deploy"))
    try:
        import pin_images
    finally:
        sys.path.remove(str(ROOT / "deploy"))
    return pin_images


def test_pin_images_pins_every_external_image_by_digest_and_leaves_the_projects_own(tmp_path):
    pin_images = pin_images_module()
    for name in pin_images.FILES:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes((ROOT / name).read_bytes())
    external = {ref for name in pin_images.FILES for ref in pin_images.references((ROOT / name).read_text())}
    assert {"python:3.11-slim-bookworm", "debian:bookworm-slim", "redis:7.2-bookworm"} <= \
        {ref.split("@")[0] for ref in external}
    for reference in external:   # a specific tag, never a moving `latest`
        assert ":" in reference and not reference.split("@")[0].endswith(":latest"), reference
    asked = []

    def fake_registry(tag: str) -> str:
        asked.append(tag)
        return "sha256:" + format(abs(hash(tag)) % 16**64, "064x")

    assert pin_images.main(["--check"], root=tmp_path) in (0, 1)
    assert pin_images.main([], root=tmp_path, resolve=fake_registry) == 0
    assert pin_images.main(["--check"], root=tmp_path) == 0
    assert sorted(set(asked)) == sorted({ref.split("@")[0] for ref in external})
    pinned = yaml.safe_load((tmp_path / "docker-compose.yaml").read_text())
    assert pinned["services"]["redis"]["image"] == "redis:7.2-bookworm@" + fake_registry("redis:7.2-bookworm")
    assert pinned["services"]["portal"]["image"] == IMAGE, "the project's own image is built, not pulled"
    runtime_from = re.findall(r"^FROM (\S+) AS", (tmp_path / "Dockerfile").read_text(), re.MULTILINE)
    assert all(re.fullmatch(r"python:3\.11-slim-bookworm@sha256:[0-9a-f]{64}", ref) for ref in runtime_from)
    # re-running re-resolves each tag (a rebuilt base image) instead of keeping a stale digest
    assert pin_images.main([], root=tmp_path, resolve=lambda tag: "sha256:" + "a" * 64) == 0
    assert "redis:7.2-bookworm@sha256:" + "a" * 64 in (tmp_path / "docker-compose.yaml").read_text()
    assert pin_images.main([], root=tmp_path, resolve=lambda tag: "not found") == 1


def _initdb() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1] if found else None


@pytest.mark.skipif(os.geteuid() != 0 or _initdb() is None, reason="needs root (to run as postgres) and initdb")
def test_postgres_init_creates_the_application_role_with_the_secret_password(tmp_path):
    """The store-db init script on a throwaway PostgreSQL cluster: a password with quotes signs `eikis` in."""
    import socket
    import tempfile

    import psycopg2

    bindir = _initdb().parent
    work = Path(tempfile.mkdtemp(prefix="eikis-store-db-"))
    try:
        shutil.chown(work, "postgres")
        secret = work / "eikis_db_password"
        secret.write_text("it's a \"quoted\" pass; DROP ROLE x;\n")
        shutil.chown(secret, "postgres")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]

        def as_postgres(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
            run = subprocess.run(["runuser", "-u", "postgres", "--", *argv], capture_output=True, text=True,
                                 timeout=120, env={**os.environ, **(env or {})})
            assert run.returncode == 0, f"{argv[0]}: {run.stderr}"
            return run

        data = work / "data"
        as_postgres(str(bindir / "initdb"), "-D", str(data), "-U", "eikis_owner", "--auth-local=trust",
                    "--auth-host=scram-sha-256")
        as_postgres(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(work / "log"), "-w", "-o",
                    f"-p {port} -k {work} -c listen_addresses=127.0.0.1", "start")
        try:
            env = {"PGHOST": str(work), "PGPORT": str(port), "POSTGRES_USER": "eikis_owner", "POSTGRES_DB": "eikis",
                   "EIKIS_DB_PASSWORD_FILE": str(secret), "PATH": f"{bindir}:{os.environ['PATH']}"}
            as_postgres(str(bindir / "createdb"), "-U", "eikis_owner", "-O", "eikis_owner", "eikis", env=env)
            as_postgres("bash", str(ROOT / "config" / "postgres-init.sh"), env=env)
            connection = psycopg2.connect(host="127.0.0.1", port=port, dbname="eikis", user="eikis",
                                          password=secret.read_text().rstrip("\n"), connect_timeout=10)
            with connection, connection.cursor() as cursor:
                cursor.execute("SELECT current_user, has_database_privilege('eikis', 'CREATE')")
                assert cursor.fetchone() == ("eikis", False), "the application role cannot create schemas"
            connection.close()
            with pytest.raises(psycopg2.OperationalError):
                psycopg2.connect(host="127.0.0.1", port=port, dbname="eikis", user="eikis", password="wrong",
                                 connect_timeout=10)
            assert "quoted" not in (work / "log").read_text(), "the password is in no server log line"
        finally:
            as_postgres(str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def sftp_namespace_root(accounts_lines: list[str], eikis_key: str, sshd_stub: str) -> Path:
    """A folder with what the SFTP container's entrypoint finds at /etc and /usr/sbin: copies of this machine's
    (so useradd works on copies), the sshd_config, a host key, the accounts file and EIKIS's delivery key, and a
    stand-in for sshd. Bind-mounted over the real ones in a private mount namespace only."""
    import tempfile

    work = Path(tempfile.mkdtemp(prefix="eikis-sftp-"))
    subprocess.run(["cp", "-a", "/etc", str(work / "etc")], check=True, timeout=120)
    subprocess.run(["cp", "-a", "/usr/sbin", str(work / "sbin")], check=True, timeout=120)
    with (work / "etc" / "passwd").open("a") as passwd:
        passwd.write("sshd:x:105:65534::/run/sshd:/usr/sbin/nologin\n")
    (work / "sbin" / "sshd").write_text(sshd_stub)
    (work / "sbin" / "sshd").chmod(0o755)
    shutil.rmtree(work / "etc" / "ssh", ignore_errors=True)
    (work / "etc" / "ssh").mkdir()
    (work / "etc" / "ssh" / "sshd_config").write_bytes(SSHD_CONFIG.read_bytes())
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                    str(work / "etc" / "ssh" / "ssh_host_ed25519_key")], check=True, timeout=60)
    (work / "etc" / "eikis-sftp").mkdir()
    (work / "etc" / "eikis-sftp" / "eikis.pub").write_text(eikis_key + "\n")
    (work / "etc" / "eikis-sftp" / "accounts").write_text("# accounts\n" + "\n".join(accounts_lines) + "\n")
    return work


NAMESPACE_MOUNTS = ("mount --make-rprivate / && mount --bind {work}/etc /etc && mount --bind {work}/sbin /usr/sbin "
                    "&& mount -t tmpfs none /srv && mount -t tmpfs none /run && mount -t tmpfs none /var/log")


STUB_SSHD = """#!/bin/bash
# Stands in for sshd in the entrypoint test: records its arguments, then (when a real sshd is given) checks the
# configuration and prints the effective settings for one account of each kind.
printf '%s\\n' "$*" > /srv/sshd-args
if [[ -n "${REAL_SSHD:-}" ]]; then
  "$REAL_SSHD" -t -f /etc/ssh/sshd_config "$@" > /srv/sshd-t 2>&1 || echo FAILED >> /srv/sshd-t
  for user in $ACCOUNTS; do
    "$REAL_SSHD" -T -f /etc/ssh/sshd_config -C "user=$user,host=h,addr=127.0.0.1" "$@" \\
      | grep -E '^(chrootdirectory|forcecommand|allowgroups) ' > "/srv/sshd-T-$user"
  done
fi
"""


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare"), reason="needs root and unshare")
@pytest.mark.parametrize("role", ["in", "out"])
def test_the_sftp_entrypoint_makes_chrooted_accounts_that_sshd_enforces(tmp_path, role):
    """deploy/sftp/entrypoint.sh for real, in a private mount namespace: a copy of /etc, and /srv, /run, /var/log
    on tmpfs, so nothing on this machine changes; sshd itself is a stub that, given EIKIS_TEST_SSHD, asks the real
    sshd for the effective settings of each account."""
    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPLACEHOLDERxKEY"
    if role == "in":
        lines, users = [f"vid 21003 inbox vid {key} vid", f"claims_1 21040 claims heat/40000000001 {key} c"], \
            ["vid", "claims_1"]
    else:
        lines, users = [f"muni_1 22030 municipalities/0001000 {key} m", f"sopa 22050 sopa {key} s"], \
            ["muni_1", "sopa", "eikis"]
    work = sftp_namespace_root(lines, f"{key} eikis", STUB_SSHD)
    try:
        inspect = ("stat -c '%n %u %g %a' $(find /srv -path /srv/sshd\\* -prune -o -print | sort); "
                   "for u in " + " ".join(users) + "; do getent passwd $u; id -nG $u; done; "
                   "cat /etc/ssh/authorized_keys/* | wc -l; cat /srv/sshd-args; "
                   "cat /srv/sshd-t /srv/sshd-T-* 2>/dev/null || true")
        script = f"{NAMESPACE_MOUNTS.format(work=work)} && SFTP_ROLE={role} bash {SFTP_ENTRYPOINT} && {inspect}"
        env = {"PATH": os.environ["PATH"], "ACCOUNTS": " ".join(users),
               "REAL_SSHD": REAL_SSHD}
        run = subprocess.run(["unshare", "-m", "bash", "-c", script], capture_output=True, text=True, env=env,
                             timeout=120)
        assert run.returncode == 0, run.stdout[-2000:] + run.stderr
        out = run.stdout
    finally:
        shutil.rmtree(work, ignore_errors=True)
    assert f"-D -e -o AllowGroups={'sftp-provider' if role == 'in' else 'sftp-recipient sftp-writer'}" in out
    if role == "in":
        assert "/srv/drop/vid 0 0 755" in out and "/srv/drop/vid/upload 50000 50000 755" in out
        assert "vid:x:21003:21003::/srv/drop/vid:/usr/sbin/nologin" in out and "vid sftp-provider" in out
        start = "forcecommand internal-sftp -d /upload -u 0737"
    else:
        assert "/srv/outgoing/municipalities 0 0 755" in out
        assert "/srv/outgoing/municipalities/0001000/files 50000 22030 2750" in out
        assert "muni_1:x:22030:22030::/srv/outgoing/municipalities/0001000:/usr/sbin/nologin" in out
        assert "eikis:x:50000:50000::/srv:/usr/sbin/nologin" in out and "eikis sftp-writer" in out
        start = "forcecommand internal-sftp -d /files -R"
    if REAL_SSHD:
        assert "FAILED" not in out
        # sshd resolves each account's Match block from the groups the entrypoint gave it; %h is its home above
        assert "chrootdirectory %h" in out and start in out, out


LIVE_SSHD = """#!/bin/bash
# The entrypoint's last step, for the live test: the collector makes the period folders (as uid 50000, as in
# compose), then the real sshd serves on a loopback port.
set -e
if [[ -d /srv/drop ]]; then
  install -d -o 50000 -g 50000 -m 0750 /srv/inbox /srv/claims
  setpriv --reuid 50000 --regid 50000 --clear-groups "$PYTHON" "$COLLECTOR" --accounts /etc/eikis-sftp/accounts \\
    --drops /srv/drop --inbox /srv/inbox --claims /srv/claims --once
fi
exec "$REAL_SSHD" -p "$PORT" -o ListenAddress=127.0.0.1 "$@"
"""


def live_sftp(role: str, accounts_lines: list[str], eikis_key: str, tmp_path: Path):
    """Start the SFTP container's entrypoint with the real sshd in a private mount namespace; yield (port,
    host key line, a function running a shell command inside the namespace)."""
    import contextlib
    import signal
    import socket
    import time

    @contextlib.contextmanager
    def server():
        work = sftp_namespace_root(accounts_lines, eikis_key, LIVE_SSHD)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        env = {"PATH": os.environ["PATH"], "REAL_SSHD": REAL_SSHD, "PORT": str(port),
               "PYTHON": sys.executable, "COLLECTOR": str(ROOT / "deploy" / "collect_drops.py")}
        script = f"{NAMESPACE_MOUNTS.format(work=work)} && SFTP_ROLE={role} exec bash {SFTP_ENTRYPOINT}"
        log = (tmp_path / f"sshd-{role}.log").open("w")
        process = subprocess.Popen(["unshare", "-m", "bash", "-c", script], env=env, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                with socket.socket() as attempt:
                    if attempt.connect_ex(("127.0.0.1", port)) == 0:
                        break
                assert process.poll() is None, (tmp_path / f"sshd-{role}.log").read_text()
                time.sleep(0.2)
            host_key = (work / "etc" / "ssh" / "ssh_host_ed25519_key.pub").read_text().split()[:2]

            def inside(command: str) -> str:
                return subprocess.run(["nsenter", "-t", str(process.pid), "-m", "bash", "-c", command],
                                      capture_output=True, text=True, timeout=60, check=True).stdout

            yield port, host_key, inside
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
            log.close()
            shutil.rmtree(work, ignore_errors=True)

    return server()


def sftp_client(port: int, host_key: list[str], user: str, key):
    import paramiko

    client = paramiko.SSHClient()
    client.get_host_keys().add(f"[127.0.0.1]:{port}", host_key[0], paramiko.Ed25519Key(data=base64.b64decode(
        host_key[1])))
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    client.connect("127.0.0.1", port=port, username=user, pkey=key, look_for_keys=False, allow_agent=False,
                   timeout=20)
    return client


def new_key():
    import paramiko

    key = paramiko.Ed25519Key.from_private_key(__import__("io").StringIO(subprocess.run(
        ["bash", "-c", "d=$(mktemp -d) && ssh-keygen -q -t ed25519 -N '' -f $d/k && cat $d/k && rm -r $d"],
        capture_output=True, text=True, check=True, timeout=60).stdout))
    return key, f"ssh-ed25519 {key.get_base64()}"


needs_live_sshd = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("unshare") or not REAL_SSHD,
    reason="needs root, unshare and a real sshd (EIKIS_TEST_SSHD)")


@needs_live_sshd
def test_a_provider_writes_into_its_drop_and_can_neither_read_back_list_link_nor_escape(tmp_path):
    import paramiko

    vid_key, vid_public = new_key()
    other_key, other_public = new_key()
    lines = [f"vid 21003 inbox vid {vid_public}", f"claims_1 21040 claims heat/40000000001 {other_public}"]
    period = collect_drops_module().open_periods(dt_date.today())[-2]   # this month
    with live_sftp("in", lines, other_public, tmp_path) as (port, host_key, inside):
        client = sftp_client(port, host_key, "vid", vid_key)
        sftp = client.open_sftp()
        assert sftp.normalize(".") == "/upload" and sftp.listdir("/") == ["upload"], "chrooted to its own drop"
        with sftp.open(f"/upload/{period}/income_01.xml.part", "wb") as handle:
            handle.write(b"<VID/>")
        sftp.posix_rename(f"/upload/{period}/income_01.xml.part", f"/upload/{period}/income_01.xml")
        with pytest.raises(PermissionError):
            sftp.open(f"/upload/{period}/income_01.xml", "rb").read()          # no read-back
        with pytest.raises(PermissionError):
            sftp.listdir(f"/upload/{period}")                                   # no listing
        for forbidden in (lambda: sftp.symlink("/upload", f"/upload/{period}/link"),
                          lambda: sftp.mkdir(f"/upload/{period}/sub"),
                          lambda: sftp.chmod(f"/upload/{period}/income_01.xml", 0o644)):
            with pytest.raises(OSError):
                forbidden()
        with pytest.raises(OSError):
            sftp.open("/../../etc/passwd", "rb")
        client.close()
        with pytest.raises(paramiko.AuthenticationException):   # keys only: no password, not another's key
            sftp_client(port, host_key, "claims_1", vid_key)
        transport = paramiko.Transport(("127.0.0.1", port))
        try:
            transport.connect()
            with pytest.raises(paramiko.AuthenticationException):
                transport.auth_password("vid", "guess")
        finally:
            transport.close()
        other = sftp_client(port, host_key, "claims_1", other_key).open_sftp()
        assert other.listdir("/") == ["upload"] and other.normalize(".") == "/upload", "no way to vid's drop"
        with pytest.raises(PermissionError):
            other.listdir(f"/upload/{period}")
        # the collector (uid 50000, as in compose) moves the completed file into the inbox
        python, collector = sys.executable, ROOT / "deploy" / "collect_drops.py"
        inside(f"setpriv --reuid 50000 --regid 50000 --clear-groups {python} {collector} --accounts "
               "/etc/eikis-sftp/accounts --drops /srv/drop --inbox /srv/inbox --claims /srv/claims --once --settle 0")
        assert inside(f"cat /srv/inbox/{period}/vid/income_01.xml") == "<VID/>"
        assert inside(f"ls -A /srv/drop/vid/upload/{period}") == ""


@needs_live_sshd
def test_each_recipient_reads_only_its_own_files_and_eikis_writes_them(tmp_path):
    eikis_key, eikis_public = new_key()
    muni_key, muni_public = new_key()
    sopa_key, sopa_public = new_key()
    lines = [f"muni_1 22030 municipalities/0001000 {muni_public}", f"sopa 22050 sopa {sopa_public}"]
    with live_sftp("out", lines, eikis_public, tmp_path) as (port, host_key, _inside):
        eikis = sftp_client(port, host_key, "eikis", eikis_key).open_sftp()
        assert eikis.normalize(".") == "/outgoing"
        eikis.mkdir("/outgoing/municipalities/0001000/files/2026-11")
        with eikis.open("/outgoing/municipalities/0001000/files/2026-11/households.csv", "wb") as handle:
            handle.write(b"a;b\n")
        with pytest.raises(OSError):
            eikis.symlink("/outgoing/sopa", "/outgoing/municipalities/0001000/files/2026-11/link")
        muni = sftp_client(port, host_key, "muni_1", muni_key).open_sftp()
        assert muni.normalize(".") == "/files" and muni.listdir("/") == ["files"]
        assert muni.open("/files/2026-11/households.csv", "rb").read() == b"a;b\n"
        with pytest.raises(OSError):
            muni.open("/files/2026-11/mine.csv", "wb")                  # read-only
        with pytest.raises(OSError):
            muni.remove("/files/2026-11/households.csv")
        sopa = sftp_client(port, host_key, "sopa", sopa_key).open_sftp()
        assert sopa.listdir("/files") == [], "another recipient's files are out of reach"


def collect_drops_module():
    sys.path.insert(0, str(ROOT / "deploy"))
    try:
        import collect_drops
    finally:
        sys.path.remove(str(ROOT / "deploy"))
    return collect_drops
