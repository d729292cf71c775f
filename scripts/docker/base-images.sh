#!/usr/bin/env bash
# Makes every image the Dockerfile and the compose files name available to the local engine.
#
# Usage: base-images.sh [haproxy]
#   Without arguments: debian, postgres and redis (the Dockerfile and docker-compose*.yml). With
#   `haproxy`: the haproxy image of the Swarm stack (deploy/stack.yml) as well.
#
# An image that is neither present nor pullable is created locally:
#   debian:bookworm   debootstrap --variant=minbase + docker import (the rootfs tarball is cached)
#   postgres / redis  stand-ins built FROM that Debian image with Debian's postgresql-15 / redis-server,
#                     honouring the contract docker-compose*.yml uses (scripts/docker/standins/).
#   haproxy           a stand-in built the same way from Debian's haproxy (2.6), with the official
#                     image's configuration path and stop signal.
# On a machine that reaches a registry nothing is built: the official images are pulled as usual.
#
# Environment: BASE_IMAGE (debian:bookworm), POSTGRES_IMAGE (postgres:15), REDIS_IMAGE (redis:7),
# HAPROXY_IMAGE (haproxy:2.6), DOCKERFLOW_CACHE_DIR (/var/cache/dockerflow),
# DEBIAN_MIRROR (http://deb.debian.org/debian), PULL_TIMEOUT_S (30).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
"$here/engine.sh"

base_image=${BASE_IMAGE:-debian:bookworm}
postgres_image=${POSTGRES_IMAGE:-postgres:15}
redis_image=${REDIS_IMAGE:-redis:7}
haproxy_image=${HAPROXY_IMAGE:-haproxy:2.6}
extra=()
for arg in "$@"; do
  case $arg in
    haproxy) extra+=(haproxy) ;;
    *)
      printf 'base-images: unknown image kind "%s" (expected: haproxy)\n' "$arg" >&2
      exit 2
      ;;
  esac
done
cache_dir=${DOCKERFLOW_CACHE_DIR:-/var/cache/dockerflow}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
pull_timeout=${PULL_TIMEOUT_S:-30}

log() { printf 'base-images: %s\n' "$*" >&2; }

present() { docker image inspect "$1" >/dev/null 2>&1; }

pullable() {
  log "$1 is not present; trying docker pull (${pull_timeout}s)"
  timeout "$pull_timeout" docker pull "$1" >&2
}

import_debian() {
  local image=$1 arch tarball
  arch=$(dpkg --print-architecture)
  tarball="$cache_dir/debian-bookworm-minbase-$arch.tar"
  if [[ ! -s $tarball ]]; then
    if ! command -v debootstrap >/dev/null 2>&1; then
      log "installing debootstrap"
      DEBIAN_FRONTEND=noninteractive apt-get install -y debootstrap >&2
    fi
    local rootfs
    rootfs=$(mktemp -d /var/tmp/debootstrap.XXXXXX)
    # shellcheck disable=SC2064 # expand now: the path is fixed
    trap "rm -rf '$rootfs'" EXIT
    log "debootstrap --variant=minbase bookworm from $mirror (a few minutes, cached afterwards)"
    debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >&2
    # The same suites as the official image, without the downloaded packages and lists.
    cat >"$rootfs/etc/apt/sources.list" <<SOURCES
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb ${mirror%/debian}/debian-security bookworm-security main
SOURCES
    # Container conventions of the official image: no service starts from maintainer scripts, no fsync
    # storm in dpkg, no package cache kept in layers.
    printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
    chmod 755 "$rootfs/usr/sbin/policy-rc.d"
    echo force-unsafe-io >"$rootfs/etc/dpkg/dpkg.cfg.d/docker-apt-speedup"
    printf '%s\n' 'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb || true"; };' \
      'Acquire::Languages "none";' >"$rootfs/etc/apt/apt.conf.d/docker-clean"
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/*.log
    mkdir -p "$cache_dir"
    tar --numeric-owner -C "$rootfs" -cf "$tarball.part" .
    mv "$tarball.part" "$tarball"
    rm -rf "$rootfs"
    trap - EXIT
  fi
  log "importing $tarball as $image"
  docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' \
    --message "debootstrap --variant=minbase bookworm" \
    "$tarball" "$image" >&2
}

build_standin() {
  local image=$1 kind=$2
  log "building a $kind stand-in from Debian packages as $image"
  DOCKER_BUILDKIT=0 docker build --build-arg "BASE_IMAGE=$base_image" -t "$image" \
    "$here/standins/$kind" >&2
}

if ! present "$base_image" && ! pullable "$base_image"; then
  import_debian "$base_image"
fi
if ! present "$postgres_image" && ! pullable "$postgres_image"; then
  build_standin "$postgres_image" postgres
fi
if ! present "$redis_image" && ! pullable "$redis_image"; then
  build_standin "$redis_image" redis
fi
ready=("$base_image" "$postgres_image" "$redis_image")
if ((${#extra[@]})); then
  if ! present "$haproxy_image" && ! pullable "$haproxy_image"; then
    build_standin "$haproxy_image" haproxy
  fi
  ready+=("$haproxy_image")
fi
log "ready: ${ready[*]}"
