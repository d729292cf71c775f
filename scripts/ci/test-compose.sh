#!/usr/bin/env bash
# Test job: docker-compose.test.yml, i.e. the unit tier and the tests of the
# external-services label (ctest -L 'unit|external'), against PostgreSQL and
# Redis service containers. The tests service runs the builder stage the build
# job saved (builder.tar, loaded by image id: nothing is built or compiled
# here) with the /app/dockerflow-app of the pushed image mounted over the
# binary the tests start. Its exit status is ctest's. The services are removed
# afterwards, whatever the outcome.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if command -v docker-compose >/dev/null 2>&1; then
  compose=(docker-compose)
elif docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
else
  ci_die "neither docker-compose nor the docker compose plugin is installed"
fi
project=${COMPOSE_PROJECT_NAME:-dockerflow-ci-tests}
compose+=(--file "$ci_root/docker-compose.test.yml" --project-name "$project")

ci_read_image_env
ci_load_builder
bin_dir=$(mktemp -d)
cleanup() {
  "${compose[@]}" down --volumes --remove-orphans >/dev/null 2>&1 || true
  rm -rf "$bin_dir"
}
trap cleanup EXIT
ci_test_binary "$bin_dir"

# Postgres and Redis images (pulled where a registry is reachable).
"$ci_root/scripts/docker/base-images.sh"
# The compose file names the builder image; it is the loaded one, so compose
# has nothing to build.
export DOCKERFLOW_BUILDER_IMAGE=$ci_builder_ref
"${compose[@]}" run --rm --volume "$bin_dir/dockerflow-app:/build/dockerflow-app:ro" tests
ci_log "compose test passed against image $ci_image_id"
