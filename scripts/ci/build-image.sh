#!/usr/bin/env bash
# Build job: writes version.json from CircleCI's variables, builds the image
# with the same values as OCI label build arguments, and saves the image into
# the workspace ($CI_WORKSPACE, default /tmp/workspace) so that the test and
# push jobs use this very image:
#   image.tar     docker save of the image
#   builder.tar   docker save of its builder stage: the compiled unit and
#                 integration tests, which the test job runs against the
#                 image's own binary instead of compiling them again
#   image.env     IMAGE_REF, IMAGE_ID, COMMIT, VERSION, SOURCE_URL, BUILD_URL,
#                 CREATED, BUILDER_REF, BUILDER_ID, BINARY_SHA256
#   version.json  the file baked into the image
# Note: overwrites version.json at the repository root, as the Dockerfile
# copies it from the build context.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ci_require_vars CIRCLE_SHA1 CIRCLE_PROJECT_USERNAME CIRCLE_PROJECT_REPONAME CIRCLE_BUILD_URL
ci_check_commit
# image.env holds one value per line.
for name in CIRCLE_TAG CIRCLE_BUILD_URL CIRCLE_PROJECT_USERNAME CIRCLE_PROJECT_REPONAME; do
  [[ ${!name-} != *$'\n'* ]] || ci_die "$name holds a newline"
done

source_url="https://github.com/$CIRCLE_PROJECT_USERNAME/$CIRCLE_PROJECT_REPONAME"
version=${CIRCLE_TAG-}
created=$(date -u +%Y-%m-%dT%H:%M:%SZ)

VERSION_JSON_FILE="$ci_root/version.json" "$ci_root/scripts/ci/write-version-json.sh"

# Makes sure an engine runs and the base images exist (pulled where a
# registry is reachable, created locally otherwise).
"$ci_root/scripts/docker/base-images.sh"

# The builder stage first, under its own name; the image build below then
# reuses it from the layer cache.
ci_log "building $ci_builder_image (builder stage)"
docker build --target builder --tag "$ci_builder_image" "$ci_root"
ci_log "building $ci_local_image"
docker build \
  --build-arg "SOURCE_URL=$source_url" \
  --build-arg "VERSION=$version" \
  --build-arg "COMMIT=$CIRCLE_SHA1" \
  --build-arg "CREATED=$created" \
  --tag "$ci_local_image" \
  "$ci_root"
image_id=$(docker image inspect --format '{{.Id}}' "$ci_local_image")
builder_id=$(docker image inspect --format '{{.Id}}' "$ci_builder_image")

# The image's binary must be the one the saved builder stage built (its
# /rootfs is what the runtime stage copies); a source tree that changed
# between the two builds would break that.
binary_sha256=$(ci_file_sha256 "$image_id" /app/dockerflow-app) || ci_die "cannot read /app/dockerflow-app from $image_id"
builder_binary_sha256=$(ci_file_sha256 "$builder_id" /rootfs/app/dockerflow-app) ||
  ci_die "cannot read /rootfs/app/dockerflow-app from $builder_id"
[[ $binary_sha256 == "$builder_binary_sha256" ]] ||
  ci_die "$ci_local_image's binary ($binary_sha256) is not the one of $ci_builder_image ($builder_binary_sha256): did the sources change during the build?"

mkdir -p "$ci_workspace"
ci_log "saving $ci_local_image ($image_id) to $ci_workspace/image.tar"
docker save --output "$ci_workspace/image.tar.part" "$ci_local_image"
mv -f "$ci_workspace/image.tar.part" "$ci_workspace/image.tar"
ci_log "saving $ci_builder_image ($builder_id) to $ci_workspace/builder.tar"
docker save --output "$ci_workspace/builder.tar.part" "$ci_builder_image"
mv -f "$ci_workspace/builder.tar.part" "$ci_workspace/builder.tar"
cp "$ci_root/version.json" "$ci_workspace/version.json"
cat >"$ci_workspace/image.env" <<ENV
IMAGE_REF=$ci_local_image
IMAGE_ID=$image_id
COMMIT=$CIRCLE_SHA1
VERSION=$version
SOURCE_URL=$source_url
BUILD_URL=$CIRCLE_BUILD_URL
CREATED=$created
BUILDER_REF=$ci_builder_image
BUILDER_ID=$builder_id
BINARY_SHA256=$binary_sha256
ENV
ci_log "workspace ready in $ci_workspace"
