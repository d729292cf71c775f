#!/usr/bin/env bash
# deploy/stack.yml on a real Docker Swarm (a single-node swarm on the local engine), with steady load
# through haproxy (the stack's lb service) the whole time:
#   - a rolling update (docker service update --image) to an image with another version.json, then
#     scaling web 3 -> 1 -> 3: not one failed request, and /__version__ through haproxy switches to
#     the new commit;
#   - Postgres stopped: the heartbeat through haproxy reports it, /__lbheartbeat__ stays 200, every
#     web task stays in haproxy's rotation and none is restarted; Postgres back: heartbeat ok again;
#   - teardown: no container, network, volume or config of the stack left, and the swarm as found
#     (left again when this test initialised it).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_image
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
started_at=$(now)

rate=150                 # requests per second through haproxy, for the whole test
load_max_s=420           # the load stops by itself after this, whatever happens
min_rate=$((rate / 2))   # a window with less than this did not carry steady load
replicas=3

stack=dfct-swarm-$$
web=${stack}_web
next_image=${image%%:*}:ctest-swarm-next-$$
work=$(mktemp -d)
swarm_marker=${TMPDIR:-/tmp}/dockerflow-ctest-swarm-initialised
initialised=0
had_gwbridge=0
docker network inspect docker_gwbridge >/dev/null 2>&1 && had_gwbridge=1
load_pid=''

stack_objects() { # containers, networks, volumes and configs that belong to the stack
  docker ps -aq --filter "label=com.docker.stack.namespace=$stack"
  docker network ls -q --filter "label=com.docker.stack.namespace=$stack"
  docker volume ls -q --filter "label=com.docker.stack.namespace=$stack"
  if [[ $(docker info -f '{{.Swarm.ControlAvailable}}' 2>/dev/null) == true ]]; then
    docker config ls -q --filter "label=com.docker.stack.namespace=$stack"
  fi
}

# After leaving a swarm this test initialised: also the bridge that swarm init created.
leave_swarm() {
  docker swarm leave --force >/dev/null || return 1
  if ((!had_gwbridge)); then docker network rm docker_gwbridge >/dev/null 2>&1 || true; fi
  rm -f "$swarm_marker"
}

# Removes the stack and waits (bounded) until its containers and networks are gone, then removes its
# volumes, which Swarm leaves behind. Prints how long it took.
teardown() {
  local t0 i
  t0=$(now)
  docker stack rm "$stack" >/dev/null 2>&1 || true
  for ((i = 0; i < 120; i++)); do
    [[ -z $(docker ps -aq --filter "label=com.docker.stack.namespace=$stack") &&
      -z $(docker network ls -q --filter "label=com.docker.stack.namespace=$stack") ]] && break
    sleep 0.5
  done
  docker volume ls -q --filter "label=com.docker.stack.namespace=$stack" | xargs -r docker volume rm >/dev/null 2>&1 || true
  elapsed_since "$t0"
}

cleanup() {
  set +e
  if [[ -n $load_pid ]]; then
    touch "$work/stop"
    kill "$load_pid" 2>/dev/null
    wait "$load_pid" 2>/dev/null
  fi
  if docker stack ls --format '{{.Name}}' 2>/dev/null | grep -xF "$stack" >/dev/null; then teardown >/dev/null; fi
  docker rmi "$next_image" >/dev/null 2>&1
  if ((initialised)); then leave_swarm 2>/dev/null; fi
  rm -rf "$work"
}
trap cleanup EXIT

# --- a swarm: the one there is, or a single-node one on loopback that this test leaves again ----------
case $(docker info -f '{{.Swarm.LocalNodeState}}') in
  inactive)
    docker swarm init --advertise-addr 127.0.0.1 --listen-addr 127.0.0.1:2377 >/dev/null ||
      fail "docker swarm init failed"
    initialised=1
    echo "had_gwbridge=$had_gwbridge" >"$swarm_marker"
    info "initialised a single-node swarm on 127.0.0.1 (left again at the end)"
    ;;
  active)
    [[ $(docker info -f '{{.Swarm.ControlAvailable}}') == true ]] ||
      fail "this engine is a swarm worker: the stack must be deployed from a manager"
    info "using the existing swarm (left as it is)"
    ;;
  *) fail "swarm state is '$(docker info -f '{{.Swarm.LocalNodeState}}')'" ;;
