#!/usr/bin/env bash
# The test job's suite steps as CircleCI runs them, on the workspace of a
# build job (only CircleCI's kind of environment, the Docker engine, and a
# checkout):
#   scripts/ci/build-image.sh       (the build job: image.tar, builder.tar)
#   scripts/ci/load-image.sh        the test job starts here, on a machine
#                                   without the images
#   scripts/ci/test-compose.sh      docker-compose.test.yml: unit tier and the
#                                   external-services tests against
#                                   PostgreSQL and Redis service containers
#   scripts/ci/test-integration.sh  the integration tier
# Both suites must pass, run the compiled tests of the saved builder stage
# against the binary of the saved image (same sha256 as /app/dockerflow-app
# of the image), build nothing (every docker and docker-compose call is
# logged through wrappers on PATH), and leave no container or network behind.
#
# Usage: ci-test-job.sh <repository root>
set -euo pipefail
root=$(cd "${1:?usage: ci-test-job.sh <repository root>}" && pwd)
# shellcheck source-path=SCRIPTDIR source=testlib.sh
source "$(dirname "${BASH_SOURCE[0]}")/testlib.sh"

engine_rc=0
"$root/scripts/docker/engine.sh" || engine_rc=$?
((engine_rc == 0)) || exit "$engine_rc" # 77 locally without an engine, 1 under CI=true
docker compose version >/dev/null 2>&1 || need_commands docker-compose:docker-compose

