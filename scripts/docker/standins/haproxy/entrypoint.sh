#!/usr/bin/env bash
# Entrypoint of the local haproxy stand-in, as the official image's: options alone run haproxy with
# them, and haproxy always runs in master-worker mode (-W) in the foreground (-db), so a configuration
# reload (SIGUSR2) and a soft stop (SIGUSR1) work as with the official image.
set -euo pipefail

if [[ ${1:-} == -* ]]; then set -- haproxy "$@"; fi
if [[ ${1:-} == haproxy ]]; then
  shift
  set -- haproxy -W -db "$@"
fi
exec "$@"
