#!/usr/bin/env bash
# The benchmarks of docs/benchmarks.md in one run (make bench). The service (DOCKERFLOW_THREADS=1)
# and nginx (one worker) are pinned to CPU 0, wrk (one thread) runs on CPU 1, over loopback, with
# real local PostgreSQL and Redis. Each figure is the median of BENCH_ROUNDS rounds; within a round
# the compared runs alternate, and their order flips from one round to the next.
#   1. CPU time per request (utime + stime of the whole server process over the run / requests),
#      requests/s and p99 beside nginx: /__lbheartbeat__ and /__version__ without per-request logs,
#      /__lbheartbeat__ with them (the service's mozlog line; nginx's JSON access log, same fields).
#   2. /__heartbeat__ (Postgres + Redis, heartbeat cache at its default) against /__lbheartbeat__.
#   3. /__lbheartbeat__ p99 at half of its peak rate while Redis is SIGSTOPped and heartbeats flood.
#   4. DOCKERFLOW_THREADS=1 against 2, pinned and unpinned.
#   5. Memory: RSS idle, after load, peak; anonymous against file-backed; the largest file mappings.
#   6. Start-up: exec to the first 200 of /__lbheartbeat__ (bench/startup.py).
#   7. The image's size, when the image is here.
# The Markdown report goes to stdout and to $BENCH_RESULTS_DIR/<time>.md, beside the per-round data;
# the CPU chart to $BENCH_PLOT. Progress goes to stderr. Loopback only; every run is bounded; every
# process started here is stopped on exit.
#
# Environment (defaults): DOCKERFLOW_APP (build/dockerflow-app), BENCH_DURATION (4s, per run),
# BENCH_ROUNDS (3), BENCH_CONNECTIONS (64), BENCH_FLOOD_CONNECTIONS (8), BENCH_STARTS (20),
# BENCH_THREADS_LOG_LEVELS ("warning info"), BENCH_RESULTS_DIR (bench/results),
# BENCH_PLOT (docs/benchmarks.png), DOCKERFLOW_IMAGE (dockerflow-app:dev).
set -euo pipefail
cd "$(dirname "$0")/.."
# Followed with shellcheck -x (as the delivery tier runs it); plain shellcheck only notes it.
# shellcheck source=scripts/local-services.sh disable=SC1091
source scripts/local-services.sh

duration=${BENCH_DURATION:-4s}
rounds=${BENCH_ROUNDS:-3}
connections=${BENCH_CONNECTIONS:-64}
flood_connections=${BENCH_FLOOD_CONNECTIONS:-8}
starts=${BENCH_STARTS:-20}
thread_log_levels=${BENCH_THREADS_LOG_LEVELS:-warning info}
results_dir=${BENCH_RESULTS_DIR:-bench/results}
plot=${BENCH_PLOT:-docs/benchmarks.png}
image=${DOCKERFLOW_IMAGE:-dockerflow-app:dev}
version_file=$(realpath "${DOCKERFLOW_VERSION_FILE:-version.json}")
app=${DOCKERFLOW_APP:-build/dockerflow-app}

note() { echo "bench: $*" >&2; }
die() { note "$*"; exit 1; }

[ -x "$app" ] || die "no executable at $app (make build, or set DOCKERFLOW_APP)"
app=$(realpath "$app")
case $duration in
  *m) secs=$((${duration%m} * 60)) ;;
  *s) secs=${duration%s} ;;
  *) secs=$duration duration=${duration}s ;;
esac
[[ $secs =~ ^[1-9][0-9]*$ ]] || die "BENCH_DURATION=$duration: expected whole seconds (4, 4s) or minutes (1m)"
for knob in rounds connections flood_connections starts; do
  [[ ${!knob} =~ ^[1-9][0-9]*$ ]] || die "$knob=${!knob}: expected a positive integer"
done
[ "$(nproc)" -ge 2 ] || die "needs two CPUs: the server on CPU 0, wrk on CPU 1"

