#!/bin/bash
# Runs once, when the store-db volume is created (as its owner, `eikis_owner`, which owns the database `eikis`):
# creates the application role `eikis` that the flows and the portal connect as. It gets no rights here: the
# migrations (`eikis db upgrade`, service store-migrate) grant it exactly what the application needs.
# The password is read from the compose secret by psql itself (backquote in `\set`): it is in no argv, no
# environment variable and no log line; `format(%L)` quotes it as a literal.
set -euo pipefail
: "${EIKIS_DB_PASSWORD_FILE:?set in docker-compose.yaml}"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<EOSQL
\\set app_password \`cat "$EIKIS_DB_PASSWORD_FILE"\`
SELECT format('CREATE ROLE eikis LOGIN PASSWORD %L', :'app_password') \\gexec
REVOKE ALL ON DATABASE eikis FROM PUBLIC;
GRANT CONNECT ON DATABASE eikis TO eikis;
EOSQL
