"""Deployment settings are not trigger parameters (issue 27, point 1): a DAG run's config may carry its month and
its declared switches only; paths, the store, the recipients, the traders and the policy come from the deployment's
`EIKIS_*` variables. Airflow merges every key of a run's config into the params, so the flows refuse any key the
DAG does not declare before anything is read or written."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, inspect

from pipeline.config import Deployment, check_password_env
from pipeline.errors import ConfigError, EikisError
from pipeline.flows import aldis, claims, corrections, monthly, retention, simulate
from tests.dags.harness import airflow_env, dags_test

FLOWS = {"eikis_monthly": monthly.RunConfig, "aldis_protected_users": aldis.AldisConfig,
         "eikis_claims": claims.ClaimsConfig, "eikis_retention": retention.RetentionConfig,
         "eikis_corrections": corrections.CorrectionsConfig, "eikis_simulate": simulate.SimulateConfig}


@pytest.mark.parametrize("dag_id", sorted(FLOWS))
def test_each_dag_declares_exactly_its_flows_run_params(dagbag, dag_id):
    assert set(dagbag.dags[dag_id].params) == set(FLOWS[dag_id].trigger_params())


def test_the_deployment_comes_from_the_environment_only():
    env = {"EIKIS_WORKDIR": "/w", "EIKIS_ALDIS_OUTBOX": "/a", "EIKIS_CLAIMS_RECIPIENTS": "/r.yaml"}
    config = claims.ClaimsConfig.resolve({"period": "2026-11"}, None, env)
    assert config.aldis == "/a" and config.recipients == "/r.yaml" and config.db_url == "sqlite:////w/eikis.sqlite"
    assert monthly.RunConfig.resolve({"period": "2026-11"}, None, env).inbox == "/opt/eikis/inbox"


@pytest.mark.parametrize("conf", [{"period": "2026-11", "db_url": "postgresql://someone@elsewhere/x"},
                                  {"period": "2026-11", "outbox": "/tmp/elsewhere"},
                                  {"period": "2026-11", "recipients": "/tmp/mine.yaml"}])
def test_every_flow_refuses_an_undeclared_key(conf):
    for flow in FLOWS.values():
        with pytest.raises(ConfigError, match="undeclared key"):
            flow.resolve(conf, None, {})


def test_a_store_url_with_a_password_is_refused():
    with pytest.raises(ConfigError, match="must not carry a password"):
        Deployment.from_env({"EIKIS_DB_URL": "postgresql://eikis:hunter2@db/eikis"})


@pytest.mark.parametrize("name", ["EIKIS_PSEUDONYM_SECRET", "EIKIS_DB_PASSWORD", "HOME", "EIKIS_SFTP_PASSWORDX", ""])
def test_password_env_names_only_an_sftp_password_variable(name):
    with pytest.raises(EikisError, match="password_env"):
        check_password_env(name, "recipients.yaml")
    assert check_password_env("EIKIS_SFTP_PASSWORD_TRADERS", "x") == "EIKIS_SFTP_PASSWORD_TRADERS"


def test_a_recipients_file_naming_another_secret_is_refused_when_loaded(tmp_path):
    from pipeline.deliver.sftp import RecipientsConfig

    path = tmp_path / "recipients.yaml"
    path.write_text("endpoints:\n  x: {host: h, password_env: EIKIS_PSEUDONYM_SECRET}\nrecipients: []\n",
                    encoding="utf-8")
    with pytest.raises(EikisError, match="password_env must name an EIKIS_SFTP_PASSWORD"):
        RecipientsConfig.load(path)
    path.write_text("endpoints:\n  x: {host: h, password: plain}\nrecipients: []\n", encoding="utf-8")
    with pytest.raises(EikisError, match="never written in the file"):
        RecipientsConfig.load(path)


@pytest.mark.slow
def test_a_trigger_with_a_path_or_an_undeclared_key_is_refused_by_the_running_dag(tmp_path):
    workdir, theirs = tmp_path / "work", tmp_path / "theirs.sqlite"
    env = airflow_env(tmp_path / "airflow", {"EIKIS_WORKDIR": str(workdir)})
    redirected = dags_test("eikis_retention", {"as_of": "2026-11", "db_url": f"sqlite:///{theirs}"}, env, 300)
    log = redirected.stdout + redirected.stderr
    assert redirected.returncode != 0 and "undeclared key(s) 'db_url'" in log, log[-5000:]
    assert not theirs.exists() and not workdir.exists()  # refused before anything was opened

    outbox = tmp_path / "elsewhere"
    moved = dags_test("eikis_monthly", {"period": "2026-11", "outbox": str(outbox)}, env, 300)
    log = moved.stdout + moved.stderr
    assert moved.returncode != 0 and "undeclared key(s) 'outbox'" in log, log[-5000:]
    assert not outbox.exists()

    workdir.mkdir()
    declared = dags_test("eikis_retention", {"as_of": "2026-11"}, env, 300)  # the same DAG, only its own keys
    assert declared.returncode == 0, (declared.stdout + declared.stderr)[-5000:]
    assert "deletion_log" in inspect(create_engine(f"sqlite:///{workdir / 'eikis.sqlite'}")).get_table_names()
