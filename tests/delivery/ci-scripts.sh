#!/usr/bin/env bash
# The logic of the CI step scripts, without a Docker engine: version.json
# content and escaping, push tag decisions, and the validation that must stop
# a push before anything leaves the machine.
#
# Usage: ci-scripts.sh <repository root>
set -euo pipefail
root=$(cd "${1:?usage: ci-scripts.sh <repository root>}" && pwd)
# shellcheck source-path=SCRIPTDIR source=testlib.sh
source "$(dirname "${BASH_SOURCE[0]}")/testlib.sh"
need_commands jq:jq

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

commit=$(fake_commit ci-scripts)
build_url=https://circleci.com/gh/example-org/dockerflow-app/4242
password='pa$$ w0rd"secret'

# Runs a script with only the given variables (never the caller's CIRCLE_*
# or DOCKER_* variables); output in $out, exit status in $rc.
run() {
  local script=$1
  shift
  rc=0
  out=$(env -i PATH="$PATH" HOME="$tmp" CI_WORKSPACE="$tmp/workspace" "$@" \
    "$root/scripts/ci/$script" 2>&1) || rc=$?
}
circle=(CIRCLE_SHA1="$commit" CIRCLE_PROJECT_USERNAME=example-org
  CIRCLE_PROJECT_REPONAME=dockerflow-app CIRCLE_BUILD_URL="$build_url")
docker_vars=(DOCKERHUB_REPO=127.0.0.1:5000/dockerflow-app DOCKER_USER=ci-user DOCKER_PASS="$password")

# --- write-version-json.sh -------------------------------------------------
vj=$tmp/version.json
run write-version-json.sh VERSION_JSON_FILE="$vj" "${circle[@]}" CIRCLE_BRANCH=main
assert_eq "untagged build writes version.json" "$rc" 0
expected=$(printf '{\n  "source": "https://github.com/example-org/dockerflow-app",\n  "version": "",\n  "commit": "%s",\n  "build": "%s"\n}' "$commit" "$build_url")
assert_eq "untagged version.json content" "$(cat "$vj")" "$expected"
assert_eq "version.json holds exactly source, version, commit, build as strings" \
  "$(jq -c '[keys_unsorted[], (map_values(type) | [.[]] | unique)]' "$vj")" \
  '["source","version","commit","build",["string"]]'

run write-version-json.sh VERSION_JSON_FILE="$vj" "${circle[@]}" CIRCLE_TAG=v1.2.3
assert_eq "tag build writes version.json" "$rc" 0
assert_eq "tag build: version is CIRCLE_TAG" "$(jq -r .version "$vj")" v1.2.3
assert_eq "tag build: commit is CIRCLE_SHA1" "$(jq -r .commit "$vj")" "$commit"
assert_eq "tag build: build is CIRCLE_BUILD_URL" "$(jq -r .build "$vj")" "$build_url"
assert_eq "tag build: source is the GitHub URL" "$(jq -r .source "$vj")" https://github.com/example-org/dockerflow-app

# Every character class JSON must escape, plus ones it must not mangle.
odd_tag=v1\"\\
nasty=$'https://ci.example/b?q="x"&y=\\z\n\r\t\b\f\x01\x1f é ☃ $(id) `id` \'s\' /'
run write-version-json.sh VERSION_JSON_FILE="$vj" "${circle[@]}" CIRCLE_BUILD_URL="$nasty" CIRCLE_TAG="$odd_tag"
assert_eq "special characters: written" "$rc" 0
assert_eq "special characters: valid JSON" "$(jq -e 'type' "$vj" 2>&1)" '"object"'
assert_eq "special characters: build round-trips byte for byte" "$(jq -j .build "$vj" | od -An -tx1)" "$(printf '%s' "$nasty" | od -An -tx1)"
assert_eq "special characters: version round-trips" "$(jq -j .version "$vj")" "$odd_tag"

