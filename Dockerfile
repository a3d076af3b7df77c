# EIKIS on Airflow 3.3 (Python 3.11). The project is pip-installed, so `pipeline` imports in every component.
FROM apache/airflow:3.3.2-python3.11

USER root
COPY --chown=airflow:root . /opt/eikis
USER airflow
RUN pip install --no-cache-dir "/opt/eikis[airflow]" && pip check

ENV EIKIS_EXPECTATIONS_DIR=/opt/eikis/expectations \
    EIKIS_SQL_DIR=/opt/eikis/sql \
    EIKIS_POLICY=/opt/eikis/policy/eikis_policy.yaml