esac

# --- images: the one under test, a second one that differs only in version.json, haproxy ---------------
"$root/scripts/docker/base-images.sh" haproxy >"$work/base-images.log" 2>&1 ||
  fail "the haproxy image: $(tail -n 20 "$work/base-images.log")"
cid=$(docker create "$image")
docker cp "$cid:/app/version.json" "$work/version-old.json"
docker rm "$cid" >/dev/null
old_commit=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["commit"])' "$work/version-old.json")
new_commit=$(printf 'swarm-next-%s' "$$" | sha1sum | cut -c1-40)
mkdir -p "$work/next"
python3 - "$work/version-old.json" "$new_commit" >"$work/next/version.json" <<'PY'
import json, sys
v = json.load(open(sys.argv[1]))
v["commit"], v["version"] = sys.argv[2], "swarm-next"
print(json.dumps(v))
PY
cat >"$work/next/Dockerfile" <<DOCKERFILE
FROM $image
COPY version.json /app/version.json
LABEL org.opencontainers.image.revision=$new_commit org.opencontainers.image.version=swarm-next
DOCKERFILE
DOCKER_BUILDKIT=0 docker build -q -t "$next_image" "$work/next" >/dev/null
info "images: $image (commit ${old_commit:0:12}), $next_image (commit ${new_commit:0:12})"

# --- deploy -----------------------------------------------------------------------------------------
port=$(free_port)
base=http://127.0.0.1:$port
t0=$(now)
DOCKERFLOW_IMAGE=$image DOCKERFLOW_PUBLISH_PORT=$port WEB_REPLICAS=$replicas \
  docker stack deploy --resolve-image never --compose-file "$root/deploy/stack.yml" "$stack" >"$work/deploy.log" 2>&1 ||
  fail "docker stack deploy: $(cat "$work/deploy.log")"

lb_container() { docker ps -q --filter "label=com.docker.swarm.service.name=${stack}_lb" | head -n 1; }
# haproxy's view of the web servers: "<state> <address>" per server slot that holds a task.
lb_servers() {
  local c
  c=$(lb_container)
  [[ -n $c ]] || return 0
  # The image has bash but no curl; the stats listener is on the container's loopback only.
  # shellcheck disable=SC2016 # expanded inside the container
  docker exec "$c" bash -c 'exec 3<>/dev/tcp/127.0.0.1/8404 && printf "GET /stats;csv HTTP/1.0\r\n\r\n" >&3 && cat <&3' 2>/dev/null |
    awk -F, '/^# pxname/ { for (i = 1; i <= NF; i++) col[$i] = i; next }
      $1 == "web" && $2 ~ /^web[0-9]+$/ && $col["status"] !~ /MAINT/ { print $col["status"], $col["addr"] }'
}
lb_up_count() { lb_servers | awk '$1 == "UP"' | wc -l; }
running_tasks() { # IMAGE: running web tasks of that image
  docker service ps "$web" --filter desired-state=running --format '{{.CurrentState}} {{.Image}}' |
    awk -v img="$1" '$1 == "Running" && $NF == img' | wc -l
}
# wait_for SECONDS DESCRIPTION COMMAND...: polls every 0.5 s until COMMAND succeeds.
wait_for() {
  local limit=$1 what=$2 t
  shift 2
  t=$(now)
  until "$@"; do
    awk -v s="$(elapsed_since "$t")" -v l="$limit" 'BEGIN { exit !(s > l) }' && fail "$what: not within ${limit}s"
    sleep 0.5
  done
  info "ok: $what ($(elapsed_since "$t")s)"
}
lb_has() { [[ $(lb_up_count) == "$1" && $(lb_servers | wc -l) == "$1" ]]; }
all_running() { [[ $(running_tasks "$1") == "$2" ]]; }

wait_for 120 "$replicas web tasks running and healthy" all_running "$image" "$replicas"
wait_for 60 "haproxy has the $replicas web tasks UP" lb_has "$replicas"
version_answers() { [[ $(http_status "$base/__version__") == 200 ]]; }
wait_for 30 "/__version__ answers through haproxy" version_answers
info "stack $stack deployed and serving in $(elapsed_since "$t0")s (haproxy on 127.0.0.1:$port, host mode)"

