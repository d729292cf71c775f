#!/usr/bin/env bash
# Pushes the tested image from the workspace to $DOCKERHUB_REPO.
#
#   main branch, no tag  -> latest and sha-<commit>
#   tag build            -> <tag> and sha-<commit>
#   any other branch     -> nothing (says so and succeeds)
#
# Everything is validated before the first push; a failure names the variable
# at fault. DOCKER_PASS reaches docker only through standard input and is
# never printed. CI_DRY_RUN=1 stops after validation and prints what would be
# pushed.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ci_require_vars CIRCLE_SHA1
ci_check_commit
git_tag=${CIRCLE_TAG-}
branch=${CIRCLE_BRANCH-}

if [[ -n $git_tag ]]; then
  ci_is_docker_tag "$git_tag" ||
    ci_die "CIRCLE_TAG=\"$git_tag\" is not a valid docker tag (1-128 characters of A-Z a-z 0-9 _ . -, not starting with . or -)"
  [[ $git_tag != latest && $git_tag != sha-* ]] ||
    ci_die "CIRCLE_TAG=\"$git_tag\" collides with the tags this pipeline manages (latest, sha-<commit>)"
  tags=("sha-$CIRCLE_SHA1" "$git_tag")
elif [[ $branch == main ]]; then
  tags=("sha-$CIRCLE_SHA1" latest)
else
  ci_log "CIRCLE_BRANCH=\"$branch\" and no CIRCLE_TAG: nothing pushed (only main and tag builds push)"
  exit 0
fi

ci_require_vars DOCKERHUB_REPO DOCKER_USER DOCKER_PASS
ci_is_docker_repo "$DOCKERHUB_REPO" ||
  ci_die "invalid DOCKERHUB_REPO=\"$DOCKERHUB_REPO\": expected [registry-host[:port]/]name[/name...] in lowercase, without tag"
registry=$(ci_registry_host "$DOCKERHUB_REPO")
refs=()
for tag in "${tags[@]}"; do
  refs+=("$DOCKERHUB_REPO:$tag")
done

if [[ ${CI_DRY_RUN-} == 1 ]]; then
  for ref in "${refs[@]}"; do
    printf 'would push %s\n' "$ref"
  done
  exit 0
fi

ci_read_image_env
[[ $ci_image_commit == "$CIRCLE_SHA1" ]] ||
  ci_die "the workspace image was built from commit $ci_image_commit, not CIRCLE_SHA1=$CIRCLE_SHA1"
[[ $ci_image_version == "$git_tag" ]] ||
  ci_die "the workspace image carries version \"$ci_image_version\", not CIRCLE_TAG=\"$git_tag\""
"$(dirname "${BASH_SOURCE[0]}")/load-image.sh"

# Never let the password reach a log, even inside an error message.
redact() {
  local text
  text=$(cat)
  printf '%s\n' "${text//"$DOCKER_PASS"/"[redacted]"}"
}

login_log=$(mktemp)
logged_in=0
cleanup() {
  rm -f "$login_log"
  if ((logged_in)); then
    docker logout ${registry:+"$registry"} >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

if ! printf '%s' "$DOCKER_PASS" |
  docker login --username "$DOCKER_USER" --password-stdin ${registry:+"$registry"} >"$login_log" 2>&1; then
  redact <"$login_log" >&2
  ci_die "docker login to ${registry:-Docker Hub} failed for DOCKER_USER=\"$DOCKER_USER\": check DOCKER_USER and DOCKER_PASS; nothing pushed"
fi
logged_in=1
ci_log "logged in to ${registry:-Docker Hub} as $DOCKER_USER"

# The commit tag goes first, so a moving tag never names an image that has
# no commit tag.
for ref in "${refs[@]}"; do
  docker tag "$ci_image_id" "$ref"
  docker push "$ref"
  ci_log "pushed $ref"
done
