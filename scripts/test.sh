#!/usr/bin/env bash
# `make test`: every tier. A tier that fails does not hide the others.
#
# The tiers run in three lanes at once, because most of the time of a cold run is either compiling
# (CPU) or waiting on a Docker engine, sleeps and timeouts (no CPU), and a 2-core machine can overlap
# the two:
#   builds  every tree the chosen tiers need, one after another, at a lower CPU priority (nice 10)
#           so that they take only what the timed tests leave: build (main), build-asan, build-tsan,
#           build-fuzz
#   host    the tiers that run on this machine, one at a time, each as soon as its tree is built:
#           unit, integration, example, asan, tsan, fuzz
#   docker  the tiers that drive the Docker engine, one at a time: container, delivery (their first
#           step, the image build, runs in the engine while the host trees compile)
# Suites that time answers against bounds (lbheartbeat p99 under 50 ms, heartbeats within the check
# deadline) never run beside each other: integration, asan and tsan on the host and the delivery
# tests labelled `timed` (the integration tier inside the CI image) each hold the lock file
# build/test-lanes/timed.lock while they run.
# The sanitizer tiers run tests from their own trees:
#   asan  the unit and integration tiers under AddressSanitizer + UndefinedBehaviorSanitizer
#   tsan  the unit tier and the integration tests labelled `concurrency` (those that flood, drain,
#         stop past hung checks or run several loop threads) under ThreadSanitizer
# Each lane's lines are prefixed with its name; the end prints every tier's result and time.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
tiers=${TEST_TIERS:-unit integration example container delivery asan tsan fuzz}
jobs=${JOBS:-2}
if [ "${CI:-}" = true ]; then werror=${WERROR:-ON}; else werror=${WERROR:-OFF}; fi
fuzz_targets=(config version mozlog request)
# Every tier's ctest: a failure prints its output; a selection that matches nothing fails.
ctest=(ctest --output-on-failure --no-tests=error)

# gcc 12's TSan runtime dies with "FATAL: ThreadSanitizer: unexpected memory mapping" on kernels that
# randomise mmap with more than 28 bits (vm.mmap_rnd_bits). Running without ASLR avoids that for this
# process tree only, with no system setting changed. Docker's default seccomp profile refuses the
# personality call, so use it only where it works.
no_aslr=()
if setarch "$(uname -m)" -R true 2>/dev/null; then
  no_aslr=(setarch "$(uname -m)" -R)
fi

selected() { [[ " $tiers " == *" $1 "* ]]; }

# --- trees ---------------------------------------------------------------------------------------
# UBSan makes g++ slow at -O2: a test file compiles in 39 s with ASan+UBSan at -O2, 22 s at -O1 and
# 8 s without sanitizers; TSan costs little (9 s at -O2). So the asan tree builds at -O1, which
# ASan's own advice finds fast enough to run.
tree_dir() {
  case $1 in
    main) echo "$build" ;;
    asan) echo "${ASAN_BUILD_DIR:-build-asan}" ;;
    tsan) echo "${TSAN_BUILD_DIR:-build-tsan}" ;;
    fuzz) echo "${FUZZ_BUILD_DIR:-build-fuzz}" ;;
  esac
}

# Each tree is configured once per run, the first time it is needed (the main tree before the lanes
# start: the docker lane's tiers run from its CTest files).
configure_tree() {
  local dir
  dir=$(tree_dir "$1")
  [ -f "$state/$1.configured" ] && return 0
  case $1 in
    main) cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DDOCKERFLOW_WARNINGS_AS_ERRORS=$werror" ;;
    asan) cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g -DNDEBUG" \
      -DDOCKERFLOW_SANITIZERS=ON "-DDOCKERFLOW_WARNINGS_AS_ERRORS=$werror" ;;
    tsan) cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g -DNDEBUG" \
      -DDOCKERFLOW_TSAN=ON "-DDOCKERFLOW_WARNINGS_AS_ERRORS=$werror" ;;
    fuzz) cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ -DDOCKERFLOW_FUZZ=ON \
      -DDOCKERFLOW_BUILD_TESTS=OFF ;;
  esac
  touch "$state/$1.configured"
}

build_targets() {
  case $1 in
    main | asan) echo all ;;
    tsan) echo dockerflow_concurrency_tests ;;
    fuzz) printf '%s_fuzzer ' "${fuzz_targets[@]}" ;;
  esac
}

# nice alone orders processes only within one scheduling group, and where the kernel groups them by
# session (autogroup) a compile would still take half the CPU from tests in another session (the
# Docker engine's containers). So the command gets a session of its own whose group is niced too.
low_priority() {
  setsid bash -c 'echo 10 >/proc/self/autogroup 2>/dev/null || true; exec nice -n 10 "$@"' low_priority "$@" &
  local pid=$! status=0
  # An interrupted lane stops the command's session as well, while the command runs.
  trap 'kill -- -"$pid" 2>/dev/null' INT TERM
  wait "$pid" || status=$?
  trap - INT TERM
  return "$status"
}

