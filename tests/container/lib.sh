# Shared by the container tests (sourced). Every container, network and volume a test creates carries
# the label dockerflow.ctest or belongs to a compose project named dfct-*, so cleanup.sh finds them.
# shellcheck shell=bash disable=SC2034 # variables are for the sourcing scripts
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
image=${DOCKERFLOW_IMAGE:-dockerflow-app:ctest}
builder_image=${DOCKERFLOW_BUILDER_IMAGE:-dockerflow-app:ctest-builder}
export DOCKERFLOW_IMAGE=$image DOCKERFLOW_BUILDER_IMAGE=$builder_image
test_label=dockerflow.ctest
size_limit_mb=40

info() { printf '%s: %s\n' "${0##*/}" "$*"; }
fail() {
  printf '%s: FAIL: %s\n' "${0##*/}" "$*" >&2
  exit 1
}

# Skip (77) without an engine, except under CI=true, where the tier must run. The setup test is the one
# that tries to install and start an engine (scripts/docker/engine.sh); the others only look.
require_engine() {
  if timeout 20 docker info >/dev/null 2>&1; then return 0; fi
  if [[ ${CI:-} == true ]]; then fail "no Docker engine answers (CI=true: the container tier must run)"; fi
  printf '\n%s\n##  SKIPPED %s: no Docker engine answers "docker info"\n%s\n\n' \
    '####################################################################' "${0##*/}" \
    '####################################################################' >&2
  exit 77
}

require_image() {
  require_engine
  docker image inspect "$image" >/dev/null 2>&1 || fail "image $image is missing: see the container.setup test"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

now() { date +%s.%N; }
elapsed_since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

# http_status URL: the status code, 000 when nothing answers.
http_status() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$1" || true; }

# wait_status URL REGEX SECONDS: polls until the status matches; prints the time it took.
wait_status() {
  local url=$1 want=$2 limit=$3 start code
  start=$(now)
  while :; do
    code=$(http_status "$url")
    if [[ $code =~ ^($want)$ ]]; then
      elapsed_since "$start"
      return 0
    fi
    if awk -v s="$(elapsed_since "$start")" -v l="$limit" 'BEGIN { exit !(s > l) }'; then
      fail "$url answered $code, not $want, for ${limit}s"
    fi
    sleep 0.2
  done
}

# run_app NAME [docker run options...]: starts the image detached, published on a free loopback port;
# sets $port. The container is removed on exit.
run_app() {
  local name=$1
  shift
  docker rm -f "$name" >/dev/null 2>&1 || true
  # shellcheck disable=SC2064 # expand now: one container per test
  trap "docker rm -f '$name' >/dev/null 2>&1 || true" EXIT
  docker run -d --name "$name" --label "$test_label=1" -p 127.0.0.1::8000 "$@" "$image" >/dev/null
  port=$(docker port "$name" 8000/tcp | sed -n 's/^127\.0\.0\.1://p' | head -n 1)
  [[ -n $port ]] || fail "no published port for $name"
  wait_status "http://127.0.0.1:$port/__lbheartbeat__" 200 20 >/dev/null ||
    fail "$name did not answer; logs: $(docker logs "$name" 2>&1 | tail -n 20)"
}

compose_cmd() {
  if command -v docker-compose >/dev/null 2>&1; then echo docker-compose; else echo "docker compose"; fi
}
