#!/usr/bin/env bash
# `docker stop` (SIGTERM to the binary as PID 1, SIGKILL after Docker's 10 s) ends the container with
# exit code 0 well within the timeout: the server handles SIGTERM itself, nothing is killed.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_image

limit_s=5
name=dfct-stop-$$
run_app "$name" --read-only --cap-drop ALL
# An open keep-alive connection must not hold the shutdown up.
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'GET /__lbheartbeat__ HTTP/1.1\r\nHost: x\r\n\r\n' >&3

start=$(now)
docker stop "$name" >/dev/null
took=$(elapsed_since "$start")
exec 3>&-
state=$(docker inspect -f '{{.State.ExitCode}} {{.State.OOMKilled}} {{.State.Running}}' "$name")
info "docker stop took ${took}s; ExitCode OOMKilled Running = $state"
[[ $state == "0 false false" ]] || fail "expected exit code 0, not OOM-killed: $state; logs: $(docker logs "$name" 2>&1 | tail -n 5)"
awk -v t="$took" -v l="$limit_s" 'BEGIN { exit !(t < l) }' || fail "docker stop took ${took}s (limit ${limit_s}s)"
info "ok: stopped cleanly in ${took}s (< ${limit_s}s, Docker kills at 10s)"