good=$(cat "$vj")
for name in CIRCLE_SHA1 CIRCLE_PROJECT_USERNAME CIRCLE_PROJECT_REPONAME CIRCLE_BUILD_URL; do
  vars=()
  for v in "${circle[@]}"; do [[ $v == "$name="* ]] || vars+=("$v"); done
  run write-version-json.sh VERSION_JSON_FILE="$vj" "${vars[@]}"
  assert_eq "missing $name: fails" "$rc" 1
  assert_contains "missing $name: named" "$out" "required variable $name is not set"
done
assert_eq "failures leave version.json untouched" "$(cat "$vj")" "$good"
for bad in abc 3F786850E387550FDAB836ED7E6DC881DE23001B "${commit}0" "${commit:0:39}g"; do
  run write-version-json.sh VERSION_JSON_FILE="$vj" "${circle[@]}" CIRCLE_SHA1="$bad"
  assert_contains "malformed CIRCLE_SHA1=$bad: fails naming it" "$rc $out" "1 write-version-json.sh: error: invalid CIRCLE_SHA1=\"$bad\""
done
run write-version-json.sh VERSION_JSON_FILE="$vj" "${circle[@]}" CIRCLE_TAG=$'v1\xff'
assert_contains "CIRCLE_TAG that is not UTF-8: fails naming it" "$rc $out" "1 write-version-json.sh: error: CIRCLE_TAG is not valid UTF-8"
assert_eq "no stray temporary files" "$(find "$tmp" -maxdepth 1 -name '.version.json.*' | wc -l)" 0

# --- push-image.sh: what gets pushed (CI_DRY_RUN=1 stops before docker) ----
plan() { # expected plan for the given extra variables
  run push-image.sh CI_DRY_RUN=1 CIRCLE_SHA1="$commit" "${docker_vars[@]}" "$@"
  [[ $rc == 0 ]] || printf 'exit %s: ' "$rc"
  printf '%s' "$out" | grep '^would push' | tr '\n' ' ' || true
}
repo=127.0.0.1:5000/dockerflow-app
assert_eq "main, untagged: sha-<commit> then latest" "$(plan CIRCLE_BRANCH=main)" \
  "would push $repo:sha-$commit would push $repo:latest "
# Only main pushes sha-<commit>: a tag build's image differs (version.json, labels), and an
# immutable tag must never name two images.
assert_eq "tag v1.2.3: only the tag, no sha-<commit>, no latest" "$(plan CIRCLE_TAG=v1.2.3)" \
  "would push $repo:v1.2.3 "
assert_eq "tag with CIRCLE_BRANCH=main as well: still only the tag" "$(plan CIRCLE_TAG=1.0.1 CIRCLE_BRANCH=main)" \
  "would push $repo:1.0.1 "
for branch in feature/x mainline Main master ''; do
  run push-image.sh CI_DRY_RUN=1 CIRCLE_SHA1="$commit" "${docker_vars[@]}" CIRCLE_BRANCH="$branch"
  assert_eq "branch \"$branch\": succeeds" "$rc" 0
  assert_contains "branch \"$branch\": says nothing is pushed" "$out" "nothing pushed"
  assert_not_contains "branch \"$branch\": plans no push" "$out" "would push"
done
# Without any credentials too: forks and feature branches have none.
run push-image.sh CIRCLE_SHA1="$commit" CIRCLE_BRANCH=feature/x
assert_eq "feature branch without credentials or workspace: succeeds, pushes nothing" "$rc $(grep -c 'nothing pushed' <<<"$out")" "0 1"

long=v$(printf 'x%.0s' {1..127})
for tag in 1.0.1 v1.2.3-rc.1 _x "$long"; do
  assert_contains "legal docker tag \"${tag:0:20}\" accepted" "$(plan CIRCLE_TAG="$tag")" "would push $repo:$tag "
done
for tag in a/b -x .x v1+build "${long}y" 'v 1' latest sha-deadbeef 'é'; do
  run push-image.sh CI_DRY_RUN=1 CIRCLE_SHA1="$commit" "${docker_vars[@]}" CIRCLE_TAG="$tag"
  assert_contains "illegal tag \"${tag:0:20}\": fails naming CIRCLE_TAG" "$rc $out" "1 push-image.sh: error: CIRCLE_TAG=\"$tag\""
