#!/usr/bin/env bash
# docker-compose.test.yml: the suite runs inside the builder image against real db and redis services
# and passes, the external-services tests among it; a failing command's status comes back out.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_engine
docker image inspect "$builder_image" >/dev/null 2>&1 || fail "image $builder_image is missing: see container.setup"

project=dfct-compose-test-$$
read -r -a compose <<<"$(compose_cmd)"
compose+=(-f "$root/docker-compose.test.yml" -p "$project")
log=$(mktemp)
trap '"${compose[@]}" down -v --remove-orphans >/dev/null 2>&1 || true; rm -f "$log"' EXIT

start=$(now)
set +e
"${compose[@]}" run --rm tests 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
info "docker-compose.test.yml run: exit $status after $(elapsed_since "$start")s"
((status == 0)) || fail "the suite failed in the tests container (exit $status)"
grep -Eq '100% tests passed, 0 tests failed out of [1-9]' "$log" || fail "no passing ctest summary"
# Every test labelled external is in the run and passed.
mapfile -t external < <(docker run --rm "$builder_image" ctest --test-dir /build -N -L external |
  sed -n 's/^ *Test *#[0-9]*: //p')
((${#external[@]} > 0)) || fail "no test is labelled external in $builder_image"
for t in "${external[@]}"; do
  grep -Fq -- " $t " "$log" || fail "external test $t did not run"
  grep -F -- " $t " "$log" | grep Passed >/dev/null || fail "external test $t did not pass"
done
! grep -q 'Skipped' "$log" || fail "tests were skipped: $(grep Skipped "$log")"
# A GTEST_SKIP passes in ctest's summary: the external tests' own output must show them run, not skipped.
"${compose[@]}" run --rm tests ctest --test-dir /build -L external -V >"$log" 2>&1 ||
  fail "external tests failed: $(tail -n 20 "$log")"
! grep -q '\[  SKIPPED \]' "$log" || fail "external tests skipped: $(grep -A1 'SKIPPED' "$log" | head -n 4)"
grep -Eq '\[  PASSED  \] [1-9]' "$log" || fail "no passed gtest in the external run: $(tail -n 20 "$log")"
info "ok: ${#external[@]} external-services tests ran and passed against db and redis"

if "${compose[@]}" run --rm tests false >/dev/null 2>&1; then
  fail "a failing command in the tests service exited 0"
fi
info "ok: a failing run exits non-zero"
