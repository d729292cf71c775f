#!/usr/bin/env bash
# Builds the service image (make docker-build): a Docker engine and the base images first, then the
# builder stage (also used by docker-compose.test.yml and docker-compose.dev.yml) and the runtime image
# with OCI labels taken from version.json. Prints the image size.
#
# Environment: DOCKERFLOW_IMAGE (dockerflow-app:dev), DOCKERFLOW_BUILDER_IMAGE (dockerflow-app:dev-builder),
# BASE_IMAGE, POSTGRES_IMAGE, REDIS_IMAGE (see base-images.sh).
# Exit 77: no Docker engine and CI is not "true" (see engine.sh).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
image=${DOCKERFLOW_IMAGE:-dockerflow-app:dev}
builder_image=${DOCKERFLOW_BUILDER_IMAGE:-dockerflow-app:dev-builder}

"$here/base-images.sh" # runs engine.sh first

field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$root/version.json" "$1"; }

# The classic builder shares its layer cache with docker-compose 1.x, which builds the same stages.
export DOCKER_BUILDKIT=0
base=(--build-arg "BASE_IMAGE=${BASE_IMAGE:-debian:bookworm}")
docker build --force-rm "${base[@]}" --target builder -t "$builder_image" "$root"
docker build --force-rm "${base[@]}" -t "$image" \
  --build-arg "SOURCE_URL=$(field source)" \
  --build-arg "VERSION=$(field version)" \
  --build-arg "COMMIT=$(field commit)" \
  --build-arg "CREATED=$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
  "$root"

size=$(docker image inspect -f '{{.Size}}' "$image")
printf 'image %s: %s bytes = %s MB\n' "$image" "$size" "$(awk -v s="$size" 'BEGIN { printf "%.1f", s / 1e6 }')"
