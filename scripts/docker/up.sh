#!/usr/bin/env bash
# make docker-run: builds the image, then `docker-compose up` with web, db and redis. Arguments go to
# `up` (e.g. -d to detach). Creates .env from .env.example on first use.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

"$here/build.sh"
cd "$root"
if [[ ! -f .env ]]; then
  cp .env.example .env
  echo "up: created .env from .env.example (edit it to change ports, images, credentials)" >&2
fi
if command -v docker-compose >/dev/null 2>&1; then compose=(docker-compose); else compose=(docker compose); fi
exec "${compose[@]}" up "$@"
