#!/usr/bin/env bash
# Fixture setup: a Docker engine (installed and started when possible), the base images, and the
# images under test (built by the same script as `make docker-build`).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

start=$(now)
"$root/scripts/docker/build.sh" || exit $? # 77 when no engine can be had outside CI
info "images $image and $builder_image built in $(elapsed_since "$start")s"
