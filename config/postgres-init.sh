#!/bin/bash
# Runs once when the compose PostgreSQL volume is created: the EIKIS store lives beside Airflow's metadata.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<-EOSQL
    CREATE ROLE eikis LOGIN PASSWORD '${POSTGRES_PASSWORD}';
    CREATE DATABASE eikis OWNER eikis;
EOSQL
