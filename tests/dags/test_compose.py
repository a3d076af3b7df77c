"""docker-compose.yaml cannot run here (no Docker engine): check its structure instead."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yaml").read_text(encoding="utf-8"))


def test_every_production_service_is_there():
    services = compose()["services"]
    assert {"postgres", "redis", "sftp", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
            "airflow-triggerer", "airflow-worker", "airflow-init"} <= set(services)
    commands = {name: service.get("command") for name, service in services.items()}
    assert commands["airflow-apiserver"] == "api-server" and commands["airflow-dag-processor"] == "dag-processor"
    assert commands["airflow-worker"] == "celery worker" and commands["airflow-scheduler"] == "scheduler"


def test_airflow_services_share_the_celery_setup_the_dag_folder_and_the_eikis_volumes():
    services = compose()["services"]
    for name in ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-worker",
                 "airflow-triggerer"):
        service = services[name]
        env = service["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
        assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://redis:")
        assert "postgres" in env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
        assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
        mounts = service["volumes"]
        assert "./dags:/opt/airflow/dags:ro" in mounts
        for volume in ("eikis-inbox", "eikis-outbox", "eikis-work"):
            assert any(mount.startswith(f"{volume}:") for mount in mounts)
        assert service["image"] == "eikis-airflow:0.1.0" and service["build"] == "."
        assert "${" in env["EIKIS_PSEUDONYM_SECRET"], "secrets come from .env, never the file"


def test_images_are_pinned_and_volumes_declared():
    document = compose()
    for name, service in document["services"].items():
        image = service.get("image", "")
        assert ":" in image and not image.endswith(":latest"), name
    assert {"postgres-data", "sftp-data", "eikis-inbox", "eikis-outbox", "eikis-work"} <= set(document["volumes"])
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "FROM apache/airflow:3.3.2-python3.11" in dockerfile and "pip check" in dockerfile
    # the canonical XML fast path is C: the image has a compiler, fails its build without the extension, and never
    # copies a .so built for this checkout's Python
    assert "gcc" in dockerfile and "import pipeline.sources._canonscan" in dockerfile
    assert "pipeline/sources/*.so" in (ROOT / ".dockerignore").read_text(encoding="utf-8").split()


def test_airflow_init_gives_the_data_volumes_to_the_task_user():
    init = compose()["services"]["airflow-init"]
    script = init["command"][-1]
    assert init["user"] == "0:0"
    for folder in ("/opt/eikis/data/inbox", "/opt/eikis/data/outbox", "/opt/eikis/data/work"):
        assert folder in script.split("chown -R 50000:0", 1)[1].splitlines()[0], folder
    assert script.index("chown") < script.index("airflow db migrate")


def test_secrets_stay_out_of_the_image_and_out_of_git():
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".env", "secrets"} <= set(ignored)
    assert "secrets/" in (ROOT / ".gitignore").read_text(encoding="utf-8").split()


def test_every_delivery_endpoint_verifies_the_host_key_the_example_known_hosts_describes():
    import json

    env = compose()["x-airflow-common"]["environment"]
    extra = json.loads(env["AIRFLOW_CONN_EIKIS_SFTP"])["extra"]
    assert extra["known_hosts"] == "/opt/eikis/config/known_hosts" and "no_host_key_check" not in extra
    recipients = yaml.safe_load((ROOT / "config" / "recipients.example.yaml").read_text(encoding="utf-8"))
    for name, endpoint in recipients["endpoints"].items():
        assert "airflow_conn_id" in endpoint or endpoint.get("known_hosts") or endpoint.get("host_key"), name
    example = (ROOT / "config" / "known_hosts.example").read_text(encoding="utf-8")
    assert "ssh-keyscan" in example and "secrets/sftp_host_ed25519_key.pub" in example
    sftp = compose()["services"]["sftp"]
    assert "./secrets/sftp_host_ed25519_key:/etc/ssh/ssh_host_ed25519_key:ro" in sftp["volumes"]


def test_providers_have_an_inbound_sftp_drop_into_the_inbox_volume():
    services = compose()["services"]
    drops = [name for name, service in services.items() if name != "airflow-init" and "sftp" in
             service.get("image", "") and any(m.startswith("eikis-inbox:") for m in service.get("volumes", []))]
    assert drops == ["sftp-inbox"]
    drop = services["sftp-inbox"]
    assert drop["command"].endswith("}:50000:0"), "providers write as the tasks' user"
    assert "${EIKIS_INBOX_SFTP_PASSWORD:?" in drop["command"] and drop["ports"]


def test_the_env_example_has_no_invalid_placeholder_and_says_how_to_make_a_fernet_key():
    import base64

    lines = (ROOT / "config" / "env.example").read_text(encoding="utf-8").splitlines()
    values = dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))
    assert values["AIRFLOW_FERNET_KEY"] == "" or len(base64.urlsafe_b64decode(values["AIRFLOW_FERNET_KEY"])) == 32
    assert any("Fernet.generate_key()" in line for line in lines)
    assert "EIKIS_INBOX_SFTP_PASSWORD" in values
    assert "${AIRFLOW_FERNET_KEY:?" in compose()["x-airflow-common"]["environment"]["AIRFLOW__CORE__FERNET_KEY"]


def test_the_celery_worker_runs_only_as_many_tasks_as_its_memory_holds():
    import re

    worker = compose()["services"]["airflow-worker"]
    concurrency = int(worker["environment"]["AIRFLOW__CELERY__WORKER_CONCURRENCY"])
    limit_gb = float(worker["mem_limit"].rstrip("g"))
    benchmarks = (ROOT / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    peak_gb = float(re.search(r"\*\*total\*\*.*\*\*([\d.]+) GB\*\*", benchmarks).group(1))
    assert concurrency >= 1 and concurrency * peak_gb <= limit_gb


def test_the_portal_serves_the_same_store_with_its_keys_from_env():
    document = compose()
    portal = document["services"]["portal"]
    command = " ".join(portal["entrypoint"] + portal["command"])
    assert "eikis portal --db" in command and "--host 0.0.0.0 --port 8000" in command
    env = portal["environment"]
    assert env["EIKIS_DB_URL"] == document["x-airflow-common"]["environment"]["EIKIS_DB_URL"]
    for key in ("EIKIS_PSEUDONYM_SECRET", "EIKIS_PORTAL_DATA_KEY", "EIKIS_PORTAL_SESSION_KEY"):
        assert env[key].startswith("${" + key + ":?"), key          # from .env, required
    assert document["x-airflow-common"]["environment"]["EIKIS_PORTAL_DATA_KEY"].startswith("${")
    assert portal["ports"] == ["127.0.0.1:8000:8000"] and "/healthz" in " ".join(portal["healthcheck"]["test"])
    assert portal["depends_on"]["postgres"]["condition"] == "service_healthy"
    example = (ROOT / "config" / "env.example").read_text(encoding="utf-8")
    for key in ("EIKIS_PORTAL_DATA_KEY=", "EIKIS_PORTAL_SESSION_KEY="):
        assert f"\n{key}\n" in example
