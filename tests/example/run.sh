#!/usr/bin/env bash
# The example tier: examples/hello-service built as a service in its own repository would build it,
# against this tree's installed package, then run against real PostgreSQL and Redis.
#
#   package   `cmake --install <build dir> --prefix <tmp>` gives the CMake package and a pkg-config file
#             that names the library and everything a static link needs
#   build     the example configures with only CMAKE_PREFIX_PATH=<tmp> (its dockerflow_DIR is the
#             installed package, not this tree) and builds with -Werror
#   serve     against throwaway PostgreSQL and Redis on a free port:
#             heartbeat before any request: 200, items.W002 (warning: table not created yet)
#             POST /api/items 201 with id, name and Location; GET /api/items lists it; GET /api/items/<id>
#             returns it; /api/items/999999 and /api/items/abc 404; invalid JSON or a missing, empty,
#             too long or non-string name 400 with a JSON error; a body over 64 KiB 413; DELETE 405 with Allow;
#             HEAD 200 with the GET's Content-Length and no body; /__lbheartbeat__ 200 (empty);
#             /__version__ the version file; /__heartbeat__ 200 with postgres, redis and items ok;
#             request.summary lines for /api/items carrying the request id sent
#   hang      PostgreSQL stopped (SIGSTOP): /api/items answers 503 within its 2 s deadline, the
#             heartbeat fails; resumed (SIGCONT): /api/items answers 200 again
#   stop      SIGTERM: exit 0
#
# Usage: run.sh <source dir> <build dir of the source dir, already built>
set -euo pipefail
src=$(cd "${1:?usage: run.sh <source dir> <build dir>}" && pwd)
build=$(cd "${2:?usage: run.sh <source dir> <build dir>}" && pwd)
example=$src/examples/hello-service
# shellcheck source=../../scripts/local-services.sh
source "$src/scripts/local-services.sh"

tmp=$(mktemp -d /tmp/dockerflow-example.XXXXXX)
prefix=$tmp/prefix
app_pid=""
stopped_pids=()
logs=()  # shown on failure: those of the step that runs, and the service's once it runs
started=$SECONDS

