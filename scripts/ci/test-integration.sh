#!/usr/bin/env bash
# Test job: the integration tier (ctest -L integration) inside the builder
# stage, which holds the compiled tests. The tier's harness starts its own
# throwaway PostgreSQL and Redis servers, so Debian's postgresql-15 and
# redis-server are installed into the (disposable) test container first.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

builder_image=${DOCKERFLOW_BUILDER_IMAGE:-dockerflow-app:dev-builder}
"$ci_root/scripts/docker/base-images.sh"
docker build --target builder --tag "$builder_image" "$ci_root"

name=dockerflow-ci-integration-$$
trap 'docker rm --force "$name" >/dev/null 2>&1 || true' EXIT
# shellcheck disable=SC2016 # expanded inside the container
docker run --rm --name "$name" --env DEBIAN_FRONTEND=noninteractive "$builder_image" bash -c '
  set -euo pipefail
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends postgresql-15 redis-server >/dev/null
  ctest --test-dir /build -L "^integration\$" --output-on-failure'
ci_log "integration tests passed"
