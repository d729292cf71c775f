#!/usr/bin/env bash
# User-space instructions per request, counted by callgrind: unlike CPU time, this does not move with
# the machine's load, so it compares two builds (or the service and nginx) on a busy machine too.
# Each server runs twice under callgrind: once for one request, once for a few seconds of wrk; the
# difference divided by the difference in requests leaves start-up out. Kernel time is not counted.
#   bash bench/instructions.sh [path...]      default: /__lbheartbeat__ /__version__
# DOCKERFLOW_APP (default build/dockerflow-app), LOG_LEVEL (default warning), BENCH_NGINX=0 skips nginx.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/local-services.sh
source scripts/local-services.sh

app=${DOCKERFLOW_APP:-build/dockerflow-app}
paths=("$@")
[ ${#paths[@]} -gt 0 ] || paths=(/__lbheartbeat__ /__version__)
for tool in valgrind wrk curl; do
  command -v "$tool" >/dev/null || { echo "instructions: needs $tool (apt-get install valgrind wrk curl)" >&2; exit 1; }
done

work=$(mktemp -d /tmp/dockerflow-instructions.XXXXXX)
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# count <url> <seconds: 0 = one request> <command...>: prints "instructions requests"
count() {
  local url=$1 seconds=$2 requests=1
  shift 2
  rm -f "$work/callgrind.out"
  valgrind --tool=callgrind --trace-children=yes --callgrind-out-file="$work/callgrind.out" "$@" >"$work/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 200); do curl -s -o /dev/null "$url" && break; sleep 0.1; done
  if [ "$seconds" != 0 ]; then
    requests=$(wrk -t1 -c16 -d"${seconds}s" "$url" | awk '/requests in/ {print $1}')
    requests=$((requests + 1))
  fi
  kill -TERM "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
  echo "$(callgrind_annotate "$work/callgrind.out" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}') $requests"
}

per_request() {  # per_request <url> <command...>
  local url=$1 n0 r0 n1 r1
  shift
  read -r n0 r0 < <(count "$url" 0 "$@")
  read -r n1 r1 < <(count "$url" 3 "$@")
  echo $(((n1 - n0) / (r1 - r0)))
}

echo "| server | path | instructions/request (user space) |"
echo "|---|---|---|"
for path in "${paths[@]}"; do
  port=$(free_port)
  n=$(per_request "http://127.0.0.1:$port$path" env PORT="$port" HOST=127.0.0.1 LOG_LEVEL="${LOG_LEVEL:-warning}" \
    DOCKERFLOW_VERSION_FILE=version.json DOCKERFLOW_THREADS=1 DOCKERFLOW_DRAIN_SECONDS=0 "$app")
  echo "| dockerflow-app (LOG_LEVEL=${LOG_LEVEL:-warning}) | $path | $n |"
done
if [ "${BENCH_NGINX:-1}" != 0 ] && command -v nginx >/dev/null; then
  port=$(free_port)
  cat >"$work/nginx.conf" <<CONF
daemon off; master_process off; worker_processes 1; pid $work/nginx.pid; error_log $work/nginx-error.log;
events { worker_connections 1024; }
http { access_log off; client_body_temp_path $work; proxy_temp_path $work; fastcgi_temp_path $work;
  uwsgi_temp_path $work; scgi_temp_path $work;
  server { listen 127.0.0.1:$port; location / { return 200; } } }
CONF
  n=$(per_request "http://127.0.0.1:$port/" nginx -c "$work/nginx.conf" -p "$work/")
  echo "| nginx 1 worker, access_log off | / (return 200) | $n |"
fi
