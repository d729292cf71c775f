#!/usr/bin/env bash
# Entrypoint of the local redis stand-in: runs redis-server as user redis, reachable from other
# containers (the official image also turns protected mode off; use a password to protect it).
set -euo pipefail

if [[ ${1:-} == -* || ${1:-} == *.conf ]]; then set -- redis-server "$@"; fi
if [[ ${1:-} != redis-server ]]; then exec "$@"; fi

if [[ " $* " != *protected-mode* ]]; then set -- "$@" --protected-mode no; fi
if [[ $(id -u) -eq 0 ]]; then
  chown -R redis:redis .
  exec setpriv --reuid=redis --regid=redis --init-groups "$@"
fi
exec "$@"
