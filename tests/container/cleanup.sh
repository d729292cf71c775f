#!/usr/bin/env bash
# Fixture cleanup: removes whatever the container tests left behind (containers labelled
# dockerflow.ctest, compose projects and Swarm stacks dfct-*, their networks and volumes, and a swarm
# that container.swarm initialised but could not leave). The images stay as a cache.
set -euo pipefail
if ! timeout 20 docker info >/dev/null 2>&1; then exit 0; fi

stacks=0
if [[ $(docker info -f '{{.Swarm.ControlAvailable}}') == true ]]; then
  while read -r stack; do
    docker stack rm "$stack" >/dev/null
    stacks=$((stacks + 1))
    for _ in $(seq 1 60); do
      [[ -z $(docker ps -aq --filter "label=com.docker.stack.namespace=$stack") ]] && break
      sleep 0.5
    done
  done < <(docker stack ls --format '{{.Name}}' | grep '^dfct-' || true)
fi
marker=${TMPDIR:-/tmp}/dockerflow-ctest-swarm-initialised
if [[ -f $marker ]]; then
  docker swarm leave --force >/dev/null 2>&1 || true
  if grep -qx 'had_gwbridge=0' "$marker"; then docker network rm docker_gwbridge >/dev/null 2>&1 || true; fi
  rm -f "$marker"
fi

mapfile -t containers < <(docker ps -aq --filter label=dockerflow.ctest)
mapfile -t projects < <(docker ps -a --format '{{.Label "com.docker.compose.project"}}' | grep '^dfct-' | sort -u || true)
for p in "${projects[@]}"; do
  mapfile -t -O "${#containers[@]}" containers < <(docker ps -aq --filter "label=com.docker.compose.project=$p")
done
if ((${#containers[@]})); then docker rm -f -v "${containers[@]}" >/dev/null; fi
mapfile -t networks < <(docker network ls --format '{{.Name}}' | grep '^dfct-' || true)
if ((${#networks[@]})); then docker network rm "${networks[@]}" >/dev/null; fi
mapfile -t volumes < <(docker volume ls --format '{{.Name}}' | grep '^dfct-' || true)
if ((${#volumes[@]})); then docker volume rm "${volumes[@]}" >/dev/null; fi
echo "cleanup: removed $stacks stacks, ${#containers[@]} containers, ${#networks[@]} networks, ${#volumes[@]} volumes"
