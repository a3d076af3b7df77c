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
