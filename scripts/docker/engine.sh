#!/usr/bin/env bash
# Makes sure a Docker engine answers `docker info`.
#
# When none answers and we are root on Debian, installs docker.io and docker-compose (when missing) and
# starts dockerd in the background. Exit codes: 0 engine ready; 77 no engine can be had (the caller skips
# the container tier); 1 the same under CI=true, where skipping is not allowed.
#
# Environment: DOCKERD_LOG (/var/log/dockerd.log), DOCKERD_WAIT_S (60), DOCKERD_ARGS (extra dockerd flags).
set -euo pipefail

log() { printf 'engine: %s\n' "$*" >&2; }

engine_answers() { timeout 20 docker info >/dev/null 2>&1; }

no_engine() {
  local reason=$1
  {
    printf '\n%s\n' '########################################################################'
    printf '##  NO DOCKER ENGINE: %s\n' "$reason"
    if [[ ${CI:-} == true ]]; then
      printf '##  CI=true: the container tier must run, so this is a FAILURE.\n'
    else
      printf '##  The container tier is SKIPPED. Start Docker (or run as root on Debian) to run it.\n'
    fi
    printf '%s\n\n' '########################################################################'
  } >&2
  if [[ ${CI:-} == true ]]; then exit 1; fi
  exit 77
}

root_on_debian() { [[ $(id -u) -eq 0 && -r /etc/debian_version ]]; }

# Compose is part of the contract too (the compose files and tests use it): docker-compose, or the
# Compose v2 plugin where that is what the machine has.
missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v docker-compose >/dev/null 2>&1 || docker compose version >/dev/null 2>&1 || missing+=(docker-compose)
if ((${#missing[@]})) && root_on_debian; then
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y "${missing[@]}" >&2; then
    apt-get update >&2 || true
    apt-get install -y "${missing[@]}" >&2 || no_engine "apt-get install ${missing[*]} failed"
  fi
fi

if command -v docker >/dev/null 2>&1 && engine_answers; then
  exit 0
fi
if ! root_on_debian; then
  no_engine "docker info fails and we are not root on Debian, so dockerd cannot be started here"
fi
case ${DOCKER_HOST:-unix:///var/run/docker.sock} in
  unix:///var/run/docker.sock | unix:///run/docker.sock) ;;
  *) no_engine "DOCKER_HOST=$DOCKER_HOST does not answer (a local dockerd would not be that engine)" ;;
esac
command -v dockerd >/dev/null 2>&1 || no_engine "dockerd is not installed"

log_file=${DOCKERD_LOG:-/var/log/dockerd.log}
wait_s=${DOCKERD_WAIT_S:-60}

# A dockerd that is already starting gets the same bounded wait instead of a second daemon.
if ! pidof dockerd >/dev/null; then
  args=()
  # overlay2 works on this kind of machine; a daemon.json that picks a driver wins.
  if grep -qw overlay /proc/filesystems 2>/dev/null &&
    ! grep -qs storage-driver /etc/docker/daemon.json; then
    args+=(--storage-driver=overlay2)
  fi
  read -r -a extra <<<"${DOCKERD_ARGS:-}"
  args+=("${extra[@]}")
  mkdir -p "$(dirname "$log_file")"
  log "starting dockerd ${args[*]} (log: $log_file)"
  # setsid + closed stdio: the daemon outlives this script and never holds a caller's pipes open.
  setsid dockerd "${args[@]}" </dev/null >>"$log_file" 2>&1 &
fi

for ((i = 0; i < wait_s; i++)); do
  if engine_answers; then
    log "dockerd ready after ${i}s"
    exit 0
  fi
  if ! pidof dockerd >/dev/null; then
    tail -n 20 "$log_file" >&2 || true
    no_engine "dockerd exited during start-up (see $log_file)"
  fi
  sleep 1
done
tail -n 20 "$log_file" >&2 || true
no_engine "dockerd did not answer within ${wait_s}s (see $log_file)"
