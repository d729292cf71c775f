#!/usr/bin/env bash
# Fixture cleanup: removes whatever the container tests left behind (containers labelled
# dockerflow.ctest, compose projects dfct-*, their networks and volumes). The images stay as a cache.
set -euo pipefail
if ! timeout 20 docker info >/dev/null 2>&1; then exit 0; fi

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
echo "cleanup: removed ${#containers[@]} containers, ${#networks[@]} networks, ${#volumes[@]} volumes"
