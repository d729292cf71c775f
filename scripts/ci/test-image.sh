#!/usr/bin/env bash
# Test job: checks the very image the build job saved (run load-image.sh
# first) the way it runs in production: read-only root filesystem, no
# capabilities, as uid 10001. /__version__ must serve the version.json that
# was written from CircleCI's variables, the OCI labels must carry the same
# values, and `docker stop` must end it cleanly.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ci_read_image_env
image=$ci_image_id
docker image inspect "$image" >/dev/null 2>&1 ||
  ci_die "image $ci_image_id is not loaded: run scripts/ci/load-image.sh first"

failures=0
check() { # check DESCRIPTION ACTUAL EXPECTED
  if [[ $2 == "$3" ]]; then
    ci_log "ok: $1"
  else
    printf '%s: FAIL: %s: got "%s", expected "%s"\n' "${0##*/}" "$1" "$2" "$3" >&2
    failures=$((failures + 1))
  fi
}
label() { docker image inspect --format "{{ index .Config.Labels \"$1\" }}" "$image"; }

check "configured user" "$(docker image inspect --format '{{.Config.User}}' "$image")" "10001:10001"
check "label org.opencontainers.image.source" "$(label org.opencontainers.image.source)" "$ci_image_source"
check "label org.opencontainers.image.revision" "$(label org.opencontainers.image.revision)" "$ci_image_commit"
check "label org.opencontainers.image.version" "$(label org.opencontainers.image.version)" "$ci_image_version"
check "label org.opencontainers.image.created" "$(label org.opencontainers.image.created)" "$ci_image_created"

name=dockerflow-ci-test-$$
cleanup() { docker rm --force "$name" >/dev/null 2>&1 || true; }
trap cleanup EXIT
docker run --detach --name "$name" --read-only --cap-drop ALL \
  --security-opt no-new-privileges --publish 127.0.0.1::8000 "$image" >/dev/null
port=$(docker port "$name" 8000/tcp | head -n 1)
port=${port##*:}
base=http://127.0.0.1:$port

status() { curl --silent --max-time 5 --output /dev/null --write-out '%{http_code}' "$base$1" || true; }
for ((i = 0; i < 60; i++)); do
  [[ $(status /__lbheartbeat__) == 200 ]] && break
  [[ $(docker inspect --format '{{.State.Running}}' "$name") == true ]] || break
  sleep 0.5
done
if [[ $(status /__lbheartbeat__) != 200 ]]; then
  docker logs "$name" >&2 || true
  ci_die "the container did not answer /__lbheartbeat__ with 200 within 30 s"
fi

check "GET /__lbheartbeat__" "$(status /__lbheartbeat__)" 200
check "GET /__heartbeat__ without dependencies" "$(status /__heartbeat__)" 200
body=$(mktemp)
trap 'cleanup; rm -f "$body"' EXIT
check "GET /__version__" "$(curl --silent --max-time 5 --output "$body" --write-out '%{http_code} %{content_type}' "$base/__version__")" "200 application/json"
if cmp --silent "$body" "$ci_workspace/version.json"; then
  ci_log "ok: /__version__ serves the workspace's version.json"
else
  printf '%s: FAIL: /__version__ differs from %s:\n' "${0##*/}" "$ci_workspace/version.json" >&2
  diff "$ci_workspace/version.json" "$body" >&2 || true
  failures=$((failures + 1))
fi
check "uid of the service process" "$(docker top "$name" -o pid,uid | awk 'NR > 1 { print $2 }' | sort -u)" 10001

started=$SECONDS
docker stop --time 10 "$name" >/dev/null
check "exit code after docker stop" "$(docker inspect --format '{{.State.ExitCode}}' "$name")" 0
((SECONDS - started < 10)) || check "docker stop duration" "$((SECONDS - started)) s" "under 10 s"

((failures == 0)) || ci_die "$failures check(s) failed on $ci_image_ref"
ci_log "image $ci_image_ref ($ci_image_id) passed"
