#!/usr/bin/env bash
# DOCKERFLOW_THREADS defaults to the CPUs the container may use: `--cpus 1` (a CFS quota) and
# `--cpuset-cpus 0` (an affinity mask) each give one event-loop thread, whatever the host has.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_image

# The log line is written by the app's log thread, so it may reach `docker logs` a moment after the
# port answers: wait for it (up to 5 s) instead of reading once.
threads_of() {
  local threads=""
  for _ in $(seq 1 50); do
    threads=$(docker logs "$1" 2>/dev/null | grep -m1 '"Type":"server.listening"' | sed -n 's/.*"threads":\([0-9]*\).*/\1/p')
    [[ -n $threads ]] && break
    sleep 0.1
  done
  echo "$threads"
}

name=dfct-cpus-$$
for limit in "--cpus 1" "--cpuset-cpus 0"; do
  # shellcheck disable=SC2086 # the option and its value are two words
  run_app "$name" $limit
  threads=$(threads_of "$name")
  [[ $threads == 1 ]] || fail "with $limit the server started '$threads' loop threads, expected 1"
  info "ok: $limit → 1 loop thread (host has $(nproc) CPUs)"
  docker rm -f "$name" >/dev/null
done
run_app "$name" -e DOCKERFLOW_THREADS=3 --cpus 1
threads=$(threads_of "$name")
[[ $threads == 3 ]] || fail "DOCKERFLOW_THREADS=3 gave '$threads' threads"
info "ok: DOCKERFLOW_THREADS=3 overrides the default"
