# shellcheck shell=bash
# shellcheck disable=SC2034 # the variables set here are read by the scripts that source this file
# Helpers shared by the CI step scripts. Sourced, never executed.
#
# Every step takes its inputs from the environment variables CircleCI sets
# (CIRCLE_SHA1, CIRCLE_TAG, CIRCLE_BRANCH, CIRCLE_PROJECT_USERNAME,
# CIRCLE_PROJECT_REPONAME, CIRCLE_BUILD_URL) and from the project settings
# (DOCKER_USER, DOCKER_PASS, DOCKERHUB_REPO), plus two optional ones:
#   CI_WORKSPACE    directory shared between jobs (default /tmp/workspace)
#   CI_LOCAL_IMAGE  local name of the built image (default dockerflow-app:ci); its builder stage,
#                   which holds the compiled tests, is "$CI_LOCAL_IMAGE-builder"

ci_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ci_workspace=${CI_WORKSPACE:-/tmp/workspace}
ci_local_image=${CI_LOCAL_IMAGE:-dockerflow-app:ci}
ci_builder_image=$ci_local_image-builder

ci_log() { printf '%s: %s\n' "${0##*/}" "$*"; }
ci_die() {
  printf '%s: error: %s\n' "${0##*/}" "$*" >&2
  exit 1
}

