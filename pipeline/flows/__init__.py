"""One Airflow-free orchestrator per flow: the CLI and the DAGs both call these."""
