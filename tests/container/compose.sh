#!/usr/bin/env bash
# docker-compose.yml with real PostgreSQL and Redis: web resolves db and redis by their service names
# from the runtime image, the heartbeat is 200 with both checks ok; stopping db (then redis) turns it
# into a 5xx within a few seconds, and starting it again brings back the 200.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_image

project=dfct-compose-$$
read -r -a compose <<<"$(compose_cmd)"
compose+=(-f "$root/docker-compose.yml" -p "$project")
export PORT DOCKERFLOW_ENV_FILE=.env.example DOCKERFLOW_PUBLISH_ADDR=127.0.0.1
PORT=$(free_port)
trap '"${compose[@]}" down -v --remove-orphans >/dev/null 2>&1 || true' EXIT
url=http://127.0.0.1:$PORT/__heartbeat__
down_limit_s=5

start=$(now)
"${compose[@]}" up -d --no-build
took=$(wait_status "$url" 200 90)
info "stack up, heartbeat 200 after $(elapsed_since "$start")s (web answered ${took}s after up returned)"

check_body() { # check_body POSTGRES REDIS: both check results in the heartbeat report
  local body
  body=$(curl -s --max-time 5 "$url")
  python3 - "$1" "$2" "$body" <<'PY' || fail "heartbeat report: $body"
import json, sys
report = json.loads(sys.argv[3])
assert report["checks"]["postgres"] == sys.argv[1], report
assert report["checks"]["redis"] == sys.argv[2], report
PY
  info "ok: checks postgres=$1 redis=$2"
}
check_body ok ok

for service in db redis; do
  "${compose[@]}" stop "$service" >/dev/null 2>&1
  took=$(wait_status "$url" '5[0-9][0-9]' "$down_limit_s")
  info "ok: $service stopped -> heartbeat 5xx within ${took}s"
  if [[ $service == db ]]; then check_body error ok; else check_body ok error; fi
  "${compose[@]}" start "$service" >/dev/null 2>&1
  took=$(wait_status "$url" 200 60)
  info "ok: $service started -> heartbeat 200 within ${took}s"
done
check_body ok ok

# The first health probe runs one interval after start: poll rather than read the state once.
web_id=$("${compose[@]}" ps -q web)
for _ in $(seq 1 60); do
  state=$(docker inspect -f '{{.State.Health.Status}} {{.Config.User}}' "$web_id")
  [[ $state == starting* ]] || break
  sleep 0.5
done
[[ $state == "healthy 10001:10001" ]] || fail "web is '$state'"
info "ok: web healthy as 10001:10001"
