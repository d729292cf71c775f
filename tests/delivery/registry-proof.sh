#!/usr/bin/env bash
# Runs the CircleCI steps (scripts/ci/) the way the pipeline does, against a
# real registry: Debian's docker-registry on 127.0.0.1 with htpasswd auth as
# DOCKERHUB_REPO. Each job starts from the workspace alone: the built image
# is removed before the test and push jobs, which load it from image.tar.
# The commits are real: a throw-away git origin with c1 <- c2 <- c3, one
# clone per pipeline.
#
#   (a) main at c1          -> sha-<c1>, latest
#   (b) tag v1.2.3 at c1    -> v1.2.3 only: sha-<c1> keeps main's image,
#                              latest does not move
#   (c) main at c3          -> sha-<c3>, latest moves forward
#   (d) main at c2, late    -> sha-<c2>; latest stays at c3 (c2 is older)
#   (e) c2's push job again -> no-op: the same image is already there
#   (f) c1 and the tag rebuilt -> push fails naming both image digests,
#                              nothing changes in the registry
#   (g) feature branch      -> nothing
#   (h) wrong password, missing DOCKER_PASS / DOCKERHUB_REPO -> fails naming
#       the culprit, nothing pushed
# Then every tag is pulled back into an engine that no longer has the image:
# same image id as built, OCI labels, and /__version__ of the running pulled
# image return what the CircleCI variables said.
#
# Usage: registry-proof.sh <repository root>
set -euo pipefail
root=$(cd "${1:?usage: registry-proof.sh <repository root>}" && pwd)
# shellcheck source-path=SCRIPTDIR source=testlib.sh
source "$(dirname "${BASH_SOURCE[0]}")/testlib.sh"

engine_rc=0
"$root/scripts/docker/engine.sh" || engine_rc=$?
((engine_rc == 0)) || exit "$engine_rc" # 77 locally without an engine, 1 under CI=true
need_commands docker-registry:docker-registry apache2-utils:htpasswd curl:curl jq:jq

started_at=$SECONDS
work=$(mktemp -d /tmp/delivery-proof.XXXXXX)
id=dlv$$
user=ci-pusher
password="Pw-$id-$RANDOM\$\"'x"
registry_pid=''
cleanup() {
  set +e
  docker ps -aq --filter "label=dockerflow.delivery=$id" | xargs -r docker rm -f >/dev/null 2>&1
  docker images --format '{{.Repository}}:{{.Tag}}' |
    grep -E "^(dockerflow-app:$id-|127\.0\.0\.1:${port:-none}/)" | xargs -r docker rmi --no-prune >/dev/null 2>&1
  if [[ -n $registry_pid ]]; then
    kill "$registry_pid" 2>/dev/null
    wait "$registry_pid" 2>/dev/null
  fi
  rm -rf "$work"
}
trap cleanup EXIT

log() { printf '[%3ds] %s\n' "$((SECONDS - started_at))" "$*"; }

