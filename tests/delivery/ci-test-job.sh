#!/usr/bin/env bash
# The test job's suite steps as CircleCI runs them (only CircleCI's kind of
# environment, the Docker engine, and the checkout):
#   scripts/ci/test-compose.sh      docker-compose.test.yml: unit tier and the
#                                   external-services tests against
#                                   PostgreSQL and Redis service containers
#   scripts/ci/test-integration.sh  the integration tier in the builder stage
# Both must pass and leave no container or network behind.
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
compose_containers() { docker ps -aq --filter "label=com.docker.compose.project=$project" | wc -l; }
trap 'docker ps -aq --filter "label=com.docker.compose.project=$project" | xargs -r docker rm -f >/dev/null 2>&1 || true' EXIT

# step SCRIPT: runs scripts/ci/SCRIPT; output in $out, exit status in $rc.
step() {
  rc=0
  # DOCKER_BUILDKIT=0: the classic builder, as scripts/docker/build.sh and
  # docker-compose use, so the compile layers already built are reused.
  out=$(env -i PATH="$PATH" HOME="$HOME" CI=true CIRCLECI=true DOCKER_BUILDKIT=0 \
    COMPOSE_PROJECT_NAME="$project" "$root/scripts/ci/$1" 2>&1) || rc=$?
  printf -- '--- %s (exit %s), last lines:\n%s\n' "$1" "$rc" "$(tail -n 15 <<<"$out")"
}

step test-compose.sh
assert_eq "test-compose.sh exits 0" "$rc" 0
assert_contains "test-compose.sh: ctest ran in the tests service" "$out" "tests passed, 0 tests failed out of"
assert_contains "test-compose.sh: the external-services test ran" "$out" "external.ExternalServices."
assert_contains "test-compose.sh reports success" "$out" "test-compose.sh: compose test passed"
assert_eq "test-compose.sh: no container of project $project left" "$(compose_containers)" 0
assert_eq "test-compose.sh: no network of project $project left" \
  "$(docker network ls --format '{{.Name}}' | grep -c "^${project}_" || true)" 0

step test-integration.sh
assert_eq "test-integration.sh exits 0" "$rc" 0
assert_contains "test-integration.sh: the integration tier ran" "$out" "integration    ="
assert_contains "test-integration.sh: all of it passed" "$out" "100% tests passed, 0 tests failed out of"
assert_contains "test-integration.sh reports success" "$out" "test-integration.sh: integration tests passed"
assert_eq "test-integration.sh: no test container left" \
  "$(docker ps -aq --filter name=dockerflow-ci-integration- | wc -l)" 0
finish