project=dlv$$
work=$(mktemp -d /tmp/delivery-test-job.XXXXXX)
image=dockerflow-app:$project-ci
compose_containers() { docker ps -aq --filter "label=com.docker.compose.project=$project" | wc -l; }
cleanup() {
  set +e
  docker ps -aq --filter "label=com.docker.compose.project=$project" | xargs -r docker rm -f >/dev/null 2>&1
  # --no-prune: the builder stage's layers stay as the compile cache.
  docker rmi --no-prune "$image" "$image-builder" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

# A checkout: the build step writes version.json into it, the repository stays clean.
src=$work/src
mkdir -p "$src"
if git -C "$root" rev-parse --git-dir >/dev/null 2>&1; then
  git -C "$root" ls-files -z --cached --others --exclude-standard |
    tar -C "$root" --null --files-from=- --ignore-failed-read -cf - 2>/dev/null | tar -C "$src" -xf -
else
  tar -C "$root" --exclude=./.git --exclude='./build*' --exclude=node_modules -cf - . | tar -C "$src" -xf -
fi

# Wrappers that log every docker and docker-compose call of the test job.
mkdir -p "$work/bin"
calls=$work/calls.log
for tool in docker docker-compose; do
  real=$(command -v "$tool" || true)
  [[ -n $real ]] || continue
  printf '#!/usr/bin/env bash\nprintf "%%s\\n" "%s $*" >>%q\nexec %q "$@"\n' "$tool" "$calls" "$real" >"$work/bin/$tool"
  chmod +x "$work/bin/$tool"
done

commit=$(fake_commit "$project-test-job")
# step SCRIPT: runs scripts/ci/SCRIPT of the checkout; output in $out, exit status in $rc.
step() {
  local start=$SECONDS
  rc=0
  # DOCKER_BUILDKIT=0: the classic builder, as scripts/docker/build.sh and
  # docker-compose use, so the compile layers already built are reused.
  out=$(env -i PATH="$work/bin:$PATH" HOME="$HOME" CI=true CIRCLECI=true DOCKER_BUILDKIT=0 \
    COMPOSE_PROJECT_NAME="$project" CI_WORKSPACE="$work/ws" CI_LOCAL_IMAGE="$image" \
    CIRCLE_SHA1="$commit" CIRCLE_BRANCH=main CIRCLE_PROJECT_USERNAME=example-org \
    CIRCLE_PROJECT_REPONAME=dockerflow-app CIRCLE_BUILD_URL=https://circleci.com/gh/example-org/dockerflow-app/7 \
    "$src/scripts/ci/$1" 2>&1) || rc=$?
  printf -- '--- %s (exit %s, %d s), last lines:\n%s\n' "$1" "$rc" "$((SECONDS - start))" "$(tail -n 15 <<<"$out")"
}
no_build_calls() { # DESCRIPTION: no docker build and no compose build in the calls since the last reset
  local builds
  builds=$(grep -E '^docker (build|buildx|image build|builder)|^(docker-compose|docker compose) (.* )?build( |$)' "$calls" || true)
  assert_eq "$1: builds nothing (no docker build, no compose build)" "$builds" ""
}

# --- the build job, then a "fresh machine" -----------------------------------
step build-image.sh
assert_eq "build-image.sh exits 0" "$rc" 0
((rc == 0)) || { finish; exit 1; }
image_id=$(sed -n 's/^IMAGE_ID=//p' "$work/ws/image.env")
recorded=$(sed -n 's/^BINARY_SHA256=//p' "$work/ws/image.env")
cid=$(docker create "$image_id")
binary_sha256=$(docker cp "$cid:/app/dockerflow-app" - | tar -xOf - | sha256sum | cut -d' ' -f1)
docker rm "$cid" >/dev/null
assert_eq "the workspace records the sha256 of the image's /app/dockerflow-app" "$recorded" "$binary_sha256"
assert_eq "the workspace holds the builder stage" "$(test -s "$work/ws/builder.tar" && echo yes)" yes
docker rmi --no-prune "$image" "$image-builder" >/dev/null

# --- the test job ------------------------------------------------------------
: >"$calls"
step load-image.sh
assert_eq "load-image.sh exits 0" "$rc" 0

step test-compose.sh
assert_eq "test-compose.sh exits 0" "$rc" 0
assert_contains "test-compose.sh: the builder stage came from the workspace" "$out" \
  "builder stage $image-builder ($(sed -n 's/^BUILDER_ID=//p' "$work/ws/image.env")) holds the compiled tests"
assert_contains "test-compose.sh: tests the image's binary" "$out" \
  "testing the binary of image $image_id: /app/dockerflow-app sha256:$binary_sha256"
assert_contains "test-compose.sh: ctest ran in the tests service" "$out" "tests passed, 0 tests failed out of"
assert_contains "test-compose.sh: the external-services test ran" "$out" "external.ExternalServices."
assert_contains "test-compose.sh reports success" "$out" "test-compose.sh: compose test passed against image $image_id"
assert_not_contains "test-compose.sh: compose built nothing" "$out" "Building tests"
assert_eq "test-compose.sh: no container of project $project left" "$(compose_containers)" 0
assert_eq "test-compose.sh: no network of project $project left" \
  "$(docker network ls --format '{{.Name}}' | grep -c "^${project}_" || true)" 0

integration_containers() { docker ps -aq --filter name=dockerflow-ci-integration- | sort; }
before=$(integration_containers)
step test-integration.sh
assert_eq "test-integration.sh exits 0" "$rc" 0
assert_contains "test-integration.sh: the tests start the image's binary" "$out" \
  "tests run /build/dockerflow-app = the image binary, sha256:$binary_sha256"
assert_contains "test-integration.sh: the integration tier ran" "$out" "integration    ="
assert_contains "test-integration.sh: all of it passed" "$out" "100% tests passed, 0 tests failed out of"
assert_contains "test-integration.sh reports success" "$out" "test-integration.sh: integration tests passed against image $image_id"
# Only containers this step started count (another checkout may run the same job meanwhile).
assert_eq "test-integration.sh: no test container left" "$(comm -13 <(printf '%s\n' "$before") <(integration_containers))" ""
no_build_calls "the test job (load-image, test-compose, test-integration)"
assert_contains "the test job's docker calls were logged" "$(cat "$calls")" "docker load"
finish
