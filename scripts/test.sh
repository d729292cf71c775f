#!/usr/bin/env bash
# `make test`: every tier, in order of cost. A tier that fails does not hide the tiers after it.
# The sanitizer tiers build their own trees (build-asan, build-tsan) and run tests from there:
#   asan  the unit and integration tiers under AddressSanitizer + UndefinedBehaviorSanitizer
#   tsan  the unit tier and the integration tests labelled `concurrency` (those that flood, drain,
#         stop past hung checks or run several loop threads) under ThreadSanitizer
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
tiers=${TEST_TIERS:-unit integration example container delivery asan tsan fuzz}
jobs=${JOBS:-2}
if [ "${CI:-}" = true ]; then werror=${WERROR:-ON}; else werror=${WERROR:-OFF}; fi

# gcc 12's TSan runtime dies with "FATAL: ThreadSanitizer: unexpected memory mapping" on kernels that
# randomise mmap with more than 28 bits (vm.mmap_rnd_bits). Running without ASLR avoids that for this
# process tree only, with no system setting changed. Docker's default seccomp profile refuses the
# personality call, so use it only where it works.
no_aslr=()
if setarch "$(uname -m)" -R true 2>/dev/null; then
  no_aslr=(setarch "$(uname -m)" -R)
fi

# Every sanitizer report goes to a file of its own (log_path=<dir>/report.<pid>), from the test
# runners and from every app they start (the harness passes *SAN_OPTIONS on), and the tier fails if
# any file exists. Exit codes alone would miss reports: the app ends with std::_Exit, which skips
# TSan's exit-time status and LeakSanitizer, and a test that kills the app never reads its status.
sanitizer_tier() {
  local tier=$1 dir=$2 option=$3 target=$4 labels=$5 flags=$6
  local reports="$PWD/$dir/sanitizer-reports"
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=$flags" "-D$option=ON" \
    "-DDOCKERFLOW_WARNINGS_AS_ERRORS=$werror" >/dev/null || return 1
  # Building runs the test binaries too (test discovery), so it needs the same environment.
  "${no_aslr[@]}" cmake --build "$dir" -j"$jobs" --target "$target" || return 1
  rm -rf "$reports"
  mkdir -p "$reports"
  local status=0 tsan_options="log_path=$reports/report:halt_on_error=1:second_deadlock_stack=1"
  if [ -f tests/tsan.supp ]; then tsan_options+=":suppressions=$PWD/tests/tsan.supp"; fi
  ASAN_OPTIONS="log_path=$reports/report:halt_on_error=1:detect_leaks=1" \
    UBSAN_OPTIONS="log_path=$reports/report:halt_on_error=1:print_stacktrace=1" \
    TSAN_OPTIONS="$tsan_options" \
    "${no_aslr[@]}" ctest --test-dir "$dir" -L "$labels" --output-on-failure --no-tests=error || status=1
  local report
  for report in "$reports"/*; do
    [ -e "$report" ] || continue
    echo "==> $tier: sanitizer report $report (its start; template names cut short)" >&2
    head -n 40 "$report" | cut -c1-240 >&2
    status=1
  done
  return "$status"
}

# Each libFuzzer target runs briefly from its committed seeds (tests/fuzz/corpus/<name>), on a
# scratch copy so the repository is never written to. Any crash, leak or sanitizer report fails it.
fuzz_tier() {
  local dir=${FUZZ_BUILD_DIR:-build-fuzz} seconds=${FUZZ_SMOKE_SECONDS:-30} status=0 name work
  SETUP_EXTRA_PACKAGES="clang libclang-rt-14-dev" bash scripts/setup.sh || return 1
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ -DDOCKERFLOW_FUZZ=ON \
    -DDOCKERFLOW_BUILD_TESTS=OFF >/dev/null || return 1
  cmake --build "$dir" -j"$jobs" --target config_fuzzer version_fuzzer mozlog_fuzzer request_fuzzer || return 1
  local root=$PWD
  for name in config version mozlog request; do
    work=$(mktemp -d)
    mkdir "$work/corpus"
    echo "==> fuzz: ${name}_fuzzer for ${seconds} s"
    # Run inside the scratch directory: crash artifacts land there, not in the checkout.
    # shellcheck disable=SC2046  # tests/fuzz/<name>.flags holds the target's own libFuzzer flags
    if ! (cd "$work" && "$root/$dir/tests/fuzz/${name}_fuzzer" -max_total_time="$seconds" -rss_limit_mb=2048 \
      -print_final_stats=1 $(cat "$root/tests/fuzz/$name.flags" 2>/dev/null) "$work/corpus" \
      "$root/tests/fuzz/corpus/$name" 2>"$work/log"); then
      tail -n 40 "$work/log" >&2
      status=1
    fi
    grep -E '^(Done|stat::number_of_executed_units)' "$work/log" || true
    rm -rf "$work"
  done
  return "$status"
}

# UBSan makes g++ slow at -O2: a test file compiles in 39 s with ASan+UBSan at -O2, 22 s at -O1 and
# 8 s without sanitizers; TSan costs little (9 s at -O2). So the asan tree builds at -O1, which
# ASan's own advice finds fast enough to run.
run_tier() {
  case $1 in
    asan) sanitizer_tier asan "${ASAN_BUILD_DIR:-build-asan}" DOCKERFLOW_SANITIZERS all '^(unit|integration)$' \
      "-O1 -g -DNDEBUG" ;;
    tsan) sanitizer_tier tsan "${TSAN_BUILD_DIR:-build-tsan}" DOCKERFLOW_TSAN dockerflow_concurrency_tests \
      '^(unit|concurrency)$' "-O2 -g -DNDEBUG" ;;
    fuzz) fuzz_tier ;;
    *) ctest --test-dir "$build" -L "^${1}\$" --output-on-failure --no-tests=error ;;
  esac
}

failed=()
for tier in $tiers; do
  echo "==> test tier: $tier"
  start=$SECONDS
  if ! run_tier "$tier"; then
    failed+=("$tier")
  fi
  echo "==> test tier: $tier took $((SECONDS - start)) s"
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED tiers: ${failed[*]}" >&2
  exit 1
fi
echo "all test tiers passed: $tiers"
