#!/usr/bin/env bash
# `docker stop` (SIGTERM to the binary as PID 1, SIGKILL after Docker's 10 s): the server drains for
# DOCKERFLOW_DRAIN_SECONDS (default 5) with /__lbheartbeat__ answering 503 and other routes still
# served, then exits 0 inside Docker's stop timeout. Nothing is killed.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_image

drain_s=5
limit_s=9
name=dfct-stop-$$
run_app "$name" --read-only --cap-drop ALL
signal=$(docker inspect -f '{{.Config.StopSignal}}' "$name")
[[ $signal == SIGTERM ]] || fail "the image's STOPSIGNAL is '$signal', expected SIGTERM"
# An idle keep-alive connection must not hold the stop up.
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'GET /__lbheartbeat__ HTTP/1.1\r\nHost: x\r\n\r\n' >&3

start=$(now)
docker stop "$name" >/dev/null &
stopper=$!
noticed=$(wait_status "http://127.0.0.1:$port/__lbheartbeat__" 503 3)
info "lbheartbeat answered 503 ${noticed}s after docker stop"
code=$(http_status "http://127.0.0.1:$port/__version__")
[[ $code == 200 ]] || fail "/__version__ answered $code during the drain, expected 200"
wait "$stopper"
took=$(elapsed_since "$start")
exec 3>&-
state=$(docker inspect -f '{{.State.ExitCode}} {{.State.OOMKilled}} {{.State.Running}}' "$name")
info "docker stop took ${took}s; ExitCode OOMKilled Running = $state"
[[ $state == "0 false false" ]] || fail "expected exit code 0, not OOM-killed: $state; logs: $(docker logs "$name" 2>&1 | tail -n 5)"
awk -v t="$took" -v d="$drain_s" -v l="$limit_s" 'BEGIN { exit !(t >= d && t < l) }' ||
  fail "docker stop took ${took}s (expected the ${drain_s}s drain, under ${limit_s}s)"
info "ok: drained ${drain_s}s and stopped cleanly in ${took}s (Docker kills at 10s)"
