#!/usr/bin/env bash
# The image runs hardened (--read-only, --cap-drop ALL, no-new-privileges) as uid/gid 10001 with the
# binary itself as PID 1, and the three Dockerflow endpoints answer through the published port.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_image

name=dfct-run-$$
run_app "$name" --read-only --cap-drop ALL --security-opt no-new-privileges
base=http://127.0.0.1:$port
info "container $name on $base"

[[ $(docker inspect -f '{{.HostConfig.ReadonlyRootfs}} {{.HostConfig.CapDrop}}' "$name") == "true [ALL]" ]] ||
  fail "container is not read-only with all capabilities dropped"

pid=$(docker inspect -f '{{.State.Pid}}' "$name")
status=$(cat "/proc/$pid/status")
[[ $(awk '/^Name:/ { print $2 }' <<<"$status") == dockerflow-app ]] ||
  fail "PID 1 of the container is not dockerflow-app: $(head -n 1 <<<"$status")"
uids=$(awk '/^Uid:/ { print $2, $3, $4, $5 }' <<<"$status")
gids=$(awk '/^Gid:/ { print $2, $3, $4, $5 }' <<<"$status")
[[ $uids == "10001 10001 10001 10001" && $gids == "10001 10001 10001 10001" ]] ||
  fail "process runs as uid [$uids] gid [$gids], expected 10001"
caps=$(awk '/^CapEff:/ { print $2 }' <<<"$status")
[[ $caps =~ ^0+$ ]] || fail "process has effective capabilities $caps"
info "ok: PID 1 is dockerflow-app, uid/gid 10001, no capabilities"

tmp=$(mktemp -d)
trap 'docker rm -f "$name" >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT

code=$(curl -s -o "$tmp/lb" -w '%{http_code}' --max-time 5 "$base/__lbheartbeat__")
[[ $code == 200 && ! -s $tmp/lb ]] || fail "/__lbheartbeat__ gave $code with $(wc -c <"$tmp/lb") bytes"
info "ok: /__lbheartbeat__ 200, empty body"

code=$(curl -s -o "$tmp/version" -D "$tmp/version.h" -w '%{http_code}' --max-time 5 "$base/__version__")
[[ $code == 200 ]] || fail "/__version__ gave $code"
grep -qi '^content-type: application/json' "$tmp/version.h" || fail "/__version__ is not application/json"
cmp "$tmp/version" "$root/version.json" || fail "/__version__ differs from the built version.json"
info "ok: /__version__ 200 application/json, equal to the built version.json"

code=$(curl -s -o "$tmp/heartbeat" -w '%{http_code}' --max-time 5 "$base/__heartbeat__")
[[ $code == 200 ]] || fail "/__heartbeat__ gave $code: $(cat "$tmp/heartbeat")"
python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); assert r["status"] == "ok", r' "$tmp/heartbeat" ||
  fail "/__heartbeat__ body: $(cat "$tmp/heartbeat")"
info "ok: /__heartbeat__ 200 $(cat "$tmp/heartbeat")"

# The service logs mozlog JSON lines, including the requests above, on stdout.
docker logs "$name" 2>/dev/null >"$tmp/log"
grep -q '"Type":"request.summary"' "$tmp/log" || fail "no request.summary in the logs: $(tail -n 5 "$tmp/log")"
info "ok: request.summary lines in docker logs"
