#!/usr/bin/env bash
# `make test`: every tier, in order of cost. A tier that fails does not hide the tiers after it.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
tiers=${TEST_TIERS:-unit integration container delivery}

failed=()
for tier in $tiers; do
  echo "==> test tier: $tier"
  if ! ctest --test-dir "$build" -L "^${tier}\$" --output-on-failure --no-tests=error; then
    failed+=("$tier")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED tiers: ${failed[*]}" >&2
  exit 1
fi
echo "all test tiers passed: $tiers"
