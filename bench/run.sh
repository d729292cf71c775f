#!/usr/bin/env bash
# Load benchmark: the service pinned to one core, wrk on the other, side by side with nginx serving the
# same bytes. Prints a Markdown table (requests/s, latency, RSS), then /__lbheartbeat__ with one and
# with two event-loop threads (DOCKERFLOW_THREADS). Loopback only; every run is bounded.
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

# start_app <cpus> <threads>: the service on those CPUs (taskset list) with that many loop threads;
# sets app_pid and app_port. The drain on SIGTERM is off so that stopping it between runs is instant.
start_app() {
  app_port=$(free_port)
  DATABASE_URL=$DATABASE_URL REDIS_URL=$REDIS_URL PORT=$app_port HOST=127.0.0.1 LOG_LEVEL="${BENCH_LOG_LEVEL:-info}" \
    DOCKERFLOW_VERSION_FILE=version.json DOCKERFLOW_THREADS=$2 DOCKERFLOW_DRAIN_SECONDS=0 \
    taskset -c "$1" "$app" >>"$work/app.log" 2>&1 &
  app_pid=$!
  wait_port "$app_port"
}
stop_app() {
  kill "$app_pid" 2>/dev/null || true
  wait "$app_pid" 2>/dev/null || true
  app_pid=""
}

# "requests/s p50 p99 non-2xx" from wrk's --latency output; wrk runs on CPU 1 unless told otherwise.
measure() {
  local url=$1 conns=${2:-$connections} cpus=${3:-1} out
  out=$(taskset -c "$cpus" wrk -t1 -c"$conns" -d"$duration" --latency "$url")
  awk '/Requests\/sec/ {rps=$2} /^ +50%/ {p50=$2} /^ +99%/ {p99=$2} /Non-2xx/ {bad=$4} END {printf "%s %s %s %s\n", rps, p50, p99, (bad==""?0:bad)}' <<<"$out"
}

start_local_postgres >/dev/null
start_local_redis >/dev/null
start_app 0 1
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
stop_app
kill "$nginx_pid" 2>/dev/null || true
wait "$nginx_pid" 2>/dev/null || true
nginx_pid=""

# Loop threads. A second thread can only help if it gets a core of its own, and this machine has two,
# one of which wrk needs. So each thread count runs twice: pinned as above (service on CPU 0, wrk on
# CPU 1: two threads then share one core), and unpinned (service and wrk both free on CPUs 0-1, the
# scheduler splits them). Only a row pair with the same placement compares thread counts fairly.
ncpu=$(nproc)
all_cpus="0-$((ncpu - 1))"
echo
echo "| DOCKERFLOW_THREADS | service CPUs | wrk CPUs | requests/s | p99 |"
echo "|---|---|---|---|---|"
for placement in "0 1" "$all_cpus $all_cpus"; do
  read -r app_cpus wrk_cpus <<<"$placement"
  for threads in 1 2; do
    start_app "$app_cpus" "$threads"
    read -r rps _ p99 bad < <(measure "http://127.0.0.1:$app_port/__lbheartbeat__" "$connections" "$wrk_cpus")
    stop_app
    [ "$bad" = 0 ] || rps="$rps ($bad non-2xx)"
    echo "| $threads | $app_cpus | $wrk_cpus | $rps | $p99 |"
  done
done
echo
echo "(/__lbheartbeat__, $connections connections, $duration per run, one wrk thread; $ncpu CPUs on this machine)"