need=()
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || need+=(nginx-light)
command -v gnuplot >/dev/null || need+=(gnuplot-nox)
command -v pgrep >/dev/null || need+=(procps)
command -v curl >/dev/null || need+=(curl)
command -v python3 >/dev/null || need+=(python3)
if [ ${#need[@]} -gt 0 ]; then
  [ "$(id -u)" -eq 0 ] || die "install ${need[*]}"
  note "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq "${need[@]}" >/dev/null 2>&1 ||
    { apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null; }
fi

work=$(mktemp -d /tmp/dockerflow-bench.XXXXXX)
chmod 755 "$work" # nginx's worker runs as nobody
mkdir -p "$work/raw" "$work/www" "$work/headers" "$work/nginx-tmp"
app_pids=() bg_pids=() nginx_pid="" redis_stopped=""
cleanup() {
  local pid
  set +e
  # A stopped Redis would ignore the SIGTERM of stop_local_services, and its wait would never return.
  [ -n "$redis_stopped" ] && kill -CONT "$LOCAL_REDIS_PID" 2>/dev/null
  for pid in "${bg_pids[@]}" "${app_pids[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${bg_pids[@]}" "${app_pids[@]}"; do wait "$pid" 2>/dev/null; done
  if [ -n "$nginx_pid" ]; then
    kill -QUIT "$nginx_pid" 2>/dev/null
    wait "$nginx_pid" 2>/dev/null
  fi
  stop_local_services
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

clk_tck=$(getconf CLK_TCK)
rounds_tsv=$work/rounds.tsv
printf 'section\trow\tserver\tround\trequests\trequests_per_s\tp99_ms\tcpu_us_per_request\tnon_2xx\tsocket_errors\tlog_lines\n' >"$rounds_tsv"
load_at_start=$(cut -d' ' -f1-3 /proc/loadavg)

wait_port() { for _ in $(seq 1 200); do port_is_free "$1" || return 0; sleep 0.025; done; return 1; }

# start_app <cpus> <threads> <LOG_LEVEL> <stdout file>: the service with both checks configured and
# the drain off, so that stopping it between runs is instant. Sets app_pid and app_port.
start_app() {
  app_port=$(free_port)
  env DATABASE_URL="$DATABASE_URL" REDIS_URL="$REDIS_URL" PORT="$app_port" HOST=127.0.0.1 LOG_LEVEL="$3" \
    DOCKERFLOW_VERSION_FILE="$version_file" DOCKERFLOW_THREADS="$2" DOCKERFLOW_DRAIN_SECONDS=0 \
    taskset -c "$1" "$app" >>"$4" 2>&1 &
  app_pid=$!
  app_pids+=("$app_pid")
  wait_port "$app_port" || die "the service did not listen on $app_port: $(tail -n 3 "$4")"
}
stop_app() {
  local pid kept=()
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  for pid in "${app_pids[@]}"; do [ "$pid" = "$1" ] || kept+=("$pid"); done
  app_pids=("${kept[@]}")
}

# utime + stime (clock ticks) of the given processes, all their threads, live and exited.
cpu_ticks() {
  local pid total=0
  for pid; do total=$((total + $(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$pid/stat"))); done
  echo "$total"
}

# "requests requests/s p99_ms non_2xx socket_errors" from a file of wrk --latency output.
parse_wrk() {
  awk 'function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v + 0 }
    / requests in / { n = $1 }
    /^Requests\/sec/ { rps = $2 }
    /^ +99%/ { p99 = ms($2) }
    /Non-2xx/ { bad = $NF }
    /Socket errors/ { gsub(/,/, ""); errors = $4 + $6 + $8 + $10 }
    END { printf "%d %.0f %.3f %d %d\n", n, rps, p99, bad, errors }' "$1"
}

# run_wrk <raw file> <cpus> <connections> <seconds> <url> [wrk options…]: one bounded wrk run.
run_wrk() {
  local raw=$1 cpus=$2 conns=$3 seconds=$4 url=$5
  shift 5
  timeout -k 2 $((seconds + 20)) taskset -c "$cpus" wrk -t1 -c"$conns" -d"${seconds}s" --latency "$@" "$url" \
    >"$raw" 2>&1 || die "wrk on $url failed: $(tail -n 3 "$raw")"
  # wrk reports a script it cannot load or run, then goes on without it.
  if grep -qE 'cannot open|stack traceback|\.lua:[0-9]+:' "$raw"; then die "wrk's script failed: $(head -n 3 "$raw")"; fi
}

# measure <section> <row> <server> <round> <wrk cpus> <url> <log file or -> <pid…>: one wrk run of
# $duration with $connections (plus the options in wrk_options), the CPU time of the pids across it;
# appends a line to rounds.tsv. With a log file, counts the request.summary lines the run wrote.
wrk_options=()
raw_runs=0
measure() {
  local section=$1 row=$2 server=$3 round=$4 cpus=$5 url=$6 log=$7
  shift 7
  local raw before after requests rps p99 bad errors cpu_us lines=0
  raw_runs=$((raw_runs + 1))
  raw=$work/raw/$raw_runs
  note "$section: $row, $server, round $round"
  [ "$log" = - ] || : >"$log"
  before=$(cpu_ticks "$@")
  run_wrk "$raw" "$cpus" "$connections" "$secs" "$url" "${wrk_options[@]}"
  after=$(cpu_ticks "$@")
  read -r requests rps p99 bad errors < <(parse_wrk "$raw")
  cpu_us=$(awk -v t=$((after - before)) -v hz="$clk_tck" -v n="$requests" 'BEGIN { printf "%.3f", n ? t * 1e6 / hz / n : 0 }')
  if [ "$log" != - ]; then
    sleep 0.3 # the service's log writer is a thread of its own; let it catch up
    lines=$(grep -c '"request.summary"' "$log" || true)
    grep -m 1 '"request.summary"' "$log" >"$log.sample" || true
    : >"$log"
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$section" "$row" "$server" "$round" "$requests" "$rps" \
    "$p99" "$cpu_us" "$bad" "$errors" "$lines" >>"$rounds_tsv"
}

col_requests=5 col_rps=6 col_p99=7 col_cpu=8 col_bad=9 col_errors=10 col_lines=11
# median <section> <row> <server> <column>: the median over the rounds of that column.
median() {
  awk -F'\t' -v s="$1" -v r="$2" -v v="$3" -v c="$4" '$1 == s && $2 == r && $3 == v { print $c }' "$rounds_tsv" |
    sort -g | awk '{ x[NR] = $1 } END { if (NR == 0) print "n/a"; else if (NR % 2) print x[(NR + 1) / 2]; else print (x[NR / 2] + x[NR / 2 + 1]) / 2 }'
}
# total <section> <row> <server> <column>: the sum over the rounds.
total() {
  awk -F'\t' -v s="$1" -v r="$2" -v v="$3" -v c="$4" '$1 == s && $2 == r && $3 == v { t += $c } END { print t + 0 }' "$rounds_tsv"
}
fmt() { awk -v x="$1" -v f="$2" 'BEGIN { if (x == "n/a") print x; else printf f, x }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "n/a" || b == "n/a" || b == 0) print "n/a"; else printf "%.2f", a / b }'; }
# meets <value> <op> <goal>: "met" or "not met"
meets() { awk -v x="$1" -v g="$3" -v op="$2" 'BEGIN { ok = (op == ">=" ? x >= g : x < g); print (x != "n/a" && ok) ? "met" : "not met" }'; }

kb() { awk -v k="$2" '$1 == k":" { print $2 }' "$1"; }
# memory_snapshot <pid> <prefix>: status and smaps_rollup copied for later
memory_snapshot() {
  cp "/proc/$1/status" "$work/$2.status"
  cp "/proc/$1/smaps_rollup" "$work/$2.smaps_rollup"
}

# nginx_location <path>: an nginx location answering as the service just did on <path>: its status,
# Content-Type, body bytes and headers (X-Request-ID from $request_uuid, as a UUID).
nginx_location() {
  local path=$1 status type name value lower body
  curl -sS --max-time 5 -D "$work/headers$path" -o "$work/www$path" "http://127.0.0.1:$quiet_port$path"
  status=$(awk 'NR == 1 { print $2 }' "$work/headers$path")
  [ "$status" = 200 ] || die "the service answered $status on $path"
  type=$(awk -F': ' 'tolower($1) == "content-type" { sub(/\r$/, "", $2); print $2 }' "$work/headers$path")
  echo "location = $path {"
  echo "  default_type \"$type\";"
  while IFS= read -r line; do
    line=${line%$'\r'}
    [[ $line == *:* ]] || continue
    name=${line%%:*} value=${line#*: } lower=${name,,}
    case $lower in
      content-type | content-length | date | server | connection | keep-alive | transfer-encoding) continue ;;
      x-request-id) value=\$request_uuid ;; # an nginx variable
      *) [[ $value =~ [\"\$\\] ]] && { note "nginx: header $name not copied (quote, \$ or backslash)"; continue; } ;;
    esac
    echo "  add_header $name \"$value\" always;"
  done < <(tail -n +2 "$work/headers$path")
  # The body in the configuration, when nginx's quoting allows it: served from memory as the service
  # does, without a static file's Last-Modified, ETag and Accept-Ranges.
  body=$(<"$work/www$path")
  if [ ! -s "$work/www$path" ]; then
    echo "  return 200;"
  elif [[ $body != *[\'\$\\]* ]] && cmp -s <(printf '%s' "$body") "$work/www$path"; then
    echo "  return 200 '$body';"
  else
    echo "  etag off;"
    echo "  alias $work/www$path;"
  fi
  echo "}"
}

# --- set-up -----------------------------------------------------------------------------------------
start_local_postgres >&2
start_local_redis >&2
start_app 0 1 warning "$work/app-quiet.log"
quiet_pid=$app_pid quiet_port=$app_port
memory_snapshot "$quiet_pid" idle # before any request

for path in /__lbheartbeat__ /__version__; do nginx_location "$path"; done >"$work/locations.conf"
nginx_port=$(free_port)
nginx_logged_port=$(free_port)
conf=$(<bench/nginx.conf.in)
conf=${conf//@WORK@/$work}
conf=${conf//@PORT_QUIET@/$nginx_port}
conf=${conf//@PORT_LOGGED@/$nginx_logged_port}
printf '%s\n' "$conf" >"$work/nginx.conf"
nginx -q -t -e "$work/nginx-error.log" -c "$work/nginx.conf" || die "nginx: $(tail -n 3 "$work/nginx-error.log")"
taskset -c 0 nginx -e "$work/nginx-error.log" -c "$work/nginx.conf" &
nginx_pid=$!
{ wait_port "$nginx_port" && wait_port "$nginx_logged_port"; } || die "nginx did not start: $(tail -n 3 "$work/nginx-error.log")"
mapfile -t nginx_workers < <(pgrep -P "$nginx_pid")
[ ${#nginx_workers[@]} -ge 1 ] || die "nginx has no worker process"
for port in "$nginx_port" "$nginx_logged_port"; do
  for path in /__lbheartbeat__ /__version__; do
    curl -sS --max-time 5 -o "$work/nginx-body" "http://127.0.0.1:$port$path"
    cmp -s "$work/nginx-body" "$work/www$path" || die "nginx's $path differs from the service's"
  done
done
: >"$work/nginx-access.log"

start_app 0 1 info "$work/app-info.log"
logged_pid=$app_pid logged_port=$app_port

# --- 1. CPU per request beside nginx --------------------------------------------------------------
cpu_rows=("/__lbheartbeat__, logs off" "/__version__, logs off" "/__lbheartbeat__, logs on")
for round in $(seq 1 "$rounds"); do
  for row in "${cpu_rows[@]}"; do
    path=${row%%,*}
    order=(service nginx)
    [ $((round % 2)) -eq 1 ] || order=(nginx service)
    for server in "${order[@]}"; do
      if [ "$server" = service ]; then
        if [[ $row == *"logs on" ]]; then
          measure cpu "$row" service "$round" 1 "http://127.0.0.1:$logged_port$path" "$work/app-info.log" "$logged_pid"
        else
          measure cpu "$row" service "$round" 1 "http://127.0.0.1:$quiet_port$path" - "$quiet_pid"
        fi
      elif [[ $row == *"logs on" ]]; then
        measure cpu "$row" nginx "$round" 1 "http://127.0.0.1:$nginx_logged_port$path" "$work/nginx-access.log" \
          "$nginx_pid" "${nginx_workers[@]}"
      else
        measure cpu "$row" nginx "$round" 1 "http://127.0.0.1:$nginx_port$path" - "$nginx_pid" "${nginx_workers[@]}"
      fi
    done
  done
done
stop_app "$logged_pid"

# --- 2. /__heartbeat__ against /__lbheartbeat__ ------------------------------------------------------
heartbeat_answer=$(curl -sS --max-time 5 -w ' (HTTP %{http_code})' "http://127.0.0.1:$quiet_port/__heartbeat__" 2>&1 || true)
for round in $(seq 1 "$rounds"); do
  order=(/__lbheartbeat__ /__heartbeat__)
  [ $((round % 2)) -eq 1 ] || order=(/__heartbeat__ /__lbheartbeat__)
  for path in "${order[@]}"; do
    measure heartbeat "$path" service "$round" 1 "http://127.0.0.1:$quiet_port$path" - "$quiet_pid"
  done
done

# --- 3. /__lbheartbeat__ at half of peak, Redis stopped, heartbeats flooding ----------------------------
# wrk's delay() is per request; N connections that each wait d ms send about N * 1000 / (d + latency)
# requests a second, and wrk's timers round to whole milliseconds. Up to three 1 s calibration runs
# (no fault yet) correct d until the rate is within 5% of the target.
peak=$(median heartbeat /__lbheartbeat__ service $col_rps)
target=$(awk -v p="$peak" 'BEGIN { printf "%.0f", p / 2 }')
delay=$(awk -v n="$connections" -v t="$target" 'BEGIN { printf "%.4f", n * 1000 / t }')
for attempt in 1 2 3; do
  note "fault: calibrating the rate ($target requests/s), $attempt"
  export BENCH_DELAY_MS=$delay
  run_wrk "$work/raw/calibration-$attempt" 1 "$connections" 1 "http://127.0.0.1:$quiet_port/__lbheartbeat__" \
    -s "$PWD/bench/rate.lua"
  read -r _ calibrated _ < <(parse_wrk "$work/raw/calibration-$attempt")
  awk -v a="$calibrated" -v t="$target" 'BEGIN { exit !(a > 0.95 * t && a < 1.05 * t) }' && break
  delay=$(awk -v d="$delay" -v a="$calibrated" -v t="$target" 'BEGIN { printf "%.4f", (a > 0 ? d * a / t : d) }')
done
export BENCH_DELAY_MS=$delay
wrk_options=(-s "$PWD/bench/rate.lua") # Debian's wrk does not open a relative script path
max_threads=0
for round in $(seq 1 "$rounds"); do
  redis_stopped=1
  kill -STOP "$LOCAL_REDIS_PID"
  timeout -k 2 $((secs + 20)) taskset -c 1 wrk -t1 -c"$flood_connections" -d"$duration" --timeout 10s --latency \
    "http://127.0.0.1:$quiet_port/__heartbeat__" >"$work/raw/flood-$round" 2>&1 &
  bg_pids+=("$!")
  (sleep "$(awk -v s="$secs" 'BEGIN { print s / 2 }')" && find "/proc/$quiet_pid/task" -mindepth 1 -maxdepth 1 | wc -l \
    >"$work/threads-$round") &
  bg_pids+=("$!")
  measure fault "/__lbheartbeat__ at half of peak" service "$round" 1 "http://127.0.0.1:$quiet_port/__lbheartbeat__" - \
    "$quiet_pid"
  wait "${bg_pids[@]}" || die "the heartbeat flood failed: $(tail -n 3 "$work/raw/flood-$round")"
  bg_pids=()
  kill -CONT "$LOCAL_REDIS_PID"
  redis_stopped=""
  read -r requests rps p99 bad errors < <(parse_wrk "$work/raw/flood-$round")
  printf 'fault\t/__heartbeat__ flood\tservice\t%s\t%s\t%s\t%s\t-\t%s\t%s\t0\n' "$round" "$requests" "$rps" "$p99" "$bad" \
    "$errors" >>"$rounds_tsv"
  threads=$(cat "$work/threads-$round")
  [ "$threads" -le "$max_threads" ] || max_threads=$threads
  # The next round starts from a healthy service: Redis answers again, the failure is out of the cache.
  for _ in $(seq 1 100); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$quiet_port/__heartbeat__")" = 200 ] && break
    sleep 0.1
  done
done
wrk_options=()
unset BENCH_DELAY_MS
memory_snapshot "$quiet_pid" loaded
top_mappings=$(awk '/^[0-9a-f]+-[0-9a-f]+ / { name = (NF >= 6 ? $6 : "") } /^Rss:/ && name ~ /^\// { rss[name] += $2 }
  END { for (n in rss) print rss[n], n }' "/proc/$quiet_pid/smaps" | sort -rn | head -n 8)
stop_app "$quiet_pid"

# --- 4. Loop threads ----------------------------------------------------------------------------------
# A second loop thread only adds throughput with a core of its own, and wrk needs one of the two. So
# each count runs pinned (service on CPU 0, wrk on CPU 1: two loops share a core) and unpinned (both
# free on every CPU: the scheduler splits them). Only rows of the same placement compare counts.
all_cpus="0-$(($(nproc) - 1))"
placements=("0 1" "$all_cpus $all_cpus")
for round in $(seq 1 "$rounds"); do
  for level in $thread_log_levels; do
    for placement in "${placements[@]}"; do
      read -r app_cpus wrk_cpus <<<"$placement"
      counts=(1 2)
      [ $((round % 2)) -eq 1 ] || counts=(2 1)
      for threads in "${counts[@]}"; do
        start_app "$app_cpus" "$threads" "$level" "$work/app-threads.log"
        measure threads "$threads $app_cpus $wrk_cpus $level" service "$round" "$wrk_cpus" \
          "http://127.0.0.1:$app_port/__lbheartbeat__" "$work/app-threads.log" "$app_pid"
        stop_app "$app_pid"
      done
    done
  done
done

# --- 6. Start-up ----------------------------------------------------------------------------------------
note "start-up: $starts starts"
startup_port=$(free_port)
env LOG_LEVEL=info DOCKERFLOW_THREADS=1 DOCKERFLOW_VERSION_FILE="$version_file" \
  timeout -k 2 $((starts * 6 + 10)) python3 bench/startup.py "$app" "$startup_port" "$starts" 0 1 >"$work/startup" ||
  die "start-up timing failed"
read -r startup_median startup_min startup_max < <(tail -n 1 "$work/startup")

# --- 7. Image -----------------------------------------------------------------------------------------
image_line="image: not built here (run make docker-build)"
if command -v docker >/dev/null && image_bytes=$(timeout 20 docker image inspect --format '{{.Size}}' "$image" 2>/dev/null); then
  image_line="image \`$image\`: $(awk -v b="$image_bytes" 'BEGIN { printf "%.1f MB (%d bytes); goal ≤ 40 MB: %s", b / 1e6, b, (b <= 40e6 ? "met" : "not met") }')"
fi

# --- report -------------------------------------------------------------------------------------------
stamp=$(date -u +%Y-%m-%dT%H%M%SZ)
mkdir -p "$results_dir"
report=$results_dir/$stamp.md
data=$results_dir/$stamp-cpu.dat
cp "$rounds_tsv" "$results_dir/$stamp-rounds.tsv"
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$(dirname "$app")/CMakeCache.txt" 2>/dev/null || true)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
inherited=$(env | grep -E '^DOCKERFLOW_' | grep -vE '^DOCKERFLOW_(APP|IMAGE|VERSION_FILE)=' | sort | paste -sd' ' - || true)

{
  echo "# dockerflow-app benchmarks, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "- machine: $(sed -n 's/^PRETTY_NAME="*\([^"]*\)"*$/\1/p' /etc/os-release), kernel $(uname -r), $(nproc) CPUs ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)); load average $load_at_start at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end"
  echo "- service: \`$app\` (${build_type:-build type unknown}, sha256 $(sha256sum "$app" | cut -c1-12)), tree at $commit; inherited settings: ${inherited:-none}"
  echo "- $(nginx -v 2>&1 | sed 's/^nginx version: //'), one worker; $(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2), one thread"
  echo "- medians of $rounds round$([ "$rounds" -eq 1 ] || echo s) of $duration, $connections connections; server on CPU 0, wrk on CPU 1, loopback; DOCKERFLOW_THREADS=1 unless stated; the service has DATABASE_URL and REDIS_URL set (local PostgreSQL and Redis)"
  echo
  echo "## CPU per request beside nginx"
  echo
  echo "CPU = utime + stime of the whole server process (all threads; for nginx master and worker) over the run, divided by the requests wrk completed."
  echo
  echo "| row | requests/s service | requests/s nginx | p99 service | p99 nginx | CPU µs/request service | CPU µs/request nginx | CPU ratio service/nginx |"
  echo "|---|---|---|---|---|---|---|---|"
  printf '# row\tdockerflow-app\tnginx\n' >"$data"
  for row in "${cpu_rows[@]}"; do
    s_rps=$(median cpu "$row" service $col_rps) n_rps=$(median cpu "$row" nginx $col_rps)
    s_p99=$(median cpu "$row" service $col_p99) n_p99=$(median cpu "$row" nginx $col_p99)
    s_cpu=$(median cpu "$row" service $col_cpu) n_cpu=$(median cpu "$row" nginx $col_cpu)
    echo "| $row | $(fmt "$s_rps" %.0f) | $(fmt "$n_rps" %.0f) | $(fmt "$s_p99" '%.2f ms') | $(fmt "$n_p99" '%.2f ms') | $(fmt "$s_cpu" %.2f) | $(fmt "$n_cpu" %.2f) | $(ratio "$s_cpu" "$n_cpu") |"
    printf '%s\t%s\t%s\n' "$row" "$s_cpu" "$n_cpu" >>"$data"
  done
  echo
  row="/__lbheartbeat__, logs on"
  for server in service nginx; do
    lines=$(total cpu "$row" "$server" $col_lines) requests=$(total cpu "$row" "$server" $col_requests)
    echo "- logs on, $server: $lines request.summary lines written for $requests requests ($(awk -v l="$lines" -v r="$requests" 'BEGIN { printf "%.1f%%", r ? 100 * l / r : 0 }'))"
  done
  echo "  (a little over 100%: wrk does not count the requests still in flight when it stops, the servers log them)"
  for server in service nginx; do
    bad=0
    for row in "${cpu_rows[@]}"; do bad=$((bad + $(total cpu "$row" "$server" $col_bad) + $(total cpu "$row" "$server" $col_errors))); done
    echo "- $server: $bad non-2xx answers or socket errors over all these runs"
  done
  echo "- a logged line of each:"
  echo
  echo '```'
  cat "$work/app-info.log.sample" "$work/nginx-access.log.sample" 2>/dev/null || true
  echo '```'
  echo
  echo "- logs off: service LOG_LEVEL=warning; nginx access_log off. Logs on: service LOG_LEVEL=info, stdout appended to a file; nginx a JSON access log with the same fields, to a file"
  echo "- nginx answers with the service's status, Content-Type, body bytes and headers ($(tail -n +2 "$work/headers/__lbheartbeat__" | cut -d: -f1 | grep -v '^\s*$' | paste -sd, - | sed 's/,/, /g')); it adds Server, Date and Connection"
  echo
  echo "## /__heartbeat__ against /__lbheartbeat__"
  echo
  echo "Real PostgreSQL and Redis, heartbeat cache at its default (DOCKERFLOW_HEARTBEAT_CACHE_MS unset), logs off. A heartbeat answered: \`$(head -c 300 <<<"$heartbeat_answer")\`"
  echo
  echo "| endpoint | requests/s | p99 | CPU µs/request | non-2xx |"
  echo "|---|---|---|---|---|"
  for path in /__lbheartbeat__ /__heartbeat__; do
    echo "| $path | $(fmt "$(median heartbeat "$path" service $col_rps)" %.0f) | $(fmt "$(median heartbeat "$path" service $col_p99)" '%.2f ms') | $(fmt "$(median heartbeat "$path" service $col_cpu)" %.2f) | $(total heartbeat "$path" service $col_bad) |"
  done
  hb_ratio=$(ratio "$(median heartbeat /__heartbeat__ service $col_rps)" "$peak")
  echo
  echo "Ratio /__heartbeat__ / /__lbheartbeat__ requests/s: $hb_ratio (goal ≥ 0.9: $(meets "$hb_ratio" ">=" 0.9))."
  echo
  echo "## /__lbheartbeat__ at half of peak while Redis is stopped and heartbeats flood"
  echo
  fault_row="/__lbheartbeat__ at half of peak"
  fault_p99=$(median fault "$fault_row" service $col_p99)
  echo "Peak /__lbheartbeat__ rate (above): $(fmt "$peak" %.0f)/s; target $target/s, from $connections connections each waiting $(fmt "$delay" %.2f) ms before each request (bench/rate.lua, calibrated without the fault first). Redis SIGSTOPped for each run while $flood_connections more connections flood /__heartbeat__ (wrk on CPU 1 too)."
  echo
  echo "| | requests/s | p99 | non-2xx |"
  echo "|---|---|---|---|"
  echo "| /__lbheartbeat__, rate-limited | $(fmt "$(median fault "$fault_row" service $col_rps)" %.0f) | $(fmt "$fault_p99" '%.2f ms') | $(total fault "$fault_row" service $col_bad) |"
  echo "| /__heartbeat__ flood | $(fmt "$(median fault "/__heartbeat__ flood" service $col_rps)" %.0f) | $(fmt "$(median fault "/__heartbeat__ flood" service $col_p99)" '%.2f ms') | $(total fault "/__heartbeat__ flood" service $col_bad) of $(total fault "/__heartbeat__ flood" service $col_requests) |"
  echo
  echo "p99 goal < 2 ms: $(meets "$fault_p99" "<" 2). The process had at most $max_threads threads mid-run. Flood socket errors (timeouts included): $(total fault "/__heartbeat__ flood" service $col_errors)."
  echo
  echo "## Loop threads (DOCKERFLOW_THREADS), /__lbheartbeat__"
  echo
  echo "Pinned: service on CPU 0, wrk on CPU 1, so two loops share one core. Unpinned: both free on CPUs $all_cpus, the scheduler splits them. Only rows of the same placement and log level compare thread counts."
  echo
  echo "| DOCKERFLOW_THREADS | service CPUs | wrk CPUs | LOG_LEVEL | requests/s | p99 | CPU µs/request |"
  echo "|---|---|---|---|---|---|---|"
  for level in $thread_log_levels; do
    for placement in "${placements[@]}"; do
      read -r app_cpus wrk_cpus <<<"$placement"
      for threads in 1 2; do
        row="$threads $app_cpus $wrk_cpus $level"
        echo "| $threads | $app_cpus | $wrk_cpus | $level | $(fmt "$(median threads "$row" service $col_rps)" %.0f) | $(fmt "$(median threads "$row" service $col_p99)" '%.2f ms') | $(fmt "$(median threads "$row" service $col_cpu)" %.2f) |"
      done
    done
  done
  echo
  echo "## Memory (the service of the first three sections, both checks configured)"
  echo
  echo "| | idle (after start, no request yet) | after the load above |"
  echo "|---|---|---|"
  echo "| VmRSS | $(kb "$work/idle.status" VmRSS) kB | $(kb "$work/loaded.status" VmRSS) kB |"
  echo "| VmHWM (peak) | $(kb "$work/idle.status" VmHWM) kB | $(kb "$work/loaded.status" VmHWM) kB |"
  idle_anon=$(kb "$work/idle.smaps_rollup" Anonymous) loaded_anon=$(kb "$work/loaded.smaps_rollup" Anonymous)
  echo "| anonymous (smaps_rollup) | $idle_anon kB | $loaded_anon kB |"
  echo "| file-backed (Rss − Anonymous) | $(($(kb "$work/idle.smaps_rollup" Rss) - idle_anon)) kB | $(($(kb "$work/loaded.smaps_rollup" Rss) - loaded_anon)) kB |"
  echo
  echo "Largest file mappings after load, by Rss:"
  echo
  echo "| Rss | file |"
  echo "|---|---|"
  while read -r rss file; do echo "| $rss kB | $file |"; done <<<"$top_mappings"
  echo
  echo "## Start-up"
  echo
  echo "Exec to the first 200 of /__lbheartbeat__, $starts starts (bench/startup.py; service on CPU 0, poller on CPU 1; LOG_LEVEL=info to /dev/null; no DATABASE_URL or REDIS_URL, so this is the service itself): median $startup_median ms, min $startup_min ms, max $startup_max ms (goal < 20 ms: $(meets "$startup_median" "<" 20))."
  echo
  echo "## Image"
  echo
  echo "$image_line"
  echo
  echo "Per-round data: \`$results_dir/$stamp-rounds.tsv\`; chart data: \`$data\`; chart: \`$plot\`."
} >"$report"

subtitle="dockerflow-app (DOCKERFLOW_THREADS=1) and $(nginx -v 2>&1 | sed 's/^nginx version: //') (one worker) on CPU 0, wrk on CPU 1; medians of $rounds x $duration; $stamp"
mkdir -p "$(dirname "$plot")"
gnuplot -c bench/cpu.gp "$data" "$plot" "$subtitle" 2>"$work/gnuplot.log" || note "gnuplot failed: $(tail -n 3 "$work/gnuplot.log")"
cat "$report"
note "report: $report"
