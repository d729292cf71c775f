#!/usr/bin/env bash
# Runs shellcheck on every shell script of the repository: every *.sh and every
# file with a sh/bash shebang outside build trees, .git and node_modules
# (scripts/**, .ci/run, tests/**, bench/**, ...).
#
# Usage: shellcheck.sh <repository root>
set -euo pipefail
root=$(cd "${1:?usage: shellcheck.sh <repository root>}" && pwd)
# shellcheck source-path=SCRIPTDIR source=testlib.sh
source "$(dirname "${BASH_SOURCE[0]}")/testlib.sh"
need_commands shellcheck:shellcheck

cd "$root"
shebang='^#!.*([/ ]|env )(ba|da)?sh([[:space:]]|$)'
scripts=()
while IFS= read -r -d '' file; do
  first=
  IFS= read -r first < "$file" || true  # a file without a newline still has a first line
  if [[ $file == *.sh || $first =~ $shebang ]]; then
    scripts+=("${file#./}")
  fi
done < <(find . \( -name .git -o -name node_modules -o -path './build*' \) -prune -o -type f -print0 | sort -z)

# The scripts this project cannot do without must be among them.
for required in .ci/run scripts/ci/push-image.sh scripts/docker/engine.sh; do
  if [[ -e $required ]]; then
    found=false
    for file in "${scripts[@]}"; do
      if [[ $file == "$required" ]]; then found=true; fi
    done
    if $found; then
      pass "$required is checked"
    else
      fail "$required is not recognised as a script"
    fi
  fi
done

for file in "${scripts[@]}"; do
  if out=$(shellcheck --external-sources --source-path=SCRIPTDIR "$file" 2>&1); then
    pass "shellcheck $file"
  else
    fail "shellcheck $file"
    printf '%s\n' "$out"
  fi
done
finish
