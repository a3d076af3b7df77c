#!/bin/bash
# Compose secrets the EIKIS code reads as variables: each file mounted as /run/secrets/EIKIS_<NAME> becomes the
# variable EIKIS_<NAME> of this process tree, then the image's own entrypoint runs.
#
# Why: a compose secret is a file mounted only into the services that list it, where a plain `environment:` value
# sits in docker-compose.yaml's rendering, in `docker inspect` of every container that shares the anchor, and in
# the image's history if someone bakes it. `export` is a shell builtin, so the value never appears in any argv.
# Secrets the code reads as files (EIKIS_DB_PASSWORD_FILE, the SFTP key) keep lowercase names and are left alone.
set -euo pipefail
shopt -s nullglob
secrets="${EIKIS_SECRETS_DIR:-/run/secrets}"   # another folder only for the tests
for file in "$secrets"/EIKIS_*; do
  name="${file##*/}"
  if [[ ! "$name" =~ ^EIKIS_[A-Z0-9_]+$ ]]; then
    echo "secrets-env: $file is not a variable name (EIKIS_ and capitals, digits, _)" >&2
    exit 1
  fi
  value="$(<"$file")"
  if [[ -z "$value" ]]; then
    echo "secrets-env: $file is empty: remake its file under secrets/ (deploy/make-secrets.sh)" >&2
    exit 1
  fi
  export "$name=$value"
done
exec "$@"
