#!/usr/bin/env bash
# Pushes the tested image from the workspace to $DOCKERHUB_REPO.
#
#   main branch, no tag  -> sha-<commit>, then latest
#   tag build            -> <tag> only (its image differs from main's build of
#                           the same commit: version.json and labels)
#   any other branch     -> nothing (says so and succeeds)
#
# Immutable tags: sha-<commit> and a git tag's name never point at other
# bytes once pushed. Before pushing one, the registry is asked what it holds:
# nothing -> push; this very image (same image id, i.e. config digest) -> not
# pushed again; another image -> fail, naming both digests, nothing pushed.
# After the push the tag is read back and must be this image.
#
# latest only moves forward along the git history: it is pushed when the
# commit it points at (the org.opencontainers.image.revision label of the
# image there) is an ancestor of CIRCLE_SHA1, is CIRCLE_SHA1, or latest does
# not exist yet. When CIRCLE_SHA1 is an ancestor of that commit (an older
# build finishing late), latest stays and the push succeeds. A commit that is
# neither (history rewritten, latest pushed by hand) fails, naming both. The
# CircleCI push job is also a serial group, so two pushes never interleave.
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
  tags=("$git_tag")
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

command -v jq >/dev/null 2>&1 || ci_die "jq is not installed: it reads the registry's manifests"
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

# Docker treats registries on the loopback as plain-HTTP ones; its manifest
# command has to be told.
manifest_opts=()
case $registry in
  localhost | localhost:* | 127.* | '[::1]'*) manifest_opts=(--insecure) ;;
esac

# remote_image REF: prints "<manifest digest> <image id>" of what REF names
# in the registry, nothing when REF does not exist; fails on any other answer
# (a tag that cannot be checked is never pushed).
remote_image() {
  local out
  if ! out=$(docker manifest inspect "${manifest_opts[@]}" --verbose "$1" 2>&1); then
    if [[ $out == *"no such manifest"* || $out == *"manifest unknown"* ]]; then return 0; fi
    ci_die "cannot read $1 from the registry ($out); nothing more pushed"
  fi
  jq -er 'if type == "object" then "\(.Descriptor.digest) \((.SchemaV2Manifest // .OCIManifest).config.digest)"
          else error("a manifest list") end' <<<"$out" 2>/dev/null ||
    ci_die "$1 is not a single-image manifest in the registry; nothing more pushed"
}

push_ref() {
  docker tag "$ci_image_id" "$1"
  docker push "$1"
}

# push_immutable REF
push_immutable() {
  local ref=$1 held manifest image
  held=$(remote_image "$ref")
  if [[ -n $held ]]; then
    read -r manifest image <<<"$held"
    if [[ $image == "$ci_image_id" ]]; then
      ci_log "$ref already holds this image ($ci_image_id, manifest $manifest): not pushed again"
      return 0
    fi
    ci_die "$ref already exists in the registry as image $image (manifest $manifest), this build is image $ci_image_id: an immutable tag never moves to other bytes; nothing pushed"
  fi
  push_ref "$ref"
  held=$(remote_image "$ref")
  [[ ${held#* } == "$ci_image_id" ]] ||
    ci_die "$ref was pushed as $ci_image_id but the registry now holds image ${held#* } (manifest ${held%% *}): pushed concurrently by another build?"
  ci_log "pushed $ref (immutable, manifest ${held%% *})"
}

git_() { git -C "$ci_root" "$@"; }

# push_latest REF: pushes unless the image latest names was built from a newer commit.
push_latest() {
  local ref=$1 held manifest image revision label=org.opencontainers.image.revision
  held=$(remote_image "$ref")
  if [[ -z $held ]]; then
    push_ref "$ref"
    ci_log "pushed $ref (first latest)"
    return 0
  fi
  read -r manifest image <<<"$held"
  if [[ $image == "$ci_image_id" ]]; then
    ci_log "$ref already is this image ($ci_image_id): not pushed again"
    return 0
  fi
  # The label is in the image configuration: pull exactly the manifest just read.
  docker pull --quiet "$DOCKERHUB_REPO@$manifest" >/dev/null ||
    ci_die "cannot pull $DOCKERHUB_REPO@$manifest to read which commit latest is; latest not moved"
  revision=$(docker image inspect --format "{{ index .Config.Labels \"$label\" }}" "$DOCKERHUB_REPO@$manifest")
  docker rmi "$DOCKERHUB_REPO@$manifest" >/dev/null 2>&1 || true
  [[ $revision =~ ^([0-9a-f]{40}|[0-9a-f]{64})$ ]] ||
    ci_die "$ref ($manifest) has no commit in its $label label (\"$revision\"): not pushed by this pipeline; latest not moved"
  if [[ $revision != "$CIRCLE_SHA1" ]]; then
    git_ rev-parse --git-dir >/dev/null 2>&1 ||
      ci_die "the checkout $ci_root has no git history: cannot tell whether $CIRCLE_SHA1 is newer than latest ($revision); latest not moved"
    # A commit pushed after this build's checkout is not known yet: fetch it.
    if [[ $(git_ rev-parse --is-shallow-repository) == true ]]; then
      timeout 300 git -C "$ci_root" fetch --quiet --unshallow origin || true
    fi
    if ! git_ cat-file -e "$revision^{commit}" 2>/dev/null; then
      timeout 300 git -C "$ci_root" fetch --quiet origin || true
    fi
    git_ cat-file -e "$revision^{commit}" 2>/dev/null ||
      ci_die "latest is commit $revision, which is not in the history of origin: cannot order it against $CIRCLE_SHA1; latest not moved"
    if git_ merge-base --is-ancestor "$CIRCLE_SHA1" "$revision"; then
      ci_log "latest stays at commit $revision (manifest $manifest): $CIRCLE_SHA1 is older (an ancestor of it)"
      return 0
    fi
    git_ merge-base --is-ancestor "$revision" "$CIRCLE_SHA1" ||
      ci_die "latest is commit $revision, neither an ancestor nor a descendant of $CIRCLE_SHA1 (history rewritten?); latest not moved"
  fi
  push_ref "$ref"
  ci_log "pushed $ref (moved from commit $revision to $CIRCLE_SHA1)"
}

# The commit tag goes first, so a moving tag never names an image that has
# no commit tag, and a conflict stops before latest moves.
for ref in "${refs[@]}"; do
  if [[ $ref == *:latest ]]; then push_latest "$ref"; else push_immutable "$ref"; fi
done
