#!/usr/bin/env bash
# Loads the image that the build job saved into the workspace and checks that
# it is byte for byte the image that was built (same image id), so that the
# test and push jobs work on the built image and never on a rebuild.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ci_read_image_env
archive=$ci_workspace/image.tar
[[ -f $archive ]] || ci_die "$archive not found: run scripts/ci/build-image.sh first (or attach the workspace)"

docker load --input "$archive"
loaded_id=$(docker image inspect --format '{{.Id}}' "$ci_image_ref") ||
  ci_die "$archive did not provide $ci_image_ref"
[[ $loaded_id == "$ci_image_id" ]] ||
  ci_die "$ci_image_ref loaded as $loaded_id but the build produced $ci_image_id"
ci_log "loaded $ci_image_ref ($ci_image_id, commit $ci_image_commit)"
