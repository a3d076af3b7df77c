#!/usr/bin/env bash
# The national month through Airflow (issue 23.3): `make bench-airflow` after `make bench` generated the national
# inbox. It starts `make airflow`'s deployment (scripts/airflow_demo.py: `airflow standalone`, LocalExecutor, a
# loopback SFTP server for the deliveries) on that inbox with a PostgreSQL store of its own, triggers eikis_monthly
# for the month, and prints the time from the trigger to the end of the run (the last delivery), each task's
# duration, and the same month through `eikis run` (PostgreSQL store, every file delivered to a loopback SFTP
# server as the DAG delivers) measured right after, so that the two figures come from the same sitting. Everything
# is written under OUT (default bench_data/airflow).
set -uo pipefail
cd "$(dirname "$0")/.."
INBOX=${INBOX:-bench_data/inbox-1}
OUT=$(realpath -m "${OUT:-bench_data/airflow}")
PERIOD=${PERIOD:-2026-11}
PORT=${PORT:-8091}
BIN=$(pwd)/.venv/bin
[ -d "$INBOX/$PERIOD" ] || { echo "bench-airflow: no $INBOX/$PERIOD (run make bench first, or set INBOX)" >&2; exit 2; }
rm -rf "$OUT"; mkdir -p "$OUT"
export EIKIS_INBOX=$(realpath "$INBOX") EIKIS_DATA_DOCS=0 EIKIS_DEV_MODE=1
fresh_store() {
  psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1" >/dev/null
  EIKIS_DB_URL=postgresql+psycopg2://postgres@127.0.0.1:5432/$1 "$BIN/eikis" db upgrade >/dev/null
  echo "postgresql+psycopg2://postgres@127.0.0.1:5432/$1"
}
export EIKIS_DB_URL=$(fresh_store eikis_bench_airflow)
setsid "$BIN/python" scripts/airflow_demo.py --out "$OUT" --port "$PORT" > "$OUT/demo.log" 2>&1 &
DEMO=$!
trap 'kill -TERM -- -$DEMO 2>/dev/null; sleep 5; kill -KILL -- -$DEMO 2>/dev/null' EXIT
for _ in $(seq 1 150); do curl -sf "http://localhost:$PORT/api/v2/monitor/health" >/dev/null && break; sleep 2; done
sleep 20  # the scheduler's first DAG parse
export AIRFLOW_HOME=$OUT/airflow PATH=$BIN:$PATH
airflow dags unpause eikis_monthly >/dev/null 2>&1
started=$(date +%s.%N)
airflow dags trigger eikis_monthly -c "{\"period\": \"$PERIOD\"}" > "$OUT/trigger.log" 2>&1
state=""
while :; do
  state=$(sqlite3 "$AIRFLOW_HOME/airflow.db" "SELECT state FROM dag_run WHERE dag_id = 'eikis_monthly' ORDER BY id DESC LIMIT 1")
  case "$state" in success|failed) break ;; esac
  sleep 2
done
ended=$(date +%s.%N)
airflow_s=$(echo "$ended - $started" | bc)
echo "eikis_monthly through Airflow: $state, trigger to the last delivery $airflow_s s"
sqlite3 -separator ' ' "$AIRFLOW_HOME/airflow.db" "SELECT printf('  %-20s %3d tasks %7.1f s (first start to last end)', task_id, count(*),
  (julianday(max(end_date)) - julianday(min(start_date))) * 86400) FROM task_instance WHERE dag_id = 'eikis_monthly'
  GROUP BY task_id ORDER BY min(start_date)"
kill -TERM -- -"$DEMO" 2>/dev/null; sleep 5; kill -KILL -- -"$DEMO" 2>/dev/null; trap - EXIT
export EIKIS_DB_URL=$(fresh_store eikis_bench_airflow_cli)
# The CLI month delivers too, as the DAG does: every recipient's files to a loopback SFTP server of its own, named
# in a recipients file with its host key (the demo's recipients name an Airflow connection, which the CLI has not).
mkdir -p "$OUT/cli/sftp"
"$BIN/python" -m tests.sftp_server "$OUT/cli/sftp" > "$OUT/cli/sftp.log" 2>&1 &
SFTP=$!
trap 'kill -TERM $SFTP 2>/dev/null' EXIT
for _ in $(seq 1 50); do grep -q '^host_key: ' "$OUT/cli/sftp.log" && break; sleep 0.2; done
port=$(sed -n 's|^sftp://[^@]*@127.0.0.1:\([0-9]*\) .*|\1|p' "$OUT/cli/sftp.log")
cat > "$OUT/cli/recipients.yaml" <<YAML
endpoints:
  loopback: {host: 127.0.0.1, port: $port, username: eikis, password_env: EIKIS_SFTP_PASSWORD,
             host_key: "$(sed -n 's/^host_key: //p' "$OUT/cli/sftp.log")"}
recipients:
  - {match: "*", endpoint: loopback, remote_dir: "/monthly/{recipient}/{period}"}
YAML
started=$(date +%s.%N)
EIKIS_SFTP_PASSWORD=loopback-only "$BIN/eikis" run --period "$PERIOD" --inbox "$EIKIS_INBOX" \
  --outbox "$OUT/cli/outbox" --workdir "$OUT/cli/work" --policy policy/eikis_policy.yaml \
  --recipients "$OUT/cli/recipients.yaml" > "$OUT/cli.log" 2>&1 || { echo "eikis run failed: $OUT/cli.log" >&2; exit 1; }
cli_s=$(echo "$(date +%s.%N) - $started" | bc)
echo "eikis run (PostgreSQL store, every file delivered to loopback SFTP): $cli_s s"
echo "Airflow / CLI = $(echo "scale=2; $airflow_s / $cli_s" | bc) (target <= 1.5)"