# --- steady load through haproxy --------------------------------------------------------------------
marks=$work/marks
: >"$marks"
mark() { printf '%s %s\n' "$1" "$(now)" >>"$marks"; }
python3 "$here/load.py" run "$base/__version__" "$rate" "$load_max_s" "$work/load.log" "$work/stop" &
load_pid=$!
mark before_start
sleep 3
mark before_end

# Rolling update: start-first, one task at a time, each new task healthy before an old one stops.
mark update_start
t0=$(now)
timeout 240 docker service update --detach=false --no-resolve-image --image "$next_image" "$web" >"$work/update.log" 2>&1 ||
  fail "docker service update: $(tail -n 20 "$work/update.log")"
# The CLI returns once the tasks converged; Swarm marks the update completed after its monitor period.
update_completed() {
  local state
  state=$(docker service inspect -f '{{.UpdateStatus.State}}' "$web")
  case $state in
    completed) return 0 ;;
    updating) return 1 ;;
    *) fail "rolling update state '$state' (not completed): $(docker service inspect -f '{{.UpdateStatus.Message}}' "$web")" ;;
  esac
}
wait_for 60 "Swarm marks the rolling update completed" update_completed
wait_for 60 "every running web task runs $next_image" all_running "$next_image" "$replicas"
wait_for 30 "haproxy has the $replicas new tasks UP and no other" lb_has "$replicas"
info "rolling update completed in $(elapsed_since "$t0")s"
sleep 2
mark update_end

# Scaling 3 -> 1 -> 3.
mark scale_start
t0=$(now)
timeout 120 docker service scale --detach=false "$web=1" >"$work/scale.log" 2>&1 || fail "scale to 1: $(tail "$work/scale.log")"
stopped_gone() { [[ $(docker ps -q --filter "label=com.docker.swarm.service.name=$web" | wc -l) == 1 ]]; }
wait_for 60 "scaled to 1: the two stopped tasks drained and exited" stopped_gone
wait_for 30 "haproxy has exactly 1 web task" lb_has 1
sleep 3
timeout 120 docker service scale --detach=false "$web=$replicas" >>"$work/scale.log" 2>&1 || fail "scale to $replicas: $(tail "$work/scale.log")"
wait_for 60 "scaled back to $replicas running tasks" all_running "$next_image" "$replicas"
wait_for 30 "haproxy has $replicas web tasks UP again" lb_has "$replicas"
info "scaled 3 -> 1 -> 3 in $(elapsed_since "$t0")s"
sleep 2
mark scale_end

# Postgres outage: the heartbeat says so, the balancer's probe and the rotation do not change.
heartbeat_checks() { # prints "<status> <postgres> <redis>" of one heartbeat through haproxy
  curl -s --max-time 5 -w '\n%{http_code}' "$base/__heartbeat__" | python3 -c '
import json, sys
*body, code = sys.stdin.read().split("\n")
try:
    checks = json.loads("\n".join(body))["checks"]
except ValueError:
    checks = {}
print(code, checks.get("postgres", "-"), checks.get("redis", "-"))'
}
heartbeat_is() { [[ $(heartbeat_checks) == "$1" ]]; }
wait_for 30 "heartbeat through haproxy: 200, postgres ok, redis ok" heartbeat_is "200 ok ok"
tasks_before=$(docker service ps "$web" --filter desired-state=running -q | sort)
mark outage_start
timeout 60 docker service scale --detach=false "${stack}_db=0" >"$work/db.log" 2>&1 || fail "stopping db: $(tail "$work/db.log")"
wait_for 15 "Postgres stopped: heartbeat through haproxy 503, postgres error, redis ok" heartbeat_is "503 error ok"
# Longer than haproxy's fall (2 x 500 ms) and the health check's retries (3 x 2 s): nothing may move.
for ((i = 0; i < 16; i++)); do
  hb=$(heartbeat_checks)
  [[ $hb == "503 error ok" ]] || fail "heartbeat $i during the outage: '$hb' (every web task must report postgres)"
  lb=$(http_status "$base/__lbheartbeat__")
  [[ $lb == 200 ]] || fail "/__lbheartbeat__ through haproxy answered $lb during the Postgres outage"
  [[ $(lb_up_count) == "$replicas" ]] || fail "haproxy took a web task out during the Postgres outage: $(lb_servers | tr '\n' ' ')"
  sleep 0.5
