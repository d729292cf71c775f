#!/usr/bin/env bash
# Test job: the integration tier (ctest -L integration) against the binary of
# the image that is pushed. The compiled tests come from the builder stage the
# build job saved (builder.tar in the workspace, loaded by image id); the
# service binary they start, /build/dockerflow-app, is replaced by the
# /app/dockerflow-app extracted from the loaded image (by its id, checked
# against the sha256 the build recorded). Nothing is compiled here. The
# tier's harness starts its own throwaway servers, so the programs it runs
# (the test tiers' packages of scripts/setup.sh: PostgreSQL, Redis, haproxy,
# Prometheus and its blackbox exporter, curl, openssl, python3) are installed
# into the (disposable) test container first.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ci_read_image_env
ci_load_builder
bin_dir=$(mktemp -d)
name=dockerflow-ci-integration-$$
trap 'docker rm --force "$name" >/dev/null 2>&1 || true; rm -rf "$bin_dir"' EXIT
ci_test_binary "$bin_dir"

# shellcheck disable=SC2016 # expanded inside the container
docker run --rm --name "$name" --env DEBIAN_FRONTEND=noninteractive --env "EXPECTED_SHA256=$ci_binary_sha256" \
  --volume "$bin_dir/dockerflow-app:/build/dockerflow-app:ro" "$ci_builder_id" bash -c '
  set -euo pipefail
  [[ $(sha256sum /build/dockerflow-app | cut -d" " -f1) == "$EXPECTED_SHA256" ]] ||
    { echo "/build/dockerflow-app is not the image binary" >&2; exit 1; }
  echo "tests run /build/dockerflow-app = the image binary, sha256:$EXPECTED_SHA256"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends postgresql-15 redis-server haproxy prometheus \
    prometheus-blackbox-exporter curl openssl python3 util-linux >/dev/null
  ctest --test-dir /build -L "^integration\$" --output-on-failure'
ci_log "integration tests passed against image $ci_image_id"
