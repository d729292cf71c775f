#!/usr/bin/env bash
# The image's configuration: numeric non-root user, entrypoint, port, environment, health check, OCI
# labels carrying version.json's values, the built-in version.json, no shell, and its size.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_image

cfg() { docker image inspect -f "{{$1}}" "$image"; }
expect() { # expect WHAT ACTUAL WANTED
  [[ $2 == "$3" ]] || fail "$1 is '$2', expected '$3'"
  info "ok: $1 = $3"
}
field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$root/version.json" "$1"; }

expect user "$(cfg .Config.User)" 10001:10001
expect workdir "$(cfg .Config.WorkingDir)" /app
expect entrypoint "$(cfg .Config.Entrypoint)" "[/app/dockerflow-app]"
expect ports "$(cfg .Config.ExposedPorts)" "map[8000/tcp:{}]"
expect healthcheck "$(cfg .Config.Healthcheck.Test)" "[CMD /app/dockerflow-app healthcheck]"
env=$(cfg '.Config.Env')
[[ $env == *PORT=8000* && $env == *DOCKERFLOW_VERSION_FILE=/app/version.json* ]] || fail "env is $env"
info "ok: env $env"

label() { cfg "index .Config.Labels \"org.opencontainers.image.$1\""; }
expect label.source "$(label source)" "$(field source)"
expect label.version "$(label version)" "$(field version)"
expect label.revision "$(label revision)" "$(field commit)"
[[ $(label created) =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$ ]] ||
  fail "label created '$(label created)' is not RFC 3339"

# Files, read without running anything in the image.
tmp=$(mktemp -d)
name=dfct-image-$$
trap 'docker rm -f "$name" >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
docker create --name "$name" --label "$test_label=1" "$image" >/dev/null
docker export "$name" | tar -C "$tmp" -x
cmp "$tmp/app/version.json" "$root/version.json" || fail "/app/version.json differs from the built version.json"
info "ok: /app/version.json equals $root/version.json"
grep -q '^app:x:10001:10001:' "$tmp/etc/passwd" || fail "no app user 10001 in /etc/passwd"
grep -q '^app:x:10001:' "$tmp/etc/group" || fail "no app group 10001 in /etc/group"
[[ $(stat -c %u "$tmp/app/version.json") == 0 ]] || fail "/app/version.json is writable by the app user"
for f in bin/sh bin/bash usr/bin/apt-get usr/bin/dpkg usr/bin/g++ usr/bin/cc; do
  [[ ! -e $tmp/$f && ! -L $tmp/$f ]] || fail "the runtime image contains /$f"
done
info "ok: no shell, package manager or compiler; files: $(find "$tmp" -type f | wc -l)"

size=$(cfg .Size)
mb=$(awk -v s="$size" 'BEGIN { printf "%.1f", s / 1e6 }')
info "IMAGE SIZE: $image = $size bytes = $mb MB (limit $size_limit_mb MB)"
((size <= size_limit_mb * 1000 * 1000)) || fail "image is $mb MB, more than $size_limit_mb MB"
