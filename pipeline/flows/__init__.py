"""One Airflow-free orchestrator per flow; the CLI and the DAGs call these."""
