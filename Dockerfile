# EIKIS on Airflow 3.3 (Python 3.11). The project is pip-installed, so `pipeline` imports in every component.
FROM apache/airflow:3.3.2-python3.11

USER root
# gcc builds the one C extension (pipeline/sources/_canonscan.c: the canonical XML fast path); without it the
# install still succeeds, but every XML file takes the slower exact path.
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev && rm -rf /var/lib/apt/lists/*
COPY --chown=airflow:root . /opt/eikis
USER airflow
RUN pip install --no-cache-dir --require-hashes -r /opt/eikis/requirements.lock \
    && pip install --no-cache-dir --no-deps --no-build-isolation /opt/eikis && pip check \
    && python -c "import pipeline.sources._canonscan"

ENV EIKIS_EXPECTATIONS_DIR=/opt/eikis/expectations \
    EIKIS_SQL_DIR=/opt/eikis/sql \
    EIKIS_POLICY=/opt/eikis/policy/eikis_policy.yaml

# The DAGs are the image's own (AIRFLOW__CORE__DAGS_FOLDER in docker-compose.yaml): code and DAGs change together.
# Compose secrets named /run/secrets/EIKIS_* become variables before the image's entrypoint (deploy/secrets-env.sh).
ENV AIRFLOW__CORE__DAGS_FOLDER=/opt/eikis/dags
ENTRYPOINT ["/usr/bin/dumb-init", "--", "/opt/eikis/deploy/secrets-env.sh", "/entrypoint"]
