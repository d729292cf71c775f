#!/usr/bin/env bash
# Throwaway PostgreSQL and Redis for development: own data dir, free loopback ports.
# Source it, then call start_local_postgres / start_local_redis; stop_local_services tears down.
# shellcheck disable=SC2034  # the URLs are for the caller
set -euo pipefail

LOCAL_SERVICES_DIR=${LOCAL_SERVICES_DIR:-}
LOCAL_REDIS_PID=""

port_is_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Below the kernel's ephemeral range: a port inside it may be the local end of any outgoing connection
# at any moment, and then the server cannot bind it although nothing listens there.
free_port() {
  local port low=32768 _high
  read -r low _high </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
  local span=$((low > 21000 ? low - 20000 : 10000))
  for _ in $(seq 1 50); do
    port=$((20000 + RANDOM % span))
    if port_is_free "$port"; then echo "$port"; return 0; fi
  done
  echo "local-services: no free port found" >&2
  return 1
}

services_dir() {
  if [ -z "$LOCAL_SERVICES_DIR" ]; then
    LOCAL_SERVICES_DIR=$(mktemp -d /tmp/dockerflow-services.XXXXXX)
    chmod 755 "$LOCAL_SERVICES_DIR"
  fi
}

# PostgreSQL refuses to run as root: run its tools as the postgres user then.
as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_local_postgres() {
  services_dir
  local bin port data="$LOCAL_SERVICES_DIR/postgres"
  bin=$(find /usr/lib/postgresql -maxdepth 2 -name bin -type d | sort -V | tail -n 1)
  [ -x "$bin/initdb" ] || { echo "local-services: PostgreSQL server binaries not found (apt-get install postgresql)" >&2; return 1; }
  port=$(free_port)
  mkdir -p "$data"
  [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$data"
  as_postgres "$bin/initdb" -D "$data" -A trust -U postgres >"$LOCAL_SERVICES_DIR/initdb.log" 2>&1
  as_postgres "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w -t 30 \
    -o "-p $port -k $data -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
  LOCAL_PG_CTL="$bin/pg_ctl"
  DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
  echo "local-services: PostgreSQL on 127.0.0.1:$port (data in $data)"
}

start_local_redis() {
  services_dir
  local port
  port=$(free_port)
  redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$LOCAL_SERVICES_DIR" \
    --logfile "$LOCAL_SERVICES_DIR/redis.log" &
  LOCAL_REDIS_PID=$!
  for _ in $(seq 1 100); do
    redis-cli -p "$port" ping >/dev/null 2>&1 && break
    sleep 0.05
  done
  redis-cli -p "$port" ping >/dev/null 2>&1 ||
    { echo "local-services: Redis did not start on port $port: $(tail -n 1 "$LOCAL_SERVICES_DIR/redis.log" 2>/dev/null)" >&2; return 1; }
  REDIS_URL="redis://127.0.0.1:$port/0"
  echo "local-services: Redis on 127.0.0.1:$port"
}

stop_local_services() {
  if [ -n "${LOCAL_PG_CTL:-}" ]; then
    as_postgres "$LOCAL_PG_CTL" -D "$LOCAL_SERVICES_DIR/postgres" -m fast -w stop >/dev/null 2>&1 || true
  fi
  if [ -n "$LOCAL_REDIS_PID" ]; then
    kill "$LOCAL_REDIS_PID" 2>/dev/null || true
    wait "$LOCAL_REDIS_PID" 2>/dev/null || true
  fi
  if [ -n "$LOCAL_SERVICES_DIR" ]; then rm -rf "$LOCAL_SERVICES_DIR"; fi
}