# --- the registry --------------------------------------------------------
mkdir -p "$work/registry" "$work/logs" "$work/docker-config"
htpasswd -Bbn "$user" "$password" >"$work/registry/htpasswd"
start_registry() {
  cat >"$work/registry/config.yml" <<YAML
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $work/registry/storage
http:
  addr: 127.0.0.1:$port
  secret: $id-$RANDOM$RANDOM
auth:
  htpasswd:
    realm: delivery-test
    path: $work/registry/htpasswd
YAML
  docker-registry serve "$work/registry/config.yml" >"$work/logs/registry.log" 2>&1 &
  registry_pid=$!
  local i
  for ((i = 0; i < 50; i++)); do
    [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v2/") == 401 ]] && return 0
    kill -0 "$registry_pid" 2>/dev/null || break
    sleep 0.1
  done
  kill "$registry_pid" 2>/dev/null || true
  wait "$registry_pid" 2>/dev/null || true
  registry_pid=''
  return 1
}
for ((try = 0; try < 10; try++)); do
  port=$((30000 + RANDOM % 30000))
  # Something already answering there: try another port.
  (: <"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue
  start_registry && break
done
[[ -n $registry_pid ]] || {
  cat "$work/logs/registry.log" >&2
  fail "docker-registry did not start"
  exit 1
}
api=http://127.0.0.1:$port/v2
repo=127.0.0.1:$port/dockerflow-app
log "docker-registry on 127.0.0.1:$port (htpasswd auth), storage in $work/registry"

tags_of() { # NAME: its tags sorted, comma separated; "none" when the name does not exist
  local body
  body=$(curl -s -u "$user:$password" "$api/$1/tags/list")
  jq -r 'if .tags then (.tags | sort | join(",")) else "none" end' <<<"$body"
}
digest_of() { # TAG of dockerflow-app: its manifest digest
  curl -sI -u "$user:$password" \
    -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    "$api/dockerflow-app/manifests/$1" | tr -d '\r' | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: //p'
}
catalog() { curl -s -u "$user:$password" "$api/_catalog" | jq -r '.repositories | sort | join(",")'; }

assert_eq "registry refuses anonymous access" "$(curl -s -o /dev/null -w '%{http_code}' "$api/_catalog")" 401
assert_eq "registry starts empty" "$(catalog)" ""

# --- a git origin and checkouts, as CircleCI's checkout step gives them ----
# The project's tree is committed into a throw-away origin as c1, then c2 and
# c3 (empty commits on top: same tree, so the image builds share their
# compile layers). Each pipeline runs in its own clone, detached at its
# commit; the steps write version.json there, the repository stays clean.
git_q() { git -c user.name=delivery-proof -c user.email=proof@example.invalid -c advice.detachedHead=false "$@"; }
seed=$work/seed
mkdir -p "$seed"
if git -C "$root" rev-parse --git-dir >/dev/null 2>&1; then
  git -C "$root" ls-files -z --cached --others --exclude-standard |
    tar -C "$root" --null --files-from=- --ignore-failed-read -cf - 2>/dev/null | tar -C "$seed" -xf -
else
  tar -C "$root" --exclude=./.git --exclude='./build*' --exclude=node_modules -cf - . | tar -C "$seed" -xf -
fi
git_q init -q -b main "$seed"
git_q -C "$seed" add -A
git_q -C "$seed" commit -q -m "c1: the tree under test"
git_q -C "$seed" commit -q --allow-empty -m c2
git_q init -q --bare -b main "$work/origin.git"
git_q -C "$seed" push -q "$work/origin.git" main
c1=$(git -C "$seed" rev-parse HEAD~1)
c2=$(git -C "$seed" rev-parse HEAD)
checkout() { # checkout NAME COMMIT: a fresh clone of origin, detached at COMMIT
  git_q clone -q "$work/origin.git" "$work/co-$1"
  git_q -C "$work/co-$1" checkout -q --detach "$2"
}
checkout main1 "$c1"
checkout tag "$c1"
# The c2 pipeline's checkout is made before c3 exists: its push job has to
# fetch to learn that latest (c3) is newer.
checkout main2 "$c2"
git_q -C "$seed" commit -q --allow-empty -m c3
git_q -C "$seed" push -q "$work/origin.git" main
c3=$(git -C "$seed" rev-parse HEAD)
checkout main3 "$c3"
log "origin: c1=${c1:0:12} <- c2=${c2:0:12} <- c3=${c3:0:12}"

# --- running a step as CircleCI would --------------------------------------
step_no=0
co=$work/co-main1
# step SCRIPT VAR=VALUE...: runs scripts/ci/SCRIPT of the checkout $co with
# only these variables (plus what every CircleCI job has); output in $out,
# exit status in $rc.
step() {
  local script=$1 logfile
  shift
  step_no=$((step_no + 1))
  logfile=$work/logs/$(printf '%02d' "$step_no")-${script%.sh}.log
  rc=0
  # DOCKER_BUILDKIT=0: the classic builder, as scripts/docker/build.sh and
  # docker-compose use, so the container tier's compile layers are reused.
  env -i PATH="$PATH" HOME="$HOME" DOCKER_CONFIG="$work/docker-config" DOCKER_BUILDKIT=0 CI=true CIRCLECI=true \
    CIRCLE_PROJECT_USERNAME=example-org CIRCLE_PROJECT_REPONAME=dockerflow-app "$@" \
    "$co/scripts/ci/$script" >"$logfile" 2>&1 || rc=$?
  out=$(cat "$logfile")
  if [[ $rc != 0 && ${expect_failure:-0} != 1 ]]; then
    printf -- '--- %s (exit %s), last lines:\n' "$script" "$rc"
    tail -n 30 "$logfile"
  fi
}
ws_env() { # ws_env NAME: the job variables of pipeline NAME's workspace
  ws=(CI_WORKSPACE="$work/ws-$1" CI_LOCAL_IMAGE="dockerflow-app:$id-$1")
}
# build_job NAME VAR=VALUE...: the build job in checkout co-NAME; the image
# is then removed locally, as the next job runs on another machine.
build_job() {
  local name=$1
  shift
  co=$work/co-${name%-rebuild}
  ws_env "$name"
  step build-image.sh "${ws[@]}" "$@"
  assert_eq "$name: build job (build-image.sh) succeeds" "$rc" 0
  ((rc == 0)) || return 1
  docker rmi "dockerflow-app:$id-$name" >/dev/null
  # --no-prune: the builder stage's layers stay as the compile cache of the
  # next build, as they would with an untagged builder stage.
  docker rmi --no-prune "dockerflow-app:$id-$name-builder" >/dev/null
  # Only the test job reads the builder stage, and this proof's test job
  # does not run the suites (delivery.ci_test_job does).
  rm -f "$work/ws-$name/builder.tar"
  log "$name: built $(image_env "$name" IMAGE_ID)"
}
# pipeline NAME VAR=VALUE...: build job, test job, push job, each on a
# "fresh machine" (the image is removed locally before the next job).
pipeline() {
  local name=$1
  shift
  build_job "$name" "$@" || return 1
  step load-image.sh "${ws[@]}" "$@"
  assert_eq "$name: test job loads the image from the workspace" "$rc" 0
  ((rc == 0)) || return 1
  step test-image.sh "${ws[@]}" "$@"
  assert_eq "$name: test job (test-image.sh) passes on the loaded image" "$rc" 0
  # As in CircleCI: a failed test job means no push job.
  ((rc == 0)) || return 1
  docker rmi "dockerflow-app:$id-$name" >/dev/null
  push_job "$name" "$@"
  assert_eq "$name: push job (push-image.sh) succeeds" "$rc" 0
  ((rc == 0)) || return 1
  log "$name: pushed"
}
push_job() { # push_job NAME VAR=VALUE...: the push job of pipeline NAME's workspace
  local name=$1
  shift
  co=$work/co-${name%-rebuild}
  ws_env "$name"
  step push-image.sh "${ws[@]}" "$@" DOCKERHUB_REPO="$repo" DOCKER_USER="$user" DOCKER_PASS="$password"
  docker images --format '{{.Repository}}:{{.Tag}}' | grep -E "^(dockerflow-app:$id-|127\.0\.0\.1:$port/)" |
    xargs -r docker rmi --no-prune >/dev/null 2>&1 || true
}
image_env() { sed -n "s/^$2=//p" "$work/ws-$1/image.env"; }
sorted() { printf '%s\n' "$@" | sort | paste -sd,; }

url1=https://circleci.com/gh/example-org/dockerflow-app/101
url_tag=https://circleci.com/gh/example-org/dockerflow-app/102
url3=https://circleci.com/gh/example-org/dockerflow-app/103
url2=https://circleci.com/gh/example-org/dockerflow-app/104
main1=(CIRCLE_SHA1="$c1" CIRCLE_BRANCH=main CIRCLE_BUILD_NUM=101 CIRCLE_BUILD_URL="$url1")
tag1=(CIRCLE_SHA1="$c1" CIRCLE_TAG=v1.2.3 CIRCLE_BUILD_NUM=102 CIRCLE_BUILD_URL="$url_tag")
main3=(CIRCLE_SHA1="$c3" CIRCLE_BRANCH=main CIRCLE_BUILD_NUM=103 CIRCLE_BUILD_URL="$url3")
main2=(CIRCLE_SHA1="$c2" CIRCLE_BRANCH=main CIRCLE_BUILD_NUM=104 CIRCLE_BUILD_URL="$url2")

# (a) main at c1
pipeline main1 "${main1[@]}" || { finish; exit 1; }
assert_contains "main c1: push names what it pushed" "$out" "pushed $repo:latest"
assert_eq "main c1: registry holds exactly latest and sha-<c1>" "$(tags_of dockerflow-app)" "$(sorted latest "sha-$c1")"
assert_eq "main c1: latest and sha-<c1> are one manifest" "$(digest_of latest)" "$(digest_of "sha-$c1")"
sha_c1_digest=$(digest_of "sha-$c1")
latest_digest=$(digest_of latest)

# (b) tag v1.2.3 on the same commit c1 (CircleCI sets no CIRCLE_BRANCH on
# tag builds): its image differs from main's (version.json, labels), so it
# pushes only v1.2.3; sha-<c1> keeps main's image.
pipeline tag "${tag1[@]}" || { finish; exit 1; }
assert_ne() { if [[ $2 != "$3" ]]; then pass "$1"; else fail "$1: both are [$2]"; fi; }
assert_ne "tag: the tag build's image is another image than main's of the same commit" \
  "$(image_env tag IMAGE_ID)" "$(image_env main1 IMAGE_ID)"
assert_eq "tag: registry holds exactly latest, sha-<c1>, v1.2.3" "$(tags_of dockerflow-app)" "$(sorted latest "sha-$c1" v1.2.3)"
assert_eq "tag: sha-<c1> did not move (still main's image)" "$(digest_of "sha-$c1")" "$sha_c1_digest"
assert_eq "tag: latest did not move" "$(digest_of latest)" "$latest_digest"
assert_ne "tag: v1.2.3 is another manifest than sha-<c1>" "$(digest_of v1.2.3)" "$sha_c1_digest"
assert_contains "tag: v1.2.3 pushed as an immutable tag" "$out" "pushed $repo:v1.2.3 (immutable"
assert_not_contains "tag: no sha- tag pushed" "$out" "pushed $repo:sha-"
tag_digest=$(digest_of v1.2.3)

# (c) main at c3 moves latest forward (c1 is an ancestor of c3)
pipeline main3 "${main3[@]}" || { finish; exit 1; }
assert_contains "main c3: latest moved from c1 to c3" "$out" "pushed $repo:latest (moved from commit $c1 to $c3)"
assert_eq "main c3: latest is sha-<c3>" "$(digest_of latest)" "$(digest_of "sha-$c3")"
latest_digest=$(digest_of latest)

# (d) main at c2 finishing after c3 (its checkout predates c3): sha-<c2> is
# pushed, latest stays at c3
pipeline main2 "${main2[@]}" || { finish; exit 1; }
assert_contains "main c2, late: latest stays, c2 is older than latest's c3" "$out" \
  "latest stays at commit $c3 (manifest $latest_digest): $c2 is older (an ancestor of it)"
assert_eq "main c2, late: latest did not move back" "$(digest_of latest)" "$latest_digest"
assert_eq "main c2, late: registry holds latest, sha-<c1>, sha-<c2>, sha-<c3>, v1.2.3" "$(tags_of dockerflow-app)" \
  "$(sorted latest "sha-$c1" "sha-$c2" "sha-$c3" v1.2.3)"
sha_c2_digest=$(digest_of "sha-$c2")

# (e) the push job of c2 run again (same workspace, same image): a no-op
push_job main2 "${main2[@]}"
assert_eq "rerun of a push job: succeeds" "$rc" 0
assert_contains "rerun of a push job: sha-<c2> already holds this image" "$out" \
  "$repo:sha-$c2 already holds this image ($(image_env main2 IMAGE_ID), manifest $sha_c2_digest): not pushed again"
assert_eq "rerun of a push job: sha-<c2> unchanged" "$(digest_of "sha-$c2")" "$sha_c2_digest"
assert_eq "rerun of a push job: latest unchanged" "$(digest_of latest)" "$latest_digest"

# (f) a rebuild of c1 on main (a workflow re-run from the start: new image,
# other created label) must not overwrite sha-<c1>; nor may a rebuild of the
# tag overwrite v1.2.3. Both fail loudly naming both image digests.
tags_before=$(tags_of dockerflow-app)
expect_failure=1
build_job main1-rebuild "${main1[@]}" && push_job main1-rebuild "${main1[@]}"
assert_eq "rebuilt c1: push fails" "$rc" 1
assert_contains "rebuilt c1: message names the tag, both images and the manifest" "$out" \
  "push-image.sh: error: $repo:sha-$c1 already exists in the registry as image $(image_env main1 IMAGE_ID) (manifest $sha_c1_digest), this build is image $(image_env main1-rebuild IMAGE_ID): an immutable tag never moves to other bytes; nothing pushed"
build_job tag-rebuild "${tag1[@]}" && push_job tag-rebuild "${tag1[@]}"
assert_eq "rebuilt tag: push fails" "$rc" 1
assert_contains "rebuilt tag: message names both images" "$out" \
  "$repo:v1.2.3 already exists in the registry as image $(image_env tag IMAGE_ID) (manifest $tag_digest), this build is image $(image_env tag-rebuild IMAGE_ID)"
expect_failure=0
assert_eq "rebuilds: sha-<c1> unchanged" "$(digest_of "sha-$c1")" "$sha_c1_digest"
assert_eq "rebuilds: v1.2.3 unchanged" "$(digest_of v1.2.3)" "$tag_digest"
assert_eq "rebuilds: latest unchanged" "$(digest_of latest)" "$latest_digest"
assert_eq "rebuilds: no tag added or removed" "$(tags_of dockerflow-app)" "$tags_before"
tags_before=$(tags_of dockerflow-app)
catalog_before=$(catalog)

# (g) a feature branch pushes nothing, credentials or not
co=$work/co-main1
ws_main=(CI_WORKSPACE="$work/ws-main1" CI_LOCAL_IMAGE="dockerflow-app:$id-main1" CIRCLE_SHA1="$c1" CIRCLE_BUILD_URL="$url1")
step push-image.sh "${ws_main[@]}" CIRCLE_BRANCH=feature/login-form DOCKERHUB_REPO="$repo" DOCKER_USER="$user" DOCKER_PASS="$password"
assert_eq "feature branch: push step succeeds" "$rc" 0
assert_contains "feature branch: says nothing is pushed" "$out" 'CIRCLE_BRANCH="feature/login-form" and no CIRCLE_TAG: nothing pushed'
assert_eq "feature branch: tags unchanged" "$(tags_of dockerflow-app)" "$tags_before"

# (h) wrong or missing credentials and variables: a fresh repository name,
# so anything pushed would show up as a new repository.
denied=127.0.0.1:$port/dockerflow-app-denied
expect_failure=1
step push-image.sh "${ws_main[@]}" CIRCLE_BRANCH=main DOCKERHUB_REPO="$denied" DOCKER_USER="$user" DOCKER_PASS="wrong-$password"
assert_eq "wrong password: push fails" "$rc" 1
assert_contains "wrong password: message names the login and the variables" "$out" \
  "docker login to 127.0.0.1:$port failed for DOCKER_USER=\"$user\": check DOCKER_USER and DOCKER_PASS; nothing pushed"
step push-image.sh "${ws_main[@]}" CIRCLE_BRANCH=main DOCKERHUB_REPO="$denied" DOCKER_USER=nobody DOCKER_PASS="$password"
assert_eq "unknown user: push fails" "$rc" 1
assert_contains "unknown user: message names DOCKER_USER" "$out" "push-image.sh: error: docker login to 127.0.0.1:$port failed for DOCKER_USER=\"nobody\""
step push-image.sh "${ws_main[@]}" CIRCLE_BRANCH=main DOCKERHUB_REPO="$denied" DOCKER_USER="$user"
assert_eq "missing DOCKER_PASS: fails naming it" "$rc $out" "1 push-image.sh: error: required variable DOCKER_PASS is not set"
step push-image.sh "${ws_main[@]}" CIRCLE_BRANCH=main DOCKER_USER="$user" DOCKER_PASS="$password"
assert_eq "missing DOCKERHUB_REPO: fails naming it" "$rc $out" "1 push-image.sh: error: required variable DOCKERHUB_REPO is not set"
step push-image.sh "${ws_main[@]}" CIRCLE_TAG=release/1.0 DOCKERHUB_REPO="$denied" DOCKER_USER="$user" DOCKER_PASS="$password"
assert_contains "tag that is no docker tag: fails naming CIRCLE_TAG" "$rc $out" "1 push-image.sh: error: CIRCLE_TAG=\"release/1.0\" is not a valid docker tag"
expect_failure=0
assert_eq "failed pushes created no repository" "$(catalog)" "$catalog_before"
assert_eq "failed pushes: $denied has no tags" "$(tags_of dockerflow-app-denied)" none
assert_eq "failed pushes: dockerflow-app tags unchanged" "$(tags_of dockerflow-app)" "$tags_before"

if grep -rlF -- "$password" "$work/logs" "$work/docker-config" "$work"/ws-* >/dev/null 2>&1; then
  fail "the password appears in a log, the docker config or a workspace: $(grep -rlF -- "$password" "$work/logs" "$work/docker-config" "$work"/ws-*)"
else
  pass "the password appears in no step output, docker config or workspace"
fi
assert_eq "push logged out again: no credentials left in DOCKER_CONFIG" \
  "$(jq -r '.auths // {} | keys | join(",")' "$work/docker-config/config.json" 2>/dev/null || true)" ""

# --- pull back into an engine that no longer has the images ---------------
docker images --format '{{.Repository}}:{{.Tag}}' |
  grep -E "^(dockerflow-app:$id-|127\.0\.0\.1:$port/)" | xargs -r docker rmi --no-prune >/dev/null
for ws in main1 tag main2 main3; do
  if docker image inspect "$(image_env "$ws" IMAGE_ID)" >/dev/null 2>&1; then
    fail "$ws: image $(image_env "$ws" IMAGE_ID) is still present locally before the pull"
  else
    pass "$ws: the built image is gone locally before the pull"
  fi
done
printf '%s' "$password" | DOCKER_CONFIG=$work/docker-config docker login --username "$user" --password-stdin "127.0.0.1:$port" >/dev/null 2>&1

# verify_pulled TAG WORKSPACE VERSION COMMIT BUILD_URL
verify_pulled() {
  local tag=$1 ws=$2 version=$3 commit=$4 build=$5 ref=$repo:$1 name port_line body pair i
  if ! DOCKER_CONFIG=$work/docker-config docker pull "$ref" >"$work/logs/pull-$tag.log" 2>&1; then
    fail "$tag: docker pull $ref: $(tail -n 3 "$work/logs/pull-$tag.log")"
    return
  fi
  assert_eq "$tag: pulled image is the built and tested image (same id)" \
    "$(docker image inspect -f '{{.Id}}' "$ref")" "$(image_env "$ws" IMAGE_ID)"
  for pair in "source=https://github.com/example-org/dockerflow-app" "revision=$commit" "version=$version" \
    "created=$(image_env "$ws" CREATED)"; do
    assert_eq "$tag: label org.opencontainers.image.${pair%%=*}" \
      "$(docker image inspect -f "{{ index .Config.Labels \"org.opencontainers.image.${pair%%=*}\" }}" "$ref")" "${pair#*=}"
  done
  if [[ $(image_env "$ws" CREATED) =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$ ]]; then
    pass "$tag: created is an RFC 3339 UTC time"
  else
    fail "$tag: created=$(image_env "$ws" CREATED) is not an RFC 3339 UTC time"
  fi

  name=$id-run-$tag
  docker run -d --name "$name" --label "dockerflow.delivery=$id" --read-only --cap-drop ALL \
    -p 127.0.0.1::8000 "$ref" >/dev/null
  port_line=$(docker port "$name" 8000/tcp | head -n 1)
  body=''
  for ((i = 0; i < 50; i++)); do
    body=$(curl -sf --max-time 2 "http://127.0.0.1:${port_line##*:}/__version__") && break
    sleep 0.2
  done
  assert_eq "$tag: /__version__ commit" "$(jq -r .commit <<<"$body" 2>&1)" "$commit"
  assert_eq "$tag: /__version__ version" "$(jq -r .version <<<"$body" 2>&1)" "$version"
  assert_eq "$tag: /__version__ build" "$(jq -r .build <<<"$body" 2>&1)" "$build"
  assert_eq "$tag: /__version__ source" "$(jq -r .source <<<"$body" 2>&1)" https://github.com/example-org/dockerflow-app
  assert_eq "$tag: /__version__ is the workspace's version.json" "$body" "$(cat "$work/ws-$ws/version.json")"
  docker rm -f "$name" >/dev/null
}
verify_pulled latest main3 "" "$c3" "$url3"
verify_pulled "sha-$c1" main1 "" "$c1" "$url1"
verify_pulled "sha-$c2" main2 "" "$c2" "$url2"
verify_pulled "sha-$c3" main3 "" "$c3" "$url3"
verify_pulled v1.2.3 tag v1.2.3 "$c1" "$url_tag"
DOCKER_CONFIG=$work/docker-config docker logout "127.0.0.1:$port" >/dev/null 2>&1 || true

log "done"
finish