# Building runs the test binaries too (test discovery), so it needs the tests' environment.
build_tree() {
  local targets
  read -r -a targets <<<"$(build_targets "$1")"
  configure_tree "$1" >/dev/null &&
    low_priority "${no_aslr[@]}" cmake --build "$(tree_dir "$1")" -j"$jobs" --target "${targets[@]}"
}

tree_of() {
  case $1 in
    unit | integration | example) echo main ;;
    asan | tsan | fuzz) echo "$1" ;;
  esac
}

# --- tiers ---------------------------------------------------------------------------------------
# Every sanitizer report goes to a file of its own (log_path=<dir>/report.<pid>), from the test
# runners and from every app they start (the harness passes *SAN_OPTIONS on), and the tier fails if
# any file exists. Exit codes alone would miss reports: the app ends with std::_Exit, which skips
# TSan's exit-time status and LeakSanitizer, and a test that kills the app never reads its status.
sanitizer_tier() {
  local tier=$1 labels=$2 dir reports
  dir=$(tree_dir "$tier")
  reports="$PWD/$dir/sanitizer-reports"
  rm -rf "$reports"
  mkdir -p "$reports"
  local status=0 tsan_options="log_path=$reports/report:halt_on_error=1:second_deadlock_stack=1"
  if [ -f tests/tsan.supp ]; then tsan_options+=":suppressions=$PWD/tests/tsan.supp"; fi
  ASAN_OPTIONS="log_path=$reports/report:halt_on_error=1:detect_leaks=1" \
    UBSAN_OPTIONS="log_path=$reports/report:halt_on_error=1:print_stacktrace=1" \
    TSAN_OPTIONS="$tsan_options" \
    exclusively "${no_aslr[@]}" "${ctest[@]}" --test-dir "$dir" -L "$labels" || status=1
  local report
  for report in "$reports"/*; do
    [ -e "$report" ] || continue
    echo "==> $tier: sanitizer report $report (its start; template names cut short)" >&2
    head -n 40 "$report" | cut -c1-240 >&2
    status=1
  done
  return "$status"
}

# One libFuzzer target from its committed seeds (tests/fuzz/corpus/<name>), in a scratch directory
# so the repository is never written to and crash artifacts land there. Any crash, leak or
# sanitizer report fails it.
fuzz_smoke() {
  local name=$1 seconds=${FUZZ_SMOKE_SECONDS:-30} root=$PWD work status=0
  work=$(mktemp -d)
  mkdir "$work/corpus"
  # shellcheck disable=SC2046  # tests/fuzz/<name>.flags holds the target's own libFuzzer flags
  (cd "$work" && low_priority "$root/$(tree_dir fuzz)/tests/fuzz/${name}_fuzzer" -max_total_time="$seconds" \
    -rss_limit_mb=2048 -print_final_stats=1 $(cat "$root/tests/fuzz/$name.flags" 2>/dev/null) "$work/corpus" \
    "$root/tests/fuzz/corpus/$name" 2>"$work/log") || status=1
  if [ "$status" -ne 0 ]; then tail -n 40 "$work/log" >&2; fi
  echo "==> fuzz: ${name}_fuzzer, ${seconds} s: $(grep -E '^stat::number_of_executed_units' "$work/log" || echo 'no stats')"
  rm -rf "$work"
  return "$status"
}

# The targets run two at a time, one per core of the usual 2-core machine, at the builds' priority:
# a smoke run is bounded by time, so it yields to the timed suites of the Docker lane.
fuzz_tier() {
  local status=0 i
  for ((i = 0; i < ${#fuzz_targets[@]}; i += 2)); do
    fuzz_smoke "${fuzz_targets[i]}" &
    local first=$!
    if ((i + 1 < ${#fuzz_targets[@]})); then fuzz_smoke "${fuzz_targets[i + 1]}" || status=1; fi
    wait "$first" || status=1
  done
  return "$status"
}

# The Docker lane's suites that time answers carry the label `timed` (the CI test job's integration
# run); only they wait for the lock.
delivery_tier() {
  local status=0
  "${ctest[@]}" --test-dir "$build" -L '^delivery$' -LE '^timed$' || status=1
  exclusively "${ctest[@]}" --test-dir "$build" -L '^delivery$' -L '^timed$' || status=1
  return "$status"
}

run_tier() {
  case $1 in
    integration) exclusively "${ctest[@]}" --test-dir "$build" -L '^integration$' ;;
    delivery) delivery_tier ;;
    asan) sanitizer_tier asan '^(unit|integration)$' ;;
    tsan) sanitizer_tier tsan '^(unit|concurrency)$' ;;
    fuzz) fuzz_tier ;;
    *) "${ctest[@]}" --test-dir "$build" -L "^${1}\$" ;;
  esac
}

# --- lanes ---------------------------------------------------------------------------------------
# Lanes talk through files in $state: <tree>.built holds a tree's build status, <tier>.result a
# tier's status and time.
state=$build/test-lanes
builds_pid=

# Runs a command holding the timed suites' lock. flock holds it itself (-o: the command does not
# inherit the descriptor), so a server the command leaves running cannot keep it.
exclusively() {
  # shellcheck disable=SC2016  # expanded by the inner shell
  flock -o "$state/timed.lock" bash -c 'echo "==> timed suites lock taken after $(($(date +%s) - $1)) s"; shift; exec "$@"' \
    exclusively "$(date +%s)" "$@"
}

record() { # tier status seconds
  echo "$2 $3" >"$state/$1.result"
  echo "==> test tier: $1 $([ "$2" -eq 0 ] && echo passed || echo FAILED) in $3 s"
}

timed_tier() {
  local tier=$1 start=$SECONDS status=0
  echo "==> test tier: $tier"
  run_tier "$tier" || status=$?
  record "$tier" "$status" $((SECONDS - start))
}

builds_lane() {
  local tree tier status start
  for tree in main asan tsan fuzz; do
    for tier in $tiers; do
      [ "$(tree_of "$tier")" = "$tree" ] || continue
      echo "==> build: $(tree_dir "$tree")"
      start=$SECONDS status=0
      build_tree "$tree" || status=$?
      echo "$status" >"$state/$tree.built"
      echo "==> build: $(tree_dir "$tree") $([ "$status" -eq 0 ] && echo 'done' || echo FAILED) in $((SECONDS - start)) s"
      break
    done
  done
}

# A builds lane that ended without writing the file (killed) counts as a failed build.
wait_for_tree() {
  local file=$state/$1.built
  until [ -f "$file" ]; do
    kill -0 "$builds_pid" 2>/dev/null || { sleep 1; break; }
    sleep 1
  done
  [ -f "$file" ] && [ "$(cat "$file")" -eq 0 ]
}

host_lane() {
  local tier
  for tier in unit integration example asan tsan fuzz; do
    selected "$tier" || continue
    if wait_for_tree "$(tree_of "$tier")"; then
      timed_tier "$tier"
    else
      record "$tier" 1 0
      echo "==> test tier: $tier not run: its tree $(tree_dir "$(tree_of "$tier")") did not build" >&2
    fi
  done
}

docker_lane() {
  local tier
  for tier in container delivery; do
    if selected "$tier"; then timed_tier "$tier"; fi
  done
}

check_tiers() {
  local tier
  for tier in $tiers; do
    case $tier in
      unit | integration | example | container | delivery | asan | tsan | fuzz) ;;
      *) echo "TEST_TIERS: unknown tier '$tier' (known: unit integration example container delivery asan tsan fuzz)" >&2
        exit 2 ;;
    esac
  done
}

main() {
  check_tiers
  rm -rf "$state"
  mkdir -p "$state"
  # Packages first: two lanes installing at once would contend for dpkg's lock.
  if selected fuzz; then SETUP_EXTRA_PACKAGES="clang libclang-rt-14-dev" bash scripts/setup.sh; fi
  # The docker lane's tiers run from the main tree's CTest files, which exist once it is configured.
  configure_tree main >/dev/null

  local started=$SECONDS docker_pid
  # An interrupted run stops its lanes too.
  trap 'kill $(jobs -p) 2>/dev/null; exit 130' INT TERM
  # Every line of a lane carries its name; $! is the lane itself, not its prefixing sed.
  builds_lane > >(sed -u 's/^/[builds] /') 2>&1 &
  builds_pid=$!
  docker_lane > >(sed -u 's/^/[docker] /') 2>&1 &
  docker_pid=$!
  host_lane
  wait "$builds_pid" "$docker_pid" || true

  summary "$((SECONDS - started))"
}

summary() {
  local failed=() tier status seconds
  echo "==> test tiers (wall time $1 s):"
  for tier in $tiers; do
    if [ -f "$state/$tier.result" ]; then read -r status seconds <"$state/$tier.result"; else status=1 seconds=0; fi
    printf '    %-12s %-7s %5s s\n' "$tier" "$([ "$status" -eq 0 ] && echo passed || echo FAILED)" "$seconds"
    [ "$status" -eq 0 ] || failed+=("$tier")
  done
  if [ ${#failed[@]} -gt 0 ]; then
    echo "FAILED tiers: ${failed[*]}" >&2
    exit 1
  fi
  echo "all test tiers passed: $tiers"
}

main
