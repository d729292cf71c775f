#!/usr/bin/env bash
# `make run`: serve on $PORT; when DATABASE_URL / REDIS_URL are unset, against throwaway local servers.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/local-services.sh
source scripts/local-services.sh

app=${DOCKERFLOW_APP:-build/dockerflow-app}
app_pid=""
cleanup() {
  if [ -n "$app_pid" ]; then kill -TERM "$app_pid" 2>/dev/null || true; wait "$app_pid" 2>/dev/null || true; fi
  stop_local_services
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ -z "${DATABASE_URL:-}" ]; then start_local_postgres; export DATABASE_URL; fi
if [ -z "${REDIS_URL:-}" ]; then start_local_redis; export REDIS_URL; fi
export PORT=${PORT:-8000}
echo "run: http://127.0.0.1:$PORT/__heartbeat__  (Ctrl-C stops the service and what it started)" >&2
"$app" &
app_pid=$!
wait "$app_pid"
