#!/usr/bin/env bash
# Entrypoint of the local postgres stand-in: first start creates the cluster from POSTGRES_USER /
# POSTGRES_PASSWORD / POSTGRES_DB (like the official image), then PostgreSQL runs as user postgres.
set -euo pipefail

if [[ ${1:-} == -* ]]; then set -- postgres "$@"; fi
if [[ ${1:-} != postgres ]]; then exec "$@"; fi

run=()
if [[ $(id -u) -eq 0 ]]; then
  mkdir -p "$PGDATA"
  chown postgres:postgres "$PGDATA"
  chmod 700 "$PGDATA"
  run=(setpriv --reuid=postgres --regid=postgres --init-groups)
fi

user=${POSTGRES_USER:-postgres}
db=${POSTGRES_DB:-$user}
auth=${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}

if [[ ! -s $PGDATA/PG_VERSION ]]; then
  if [[ -z ${POSTGRES_PASSWORD:-} && $auth != trust ]]; then
    echo 'error: POSTGRES_PASSWORD is not set (or set POSTGRES_HOST_AUTH_METHOD=trust)' >&2
    exit 1
  fi
  pwfile=$(mktemp)
  printf '%s\n' "${POSTGRES_PASSWORD:-}" >"$pwfile"
  chmod 644 "$pwfile"
  "${run[@]}" initdb --username="$user" --pwfile="$pwfile" --auth-local=trust \
    --auth-host="$auth" --encoding=UTF8 --locale=C.UTF-8 -D "$PGDATA"
  rm -f "$pwfile"
  printf 'host all all all %s\n' "$auth" >>"$PGDATA/pg_hba.conf"
  printf "listen_addresses = '*'\n" >>"$PGDATA/postgresql.auto.conf"
  if [[ $db != postgres ]]; then
    # A server on the Unix socket only, so no client sees it ready before the database exists.
    "${run[@]}" pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start
    "${run[@]}" psql -v ON_ERROR_STOP=1 -v db="$db" --username="$user" --dbname=postgres \
      <<<'CREATE DATABASE :"db";'
    "${run[@]}" pg_ctl -D "$PGDATA" -m fast -w stop
  fi
fi

# PostgreSQL's answer to SIGTERM is a "smart" shutdown that waits for every client; turn SIGTERM (and
# SIGINT, Docker's stop signal here) into the "fast" one so a stop ends promptly and cleanly.
"${run[@]}" "$@" &
child=$!
trap 'kill -INT "$child" 2>/dev/null || true' TERM INT
status=0
while kill -0 "$child" 2>/dev/null; do
  wait "$child" && status=0 || status=$?
done
exit "$status"