# Fails naming every variable in "$@" that is unset or empty.
ci_require_vars() {
  local missing=() name
  for name in "$@"; do
    [[ -n ${!name-} ]] || missing+=("$name")
  done
  if ((${#missing[@]} == 1)); then
    ci_die "required variable ${missing[0]} is not set"
  elif ((${#missing[@]} > 1)); then
    ci_die "required variables are not set: ${missing[*]}"
  fi
}

# A git commit id as CircleCI gives it: SHA-1 (40) or SHA-256 (64) lowercase hex.
ci_check_commit() {
  [[ $CIRCLE_SHA1 =~ ^([0-9a-f]{40}|[0-9a-f]{64})$ ]] ||
    ci_die "invalid CIRCLE_SHA1=\"$CIRCLE_SHA1\": expected a 40 or 64 digit lowercase hex commit id"
}

# Docker's tag grammar: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}.
ci_is_docker_tag() { [[ $1 =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]]; }

# Docker's repository grammar without tag or digest: optional registry host
# (a first component holding '.' or ':' or equal to localhost) then lowercase
# path components separated by '/'.
ci_is_docker_repo() {
  local repo=$1 path=$1 host
  local component='[a-z0-9]+(([._]|__|-+)[a-z0-9]+)*'
  ((${#repo} <= 255)) || return 1
  if [[ $repo == */* ]]; then
    host=${repo%%/*}
    if [[ $host == *.* || $host == *:* || $host == localhost ]]; then
      [[ $host =~ ^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,5})?$ ]] || return 1
      path=${repo#*/}
    fi
  fi
  [[ $path =~ ^${component}(/${component})*$ ]]
}

# The registry host a repository lives on, empty for Docker Hub.
ci_registry_host() {
  local host=${1%%/*}
  if [[ $1 == */* && ($host == *.* || $host == *:* || $host == localhost) ]]; then
    printf '%s' "$host"
  fi
}

# Prints "$1" as a JSON string literal (RFC 8259 escaping). Fails on bytes
# that are not UTF-8, naming the variable given as "$2".
ci_json_string() {
  local s=$1 name=${2:-value} i char
  if ! printf '%s' "$s" | iconv -f UTF-8 -t UTF-8 >/dev/null 2>&1; then
    ci_die "$name is not valid UTF-8"
  fi
  local LC_ALL=C
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\b'/\\b}
  s=${s//$'\f'/\\f}
  s=${s//$'\n'/\\n}
  s=${s//$'\r'/\\r}
  s=${s//$'\t'/\\t}
  for ((i = 1; i < 32; i++)); do
    printf -v char '%b' "\\x$(printf '%02x' "$i")"
    [[ $s == *"$char"* ]] || continue
    s=${s//"$char"/$(printf '\\u%04x' "$i")}
  done
  printf '"%s"' "$s"
}

# Reads KEY=value lines of the workspace's image.env into ci_image_* variables.
ci_read_image_env() {
  local file=$ci_workspace/image.env key value
  [[ -f $file ]] || ci_die "$file not found: run scripts/ci/build-image.sh first (or attach the workspace)"
  ci_image_ref='' ci_image_id='' ci_image_commit='' ci_image_version=''
  ci_image_source='' ci_image_build='' ci_image_created=''
  ci_builder_ref='' ci_builder_id='' ci_binary_sha256=''
  while IFS='=' read -r key value; do
    case $key in
      BUILDER_REF) ci_builder_ref=$value ;;
      BUILDER_ID) ci_builder_id=$value ;;
      BINARY_SHA256) ci_binary_sha256=$value ;;
      IMAGE_REF) ci_image_ref=$value ;;
      IMAGE_ID) ci_image_id=$value ;;
      COMMIT) ci_image_commit=$value ;;
      VERSION) ci_image_version=$value ;;
      SOURCE_URL) ci_image_source=$value ;;
      BUILD_URL) ci_image_build=$value ;;
      CREATED) ci_image_created=$value ;;
    esac
  done <"$file"
  [[ -n $ci_image_ref && -n $ci_image_id && -n $ci_image_commit ]] ||
    ci_die "$file is incomplete (needs IMAGE_REF, IMAGE_ID and COMMIT)"
}

# sha256 of FILE inside IMAGE (an image id or name), read without running the image (it has no
# shell): docker create, then docker cp's tar stream.
ci_file_sha256() {
  local image=$1 file=$2 cid sum
  cid=$(docker create "$image") || return 1
  sum=$(docker cp "$cid:$file" - | tar -xOf - | sha256sum | cut -d' ' -f1) || sum=''
  docker rm "$cid" >/dev/null
  [[ -n $sum ]] && printf '%s' "$sum"
}

# The test job's tests run from the builder stage the build job saved (builder.tar: the compiled test
# binaries), against the service binary of the very image that is pushed: ci_test_binary extracts
# /app/dockerflow-app from image $ci_image_id into DIR and checks it is the binary the build recorded.
# Run ci_read_image_env first.
ci_load_builder() {
  [[ -n $ci_builder_ref && -n $ci_builder_id && -n $ci_binary_sha256 ]] ||
    ci_die "$ci_workspace/image.env has no BUILDER_REF/BUILDER_ID/BINARY_SHA256: rebuild with scripts/ci/build-image.sh"
  if [[ $(docker image inspect --format '{{.Id}}' "$ci_builder_ref" 2>/dev/null) != "$ci_builder_id" ]]; then
    [[ -f $ci_workspace/builder.tar ]] ||
      ci_die "$ci_workspace/builder.tar not found: run scripts/ci/build-image.sh first (or attach the workspace)"
    docker load --quiet --input "$ci_workspace/builder.tar" >/dev/null
    local loaded
    loaded=$(docker image inspect --format '{{.Id}}' "$ci_builder_ref" 2>/dev/null) ||
      ci_die "$ci_workspace/builder.tar did not provide $ci_builder_ref"
    [[ $loaded == "$ci_builder_id" ]] ||
      ci_die "$ci_builder_ref loaded as $loaded but the build produced $ci_builder_id"
  fi
  ci_log "builder stage $ci_builder_ref ($ci_builder_id) holds the compiled tests"
}
ci_test_binary() {
  local dir=$1 cid sum
  docker image inspect "$ci_image_id" >/dev/null 2>&1 ||
    ci_die "image $ci_image_id is not loaded: run scripts/ci/load-image.sh first"
  cid=$(docker create "$ci_image_id")
  docker cp "$cid:/app/dockerflow-app" "$dir/dockerflow-app"
  docker rm "$cid" >/dev/null
  sum=$(sha256sum "$dir/dockerflow-app" | cut -d' ' -f1)
  [[ $sum == "$ci_binary_sha256" ]] ||
    ci_die "/app/dockerflow-app of $ci_image_id has sha256 $sum, the build recorded $ci_binary_sha256"
  ci_log "testing the binary of image $ci_image_id: /app/dockerflow-app sha256:$sum"
}
