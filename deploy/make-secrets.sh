#!/bin/bash
# Makes every secret the compose stack reads, as files under secrets/ (README, "Deploying with Docker Compose").
#
#   deploy/make-secrets.sh [DIR]      # DIR: the checkout holding docker-compose.yaml (default: this one)
#
# The folder is 0700: on the host only its owner reads it. Each file is 0644 because Docker bind-mounts a secret
# with the host file's owner and mode, and the containers' users (uid 50000, postgres, redis) must read the ones
# mounted into them; compose mounts each file only into the services that list it. An existing file is never
# overwritten: rotating a secret is a deliberate step (delete the file, re-run, restart the services that use it;
# never for eikis_pseudonym_secret or eikis_portal_data_key, which the stored months depend on for 24 months).
# Random values are hex (or the Fernet key's URL-safe base64), so no character needs quoting in any file or URL.
set -euo pipefail
root="${1:-$(dirname "$0")/..}"
cd "$root"
umask 022
mkdir -p secrets
chmod 0700 secrets

fresh() {  # true when secrets/$1 is still to be made
  if [[ -e "secrets/$1" ]]; then echo "make-secrets: keeping secrets/$1"; return 1; fi
  echo "make-secrets: making secrets/$1"
}

for name in airflow_db_password redis_password airflow_jwt_secret airflow_api_secret_key eikis_db_owner_password \
            eikis_db_password eikis_pseudonym_secret eikis_portal_data_key eikis_portal_session_key; do
  if fresh "$name"; then openssl rand -hex 32 > "secrets/$name"; fi
done
if fresh airflow_fernet_key; then  # a Fernet key is 32 random bytes in URL-safe base64
  openssl rand -base64 32 | tr '+/' '-_' > secrets/airflow_fernet_key
fi
# EIKIS's delivery key (the outbound server's `eikis` account authorises its .pub).
if fresh eikis_sftp_key; then
  ssh-keygen -q -t ed25519 -N '' -C eikis-delivery -f secrets/eikis_sftp_key
fi
# Each SFTP server its own host key: a recipient who learns one cannot pose as the other.
for server in sftp_in sftp_out; do
  if fresh "${server}_host_ed25519_key"; then
    ssh-keygen -q -t ed25519 -N '' -C "eikis-${server}" -f "secrets/${server}_host_ed25519_key"
  fi
done
# One initial password per named Airflow user (config/airflow-users.yaml); users change it after signing in.
if fresh airflow_user_passwords; then
  users="config/airflow-users.yaml"
  [[ -f "$users" ]] || { echo "make-secrets: $users is missing (copy config/airflow-users.example.yaml)" >&2; exit 1; }
  sed -n 's/^ *- *username: *\([A-Za-z0-9._@-]*\) *$/\1/p' "$users" | while read -r user; do
    printf '%s:%s\n' "$user" "$(openssl rand -hex 16)"
  done > secrets/airflow_user_passwords
  echo "make-secrets: hand each user their line of secrets/airflow_user_passwords, out of band"
fi
chmod 0644 secrets/*
