#!/usr/bin/env bash
# Fails when the venv's packages differ from requirements.lock (a version, a missing package): a fresh install
# must equal CI's. uv answers "Would make no changes" only when every locked pin is installed as locked.
set -euo pipefail
BIN="${1:-.venv/bin}"
LOCK="$(dirname "$0")/../requirements.lock"
out="$("$BIN/uv" pip install --dry-run --python "$BIN/python" --require-hashes -r "$LOCK" 2>&1)"
if ! grep -q "Would make no changes" <<<"$out"; then
  echo "check_venv: $BIN differs from requirements.lock (run: rm -rf .venv && make setup):" >&2
  echo "$out" >&2
  exit 1
fi
"$BIN/uv" pip check --python "$BIN/python" >/dev/null
echo "check_venv: the venv equals requirements.lock"
