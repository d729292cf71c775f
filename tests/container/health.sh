#!/usr/bin/env bash
# The image's HEALTHCHECK (the binary's own probe, no curl in the image) turns the container healthy.
# The interval is shortened at run time; the probe itself is the image's.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_image

name=dfct-health-$$
start=$(now)
run_app "$name" --read-only --cap-drop ALL --health-interval 1s --health-start-period 1s \
  --health-retries 2
for ((i = 0; i < 60; i++)); do
  health=$(docker inspect -f '{{.State.Health.Status}}' "$name")
  [[ $health == healthy ]] && break
  sleep 0.5
done
[[ $health == healthy ]] ||
  fail "health is '$health': $(docker inspect -f '{{json .State.Health}}' "$name")"
info "ok: healthy after $(elapsed_since "$start")s; last probe: $(docker inspect -f \
  '{{with index .State.Health.Log 0}}exit {{.ExitCode}}{{end}}' "$name")"

# A frozen server fails the probe (its own 3 s timeout), so the container turns unhealthy; thawed, it
# recovers. So the probe really asks the server.
wait_health() { # wait_health STATUS SECONDS
  local t
  for ((t = 0; t < $2 * 2; t++)); do
    [[ $(docker inspect -f '{{.State.Health.Status}}' "$name") == "$1" ]] && return 0
    sleep 0.5
  done
  fail "not $1 within $2 s: $(docker inspect -f '{{json .State.Health}}' "$name")"
}
pid=$(docker inspect -f '{{.State.Pid}}' "$name")
kill -STOP "$pid"
start=$(now)
wait_health unhealthy 30
info "ok: unhealthy $(elapsed_since "$start")s after SIGSTOP"
kill -CONT "$pid"
start=$(now)
wait_health healthy 30
info "ok: healthy again $(elapsed_since "$start")s after SIGCONT"