done

for name in DOCKERHUB_REPO DOCKER_USER DOCKER_PASS; do
  vars=()
  for v in "${docker_vars[@]}"; do [[ $v == "$name="* ]] || vars+=("$v"); done
  for build in CIRCLE_BRANCH=main CIRCLE_TAG=v1.2.3; do
    run push-image.sh CIRCLE_SHA1="$commit" "$build" "${vars[@]}"
    assert_contains "$build without $name: fails naming it" "$rc $out" "1 push-image.sh: error: required variable $name is not set"
  done
done
run push-image.sh CIRCLE_BRANCH=main "${docker_vars[@]}"
assert_contains "missing CIRCLE_SHA1: fails naming it" "$rc $out" "1 push-image.sh: error: required variable CIRCLE_SHA1 is not set"
run push-image.sh CIRCLE_SHA1="$commit" CIRCLE_BRANCH=main
assert_contains "no credentials at all: all three named" "$out" "required variables are not set: DOCKERHUB_REPO DOCKER_USER DOCKER_PASS"

for r in org/app app 127.0.0.1:5000/dockerflow-app localhost/app localhost:5000/a/b registry.example.com/a/b-c/d_e my.registry/x__y; do
  assert_contains "DOCKERHUB_REPO=$r accepted" "$(plan CIRCLE_BRANCH=main DOCKERHUB_REPO="$r")" "would push $r:latest"
done
for r in Org/App org/app:tag org/app@sha256:0 http://host/app org//app /app app/ 'org/a b' -x/app; do
  run push-image.sh CI_DRY_RUN=1 CIRCLE_SHA1="$commit" CIRCLE_BRANCH=main "${docker_vars[@]}" DOCKERHUB_REPO="$r"
  assert_contains "DOCKERHUB_REPO=$r rejected by name" "$rc $out" "1 push-image.sh: error: invalid DOCKERHUB_REPO=\"$r\""
done

# Without the workspace, or with an image built for another commit or tag,
# push stops before logging in.
run push-image.sh CIRCLE_SHA1="$commit" CIRCLE_BRANCH=main "${docker_vars[@]}"
assert_contains "no workspace: fails naming image.env" "$rc $out" "1 push-image.sh: error: $tmp/workspace/image.env not found"
mkdir -p "$tmp/workspace"
printf 'IMAGE_REF=x:ci\nIMAGE_ID=sha256:00\nCOMMIT=%s\nVERSION=\n' "$(fake_commit other)" >"$tmp/workspace/image.env"
run push-image.sh CIRCLE_SHA1="$commit" CIRCLE_BRANCH=main "${docker_vars[@]}"
assert_contains "image of another commit: refused" "$rc $out" "1 push-image.sh: error: the workspace image was built from commit $(fake_commit other), not CIRCLE_SHA1=$commit"
printf 'IMAGE_REF=x:ci\nIMAGE_ID=sha256:00\nCOMMIT=%s\nVERSION=\n' "$commit" >"$tmp/workspace/image.env"
run push-image.sh CIRCLE_SHA1="$commit" CIRCLE_TAG=v1.2.3 "${docker_vars[@]}"
assert_contains "untagged image on a tag build: refused" "$rc $out" "1 push-image.sh: error: the workspace image carries version \"\", not CIRCLE_TAG=\"v1.2.3\""

# --- every run above: the password never appears ---------------------------
run push-image.sh CI_DRY_RUN=1 CIRCLE_SHA1="$commit" CIRCLE_BRANCH=main "${docker_vars[@]}"
assert_not_contains "dry run output holds no password" "$out" "$password"
if grep -rF -- "$password" "$tmp" >/dev/null 2>&1; then
  fail "the password was written to a file under $tmp"
else
  pass "no file holds the password"
fi

finish
