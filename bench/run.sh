#!/usr/bin/env bash
# Load benchmark: the service pinned to one core, wrk on the other, side by side with nginx serving the
# same bytes. Prints a Markdown table (requests/s, latency, RSS). Loopback only; every run is bounded.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/local-services.sh
source scripts/local-services.sh

duration=${BENCH_DURATION:-10s}
connections=${BENCH_CONNECTIONS:-50}
app=${DOCKERFLOW_APP:-build/dockerflow-app}

need=()
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || need+=(nginx-light)
if [ ${#need[@]} -gt 0 ]; then
  [ "$(id -u)" -eq 0 ] || { echo "bench: install ${need[*]}" >&2; exit 1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

work=$(mktemp -d /tmp/dockerflow-bench.XXXXXX)
app_pid="" nginx_pid=""
cleanup() {
  [ -n "$app_pid" ] && kill "$app_pid" 2>/dev/null && wait "$app_pid" 2>/dev/null
  [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null
  stop_local_services
  rm -rf "$work"
}
trap cleanup EXIT

wait_port() { for _ in $(seq 1 100); do port_is_free "$1" || return 0; sleep 0.05; done; return 1; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
hwm_kb() { awk '/^VmHWM/ {print $2}' "/proc/$1/status"; }

# "requests/s p50 p99" from wrk's --latency output
measure() {
  local url=$1 conns=${2:-$connections} out
  out=$(taskset -c 1 wrk -t1 -c"$conns" -d"$duration" --latency "$url")
  awk '/Requests\/sec/ {rps=$2} /^ +50%/ {p50=$2} /^ +99%/ {p99=$2} /Non-2xx/ {bad=$4} END {printf "%s %s %s %s\n", rps, p50, p99, (bad==""?0:bad)}' <<<"$out"
}

start_local_postgres >/dev/null
start_local_redis >/dev/null
app_port=$(free_port)
DATABASE_URL=$DATABASE_URL REDIS_URL=$REDIS_URL PORT=$app_port HOST=127.0.0.1 LOG_LEVEL="${BENCH_LOG_LEVEL:-info}" \
  DOCKERFLOW_VERSION_FILE=version.json taskset -c 0 "$app" >"$work/app.log" 2>&1 &
app_pid=$!
wait_port "$app_port"
rss_idle=$(rss_kb "$app_pid")

nginx_port=$(free_port)
mkdir -p "$work/www"
cp version.json "$work/www/__version__"
: >"$work/www/__lbheartbeat__"
cat >"$work/nginx.conf" <<CONF
daemon off; worker_processes 1; pid $work/nginx.pid; error_log $work/nginx-error.log;
events { worker_connections 1024; }
http { access_log off; default_type application/json;
  client_body_temp_path $work; proxy_temp_path $work; fastcgi_temp_path $work; uwsgi_temp_path $work; scgi_temp_path $work;
  server { listen 127.0.0.1:$nginx_port; root $work/www; } }
CONF
taskset -c 0 nginx -c "$work/nginx.conf" &
nginx_pid=$!
wait_port "$nginx_port"

echo "| target | server | requests/s | p50 | p99 | non-2xx |"
echo "|---|---|---|---|---|---|"
for path in __lbheartbeat__ __version__; do
  read -r rps p50 p99 bad < <(measure "http://127.0.0.1:$app_port/$path")
  echo "| /$path | dockerflow-app | $rps | $p50 | $p99 | $bad |"
  read -r rps p50 p99 bad < <(measure "http://127.0.0.1:$nginx_port/$path")
  echo "| /$path | nginx (static file) | $rps | $p50 | $p99 | $bad |"
done
read -r rps p50 p99 bad < <(measure "http://127.0.0.1:$app_port/__heartbeat__" 10)
echo "| /__heartbeat__ (Postgres + Redis) | dockerflow-app | $rps | $p50 | $p99 | $bad |"
echo
echo "dockerflow-app RSS: ${rss_idle} kB idle, $(rss_kb "$app_pid") kB after load, peak $(hwm_kb "$app_pid") kB"
echo "($connections connections, $duration per run, server on CPU 0, wrk on CPU 1; heartbeat with 10 connections; LOG_LEVEL=${BENCH_LOG_LEVEL:-info}, logs to a file)"
