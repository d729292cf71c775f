#!/usr/bin/env bash
# make docker-test: builds the images, then runs the test suite in the builder image against the db
# and redis services of docker-compose.test.yml; exits with the suite's status and removes the stack.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

"$here/build.sh"
cd "$root"
if command -v docker-compose >/dev/null 2>&1; then compose=(docker-compose); else compose=(docker compose); fi
compose+=(-f docker-compose.test.yml -p "${COMPOSE_PROJECT_NAME:-dockerflow-test}")
trap '"${compose[@]}" down -v --remove-orphans >/dev/null 2>&1 || true' EXIT
"${compose[@]}" run --rm tests