done
info "ok: 16 heartbeats through haproxy reported postgres error, /__lbheartbeat__ stayed 200, $replicas/$replicas tasks UP in haproxy"
tasks_during=$(docker service ps "$web" --filter desired-state=running -q | sort)
[[ $tasks_during == "$tasks_before" ]] || fail "web tasks changed during the Postgres outage (restarted?)"
unhealthy=$(docker ps --filter "label=com.docker.swarm.service.name=$web" --filter health=unhealthy -q | wc -l)
[[ $unhealthy == 0 ]] || fail "$unhealthy web containers unhealthy during the Postgres outage"
info "ok: no web task was restarted or marked unhealthy during the outage"
mark outage_end
timeout 120 docker service scale --detach=false "${stack}_db=1" >>"$work/db.log" 2>&1 || fail "starting db: $(tail "$work/db.log")"
wait_for 60 "Postgres back: heartbeat through haproxy 200 again" heartbeat_is "200 ok ok"

# --- the load's verdict -------------------------------------------------------------------------------
touch "$work/stop"
wait "$load_pid" || fail "the load generator failed"
load_pid=''
python3 "$here/load.py" report "$work/load.log" "$marks" >"$work/report.json"
verdict=$(python3 - "$work/report.json" "$old_commit" "$new_commit" "$min_rate" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
old, new, min_rate = sys.argv[2], sys.argv[3], float(sys.argv[4])
problems, lines = [], []
for name in ("all", "before", "update", "scale", "outage"):
    w = r[name]
    lines.append("%-7s sent %5d  failed %d  %.0f req/s over %.1f s  commits %s" % (
        name, w["sent"], w["failed"], w["rate"], w["seconds"],
        ", ".join("%s:%d" % (c[:12], v["answers"]) for c, v in sorted(w["commits"].items()))))
    if w["failed"]:
        problems.append("%s: %d failed requests, first: %s" % (name, w["failed"], w["first_failures"]))
    if name != "all" and w["rate"] < min_rate:
        problems.append("%s: only %.0f req/s (want >= %.0f): the load was not steady" % (name, w["rate"], min_rate))
commits = r["all"]["commits"]
if set(commits) != {old, new}:
    problems.append("commits seen: %s, expected exactly the old and the new one" % sorted(commits))
for name in ("scale", "outage"):
    if set(r[name]["commits"]) != {new}:
        problems.append("%s: commits %s, expected only the new one" % (name, sorted(r[name]["commits"])))
if old not in r["before"]["commits"]:
    problems.append("the old commit was not served before the update")
u, t0 = r["update"]["commits"], r["marks"]["update_start"]
if old in u and new in u:
    lines.append("version switch: new commit first answered %.1f s after the update started, old commit "
                 "last answered at %.1f s; the update window was %.1f s" % (
                     u[new]["first"] - t0, u[old]["last"] - t0, r["update"]["seconds"]))
print("\n".join(lines))
for p in problems:
    print("PROBLEM " + p)
PY
)
printf '%s\n' "$verdict" | sed "s/^/${0##*/}: /"
if grep -q '^PROBLEM' <<<"$verdict"; then
  fail "$(grep '^PROBLEM' <<<"$verdict" | head -n 5 | tr '\n' ' ')"
fi

# --- teardown ---------------------------------------------------------------------------------------
took=$(teardown)
left=$(stack_objects | wc -l)
[[ $left == 0 ]] || fail "after docker stack rm, $left objects of $stack are left: $(stack_objects | tr '\n' ' ')"
info "ok: stack removed in ${took}s, no container, network, volume or config of it left"
if ((initialised)); then
  leave_swarm || fail "docker swarm leave failed"
  initialised=0
  [[ $(docker info -f '{{.Swarm.LocalNodeState}}') == inactive ]] || fail "the swarm is still active after leaving it"
  if ((!had_gwbridge)) && docker network inspect docker_gwbridge >/dev/null 2>&1; then
    fail "docker_gwbridge, created by swarm init, is still there"
  fi
  info "ok: left the swarm this test initialised (and removed docker_gwbridge)"
fi
info "passed in $(elapsed_since "$started_at")s"
