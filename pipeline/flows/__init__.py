"""One Airflow-free orchestrator per flow: the `eikis` CLI and the DAGs call the same functions."""
