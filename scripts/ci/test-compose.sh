#!/usr/bin/env bash
# Test job: docker-compose.test.yml, i.e. the unit tier and the tests of the
# external-services label (ctest -L 'unit|external') inside the builder
# stage, against PostgreSQL and Redis service containers. Its exit status is
# ctest's. The services are removed afterwards, whatever the outcome.
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

cleanup() { "${compose[@]}" down --volumes --remove-orphans >/dev/null 2>&1 || true; }
trap cleanup EXIT

# Postgres and Redis images (pulled where a registry is reachable).
"$ci_root/scripts/docker/base-images.sh"
"${compose[@]}" build tests
"${compose[@]}" run --rm tests
ci_log "compose test passed"
