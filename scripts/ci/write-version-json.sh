#!/usr/bin/env bash
# Writes the Dockerflow version.json from CircleCI's variables:
#   commit  = CIRCLE_SHA1
#   version = CIRCLE_TAG (empty string on untagged builds)
#   source  = https://github.com/$CIRCLE_PROJECT_USERNAME/$CIRCLE_PROJECT_REPONAME
#   build   = CIRCLE_BUILD_URL
# Output: $VERSION_JSON_FILE (default: version.json at the repository root).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ci_require_vars CIRCLE_SHA1 CIRCLE_PROJECT_USERNAME CIRCLE_PROJECT_REPONAME CIRCLE_BUILD_URL
ci_check_commit

out=${VERSION_JSON_FILE:-$ci_root/version.json}
source_url="https://github.com/$CIRCLE_PROJECT_USERNAME/$CIRCLE_PROJECT_REPONAME"

# Each value is escaped on its own line so that a failure stops the script.
j_source=$(ci_json_string "$source_url" "CIRCLE_PROJECT_USERNAME/CIRCLE_PROJECT_REPONAME")
j_version=$(ci_json_string "${CIRCLE_TAG-}" CIRCLE_TAG)
j_commit=$(ci_json_string "$CIRCLE_SHA1" CIRCLE_SHA1)
j_build=$(ci_json_string "$CIRCLE_BUILD_URL" CIRCLE_BUILD_URL)
json=$(printf '{\n  "source": %s,\n  "version": %s,\n  "commit": %s,\n  "build": %s\n}' \
  "$j_source" "$j_version" "$j_commit" "$j_build")

# Write next to the target, then rename: readers never see half a file.
tmp=$(mktemp "$(dirname "$out")/.version.json.XXXXXX")
trap 'rm -f "$tmp"' EXIT
printf '%s\n' "$json" >"$tmp"
chmod 0644 "$tmp"
mv -f "$tmp" "$out"
trap - EXIT
ci_log "wrote $out (commit ${CIRCLE_SHA1}, version \"${CIRCLE_TAG-}\")"