cleanup() {
  if [[ ${#stopped_pids[@]} -gt 0 ]]; then kill -CONT "${stopped_pids[@]}" 2>/dev/null || true; fi
  if [[ -n $app_pid ]]; then
    kill -KILL "$app_pid" 2>/dev/null || true
    wait "$app_pid" 2>/dev/null || true
  fi
  stop_local_services
  rm -rf "$tmp"
}
trap cleanup EXIT
# A step that fails under set -e (the services not starting, say) fails like an assertion, with its logs.
trap 'fail "line $LINENO failed: $BASH_COMMAND"' ERR

info() { printf 'example: %s\n' "$*"; }
pass() { printf 'example: ok: %s\n' "$*"; }
fail() {
  trap - ERR
  printf '\nexample: FAIL: %s\n' "$*" >&2
  local log
  for log in "${logs[@]}"; do
    [[ -s $log ]] || continue
    printf '\n----- %s (last 40 lines)\n' "$log" >&2
    tail -n 40 "$log" >&2
  done
  exit 1
}

# json_check JSON EXPRESSION: the Python expression, with the parsed JSON as `j`, is true.
json_check() {
  python3 -c 'import json, sys; j = json.loads(sys.argv[1]); sys.exit(0 if eval("(" + sys.argv[2] + ")") else 1)' \
    "$1" "$2" 2>/dev/null
}
# json_get JSON EXPRESSION: prints the expression's value.
json_get() { python3 -c 'import json, sys; j = json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"; }

# request METHOD PATH [curl options...]: sets $status, $body, $body_bytes, $headers and $took (seconds).
request() {
  local method=$1 path=$2
  shift 2
  # curl --head prints the headers as its output; -X HEAD would wait for a body.
  local how=(-X "$method" -o "$tmp/body")
  [[ $method == HEAD ]] && how=(--head -o /dev/null)
  : >"$tmp/body"
  : >"$tmp/headers"
  local out
  out=$(curl -sS -D "$tmp/headers" -w '%{http_code} %{time_total} %{size_download}' --max-time 10 "${how[@]}" "$@" \
    "http://127.0.0.1:$port$path" 2>"$tmp/curl.err") || true
  read -r status took body_bytes <<<"$out" || true
  status=${status:-000}
  body=$(cat "$tmp/body")
  headers=$(tr -d '\r' <"$tmp/headers")
}
# header NAME: the value of a response header of the last request.
header() { printf '%s\n' "$headers" | awk -v name="$1" 'tolower($0) ~ "^" tolower(name) ":" { sub(/^[^:]*: */, ""); print; exit }'; }
expect_status() {
  [[ $status == "$1" ]] || fail "$2: status $status, expected $1; body: ${body:0:500}; $(cat "$tmp/curl.err")"
}

# --- package --------------------------------------------------------------------------------------
[[ -f $build/CMakeCache.txt && -e $build/dockerflow-app ]] || fail "$build is not a built tree: build it first"
logs=("$tmp/install.log")
cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1 || fail "cmake --install $build failed"
config=$(find "$prefix" -name dockerflowConfig.cmake -print -quit)
[[ -n $config ]] || fail "the install has no dockerflowConfig.cmake"
pc=$(find "$prefix" -name dockerflow.pc -print -quit)
[[ -n $pc ]] || fail "the install has no dockerflow.pc"
pass "installed into a temporary prefix: ${config#"$prefix"/}, ${pc#"$prefix"/}"

version=$(sed -n 's/^project(dockerflow VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
export PKG_CONFIG_PATH=${pc%/*}
flags=$(pkg-config --cflags --libs dockerflow) || fail "pkg-config --cflags --libs dockerflow failed"
[[ $(pkg-config --modversion dockerflow) == "$version" ]] || fail "pkg-config version is not $version"
for lib in -ldockerflow -lpqxx -lpq -lhiredis -lspdlog; do
  [[ " $flags " == *" $lib "* ]] || fail "pkg-config --libs dockerflow lacks $lib (a static link needs it): $flags"
done
pass "pkg-config --cflags --libs dockerflow $version names the library and its dependencies"
unset PKG_CONFIG_PATH

# --- build ----------------------------------------------------------------------------------------
if grep -Eq 'add_subdirectory|\.\./\.\.' "$example/CMakeLists.txt"; then
  fail "examples/hello-service/CMakeLists.txt reaches into this tree instead of using the installed package"
fi
logs=("$tmp/configure.log" "$tmp/build.log")
cmake -S "$example" -B "$tmp/build" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DHELLO_WARNINGS_AS_ERRORS=ON >"$tmp/configure.log" 2>&1 || fail "configuring the example failed"
found=$(sed -n 's/^dockerflow_DIR:PATH=//p' "$tmp/build/CMakeCache.txt")
[[ $found == "$prefix"/* ]] || fail "the example found dockerflow at '$found', not in the installed prefix"
build_start=$SECONDS
cmake --build "$tmp/build" -j"${JOBS:-2}" >"$tmp/build.log" 2>&1 || fail "building the example failed"
app=$tmp/build/hello-service
[[ -x $app ]] || fail "the build made no hello-service"
pass "built against ${found#"$prefix"/} with -Werror in $((SECONDS - build_start)) s"

# --- serve ----------------------------------------------------------------------------------------
logs=("$tmp/services.log" "$tmp/app.out" "$tmp/app.err")
start_local_postgres >"$tmp/services.log"
start_local_redis >>"$tmp/services.log"
port=$(free_port)
PORT=$port HOST=127.0.0.1 DATABASE_URL=$DATABASE_URL REDIS_URL=$REDIS_URL DOCKERFLOW_DRAIN_SECONDS=0 \
  DOCKERFLOW_HEARTBEAT_CACHE_MS=0 DOCKERFLOW_VERSION_FILE="$example/version.json" \
  "$app" >"$tmp/app.out" 2>"$tmp/app.err" &
app_pid=$!
logs+=("$LOCAL_SERVICES_DIR/postgres/server.log" "$LOCAL_SERVICES_DIR/redis.log")
for _ in $(seq 1 100); do
  kill -0 "$app_pid" 2>/dev/null || fail "hello-service exited at start-up"
  request GET /__lbheartbeat__
  [[ $status == 200 ]] && break
  sleep 0.1
done
expect_status 200 "/__lbheartbeat__ within 10 s of start"
[[ -z $body ]] || fail "/__lbheartbeat__ has a body: $body"
pass "/__lbheartbeat__ 200, empty"

request GET /__version__
expect_status 200 "/__version__"
json_check "$body" "j == json.load(open('$example/version.json'))" || fail "/__version__ is not the version file: $body"
pass "/__version__ 200, the version file"

request GET /__heartbeat__
expect_status 200 "/__heartbeat__ before the table exists"
json_check "$body" 'j["checks"] == {"postgres": "ok", "redis": "ok", "items": "warning"}
  and "items.W002" in j["details"]["items"]["messages"]' || fail "heartbeat before any request: $body"
pass "/__heartbeat__ 200 before the first request: postgres ok, redis ok, items warning items.W002"

request POST /api/items -H 'Content-Type: application/json' -H 'X-Request-ID: example-post-1' \
  --data-binary '{"name": "héllo ☃"}'
expect_status 201 "POST /api/items"
json_check "$body" 'isinstance(j["id"], int) and j["id"] > 0 and j["name"] == "héllo ☃"' ||
  fail "POST /api/items answered $body"
id=$(json_get "$body" 'j["id"]')
[[ $(header Location) == "/api/items/$id" ]] || fail "POST /api/items Location is '$(header Location)'"
[[ $(header Content-Type) == application/json* ]] || fail "POST /api/items Content-Type is '$(header Content-Type)'"
pass "POST /api/items 201: item $id, Location /api/items/$id"
request POST /api/items -H 'Content-Type: application/json' --data-binary '{"name": "second"}'
expect_status 201 "second POST /api/items"
second=$(json_get "$body" 'j["id"]')

request GET /api/items -H 'X-Request-ID: example-list-1'
expect_status 200 "GET /api/items"
json_check "$body" "j == [{'id': $id, 'name': 'héllo ☃'}, {'id': $second, 'name': 'second'}]" ||
  fail "GET /api/items answered $body"
list_length=$(wc -c <"$tmp/body")
pass "GET /api/items 200 lists both items, oldest first"

request GET "/api/items/$id"
expect_status 200 "GET /api/items/$id"
json_check "$body" "j == {'id': $id, 'name': 'héllo ☃'}" || fail "GET /api/items/$id answered $body"
pass "GET /api/items/$id 200, the item"
for missing in /api/items/999999 /api/items/abc /api/items/ "/api/items/$id/x"; do
  request GET "$missing"
  expect_status 404 "GET $missing"
  json_check "$body" 'j == {"status": 404, "error": "Not Found"}' || fail "GET $missing answered $body"
done
pass "GET /api/items/999999, /abc, / and /<id>/x 404 with a JSON error"

long_name=$(printf 'n%.0s' $(seq 1 201))
for bad in '{"name": ' '[1, 2]' '{"title": "x"}' '{"name": 7}' '{"name": ""}' '{"name": "a\u0000b"}' \
  "{\"name\": \"$long_name\"}"; do
  request POST /api/items -H 'Content-Type: application/json' --data-binary "$bad"
  expect_status 400 "POST /api/items with $bad"
  json_check "$body" 'j["status"] == 400 and j["error"] == "Bad Request" and j["detail"]' ||
    fail "POST /api/items with $bad answered $body"
done
pass "POST /api/items with invalid JSON, no name, a number, an empty, a NUL or a 201-byte name: 400 with a JSON error"

head -c $((64 * 1024 + 1)) /dev/zero | tr '\0' 'a' >"$tmp/large-body"
request POST /api/items -H 'Content-Type: application/json' --data-binary "@$tmp/large-body"
expect_status 413 "POST /api/items with a body of 64 KiB + 1"
head -c $((60 * 1024)) /dev/zero | tr '\0' ' ' >"$tmp/padded-body"
printf '{"name": "padded"}' >>"$tmp/padded-body"
request POST /api/items -H 'Content-Type: application/json' --data-binary "@$tmp/padded-body"
expect_status 201 "POST /api/items with a 60 KiB body (inside the limit)"
pass "POST /api/items: 64 KiB + 1 413, 60 KiB 201"

request DELETE /api/items
expect_status 405 "DELETE /api/items"
[[ $(header Allow) == "GET, HEAD, POST" ]] || fail "DELETE /api/items Allow is '$(header Allow)'"
pass "DELETE /api/items 405, Allow: GET, HEAD, POST"

request GET /api/items
list_length=$(wc -c <"$tmp/body")
request HEAD /api/items
expect_status 200 "HEAD /api/items"
[[ $body_bytes == 0 ]] || fail "HEAD /api/items has a body of $body_bytes bytes"
[[ $(header Content-Length) == "$list_length" ]] ||
  fail "HEAD /api/items Content-Length is '$(header Content-Length)', the GET's body is $list_length bytes"
pass "HEAD /api/items 200, Content-Length $list_length, no body"

request GET /__heartbeat__
expect_status 200 "/__heartbeat__"
json_check "$body" 'j["status"] == "ok" and j["checks"] == {"postgres": "ok", "redis": "ok", "items": "ok"}' ||
  fail "/__heartbeat__ answered $body"
pass "/__heartbeat__ 200: postgres, redis and items ok"

# request.summary lines are written by a background thread: wait for them.
summaries_ok=false
for _ in $(seq 1 50); do
  if python3 - "$tmp/app.out" <<'EOF'; then
import json, sys
lines = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
summaries = [l["Fields"] for l in lines if l.get("Type") == "request.summary"]
def has(**want):
    return any(all(f.get(k) == v for k, v in want.items()) for f in summaries)
api = [f for f in summaries if f["path"].startswith("/api/items")]
sys.exit(0 if has(method="POST", path="/api/items", code=201, rid="example-post-1")
         and has(method="GET", path="/api/items", code=200, rid="example-list-1")
         and has(method="DELETE", path="/api/items", code=405)
         and all(f.get("rid") for f in api) else 1)
EOF
    summaries_ok=true
    break
  fi
  sleep 0.1
done
$summaries_ok || fail "no request.summary lines for /api/items with the request ids sent (see app.out)"
pass "request.summary lines for /api/items, each with a rid (the X-Request-ID sent is kept)"

# --- hang -----------------------------------------------------------------------------------------
# The postmaster and its children: the backends serving the worker's and the checks' connections.
postmaster=$(head -n 1 "$LOCAL_SERVICES_DIR/postgres/postmaster.pid")
mapfile -t stopped_pids < <(
  echo "$postmaster"
  awk -v parent="$postmaster" '$4 == parent { print $1 }' /proc/[0-9]*/stat 2>/dev/null || true
)
[[ ${#stopped_pids[@]} -gt 1 ]] || fail "found no backends under the postmaster $postmaster"
kill -STOP "${stopped_pids[@]}"
request GET /api/items
expect_status 503 "GET /api/items while PostgreSQL is stopped"
awk -v t="$took" 'BEGIN { exit !(t >= 1.5 && t < 4) }' || fail "GET /api/items took $took s to answer 503, not about 2 s"
pass "PostgreSQL stopped: GET /api/items 503 after $took s"
request GET /__heartbeat__
expect_status 500 "/__heartbeat__ while PostgreSQL is stopped"
kill -CONT "${stopped_pids[@]}"
stopped_pids=()
for _ in $(seq 1 50); do
  request GET /api/items
  [[ $status == 200 ]] && break
  sleep 0.2
done
expect_status 200 "GET /api/items within 10 s of PostgreSQL resuming"
json_check "$body" 'len(j) == 3' || fail "GET /api/items after resuming answered $body"
pass "PostgreSQL resumed: GET /api/items 200 again"

# --- stop -----------------------------------------------------------------------------------------
kill -TERM "$app_pid"
code=0
wait "$app_pid" || code=$?
app_pid=""
[[ $code == 0 ]] || fail "hello-service exited with $code after SIGTERM"
grep -q '"Type":"server.stopped"' "$tmp/app.out" || fail "no server.stopped line after SIGTERM"
pass "SIGTERM: exit 0"

info "all assertions passed in $((SECONDS - started)) s"
