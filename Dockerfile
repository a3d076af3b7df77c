# EIKIS on Airflow 3.3 (Python 3.11): one image for Airflow, the DAGs and the `pipeline` package; every Python
# package from requirements-runtime.lock (the runtime part of requirements.lock, with hashes).
#
# Two stages. `build` has the compiler and the headers: psycopg2 is built against Debian's libpq (not the
# end-of-life libraries psycopg2-binary bundles) and EIKIS's C extension (pipeline/sources/_canonscan.c, the
# canonical XML fast path; the build fails without it). `runtime` gets only the finished virtual environment and
# the run-time libraries: no compiler, no headers. The code belongs to root and is read-only for the user the
# services run as (uid 50000), so a task cannot change the code that the next task runs.
# Each FROM is pinned by digest by `make pin-images` (deploy/pin-images.sh), run where the registry is reachable.
FROM python:3.11-slim-bookworm AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev libpq-dev \
    && rm -rf /var/lib/apt/lists/*
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/eikis/venv
COPY requirements-runtime.lock /src/requirements-runtime.lock
RUN /opt/eikis/venv/bin/pip install --require-hashes --no-deps -r /src/requirements-runtime.lock
COPY pyproject.toml setup.py README.md LICENSE /src/
COPY pipeline /src/pipeline
RUN /opt/eikis/venv/bin/pip install --no-deps --no-build-isolation /src \
    && /opt/eikis/venv/bin/pip check \
    && /opt/eikis/venv/bin/python -c "import pipeline.sources._canonscan"

FROM python:3.11-slim-bookworm AS runtime
# libpq5: psycopg2's run-time library; dumb-init: signals to the services; curl: the health checks.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpq5 dumb-init curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --uid 50000 --gid 0 --home-dir /opt/airflow --no-create-home --shell /usr/sbin/nologin airflow \
    && install -d -o 50000 -g 0 -m 0750 /opt/airflow /opt/airflow/logs
COPY --from=build /opt/eikis/venv /opt/eikis/venv
COPY dags /opt/eikis/dags
COPY deploy /opt/eikis/deploy
COPY expectations /opt/eikis/expectations
COPY sql /opt/eikis/sql
COPY policy /opt/eikis/policy
COPY LICENSE /opt/eikis/LICENSE
# Root-owned and not writable by anyone else: the running user reads and executes, never changes, the code.
RUN chown -R root:root /opt/eikis \
    && chmod -R go-w /opt/eikis \
    && /opt/eikis/venv/bin/python -m compileall -q /opt/eikis/dags /opt/eikis/deploy

ENV PATH=/opt/eikis/venv/bin:$PATH \
    AIRFLOW_HOME=/opt/airflow \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/eikis/dags \
    EIKIS_EXPECTATIONS_DIR=/opt/eikis/expectations \
    EIKIS_SQL_DIR=/opt/eikis/sql \
    EIKIS_POLICY=/opt/eikis/policy/eikis_policy.yaml \
    PYTHONDONTWRITEBYTECODE=1
USER 50000:0
WORKDIR /opt/airflow
# Compose secrets named /run/secrets/EIKIS_* become variables (deploy/secrets-env.sh), then `airflow <command>`
# (docker-compose.yaml gives api-server, scheduler, celery worker, …).
ENTRYPOINT ["/usr/bin/dumb-init", "--", "/opt/eikis/deploy/secrets-env.sh", "airflow"]
