#!/usr/bin/env bash
# Installs the Debian packages the build and the test tiers need, when they are missing.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libboost1.81-dev libpqxx-dev libpq-dev libhiredis-dev nlohmann-json3-dev libspdlog-dev libgtest-dev
  postgresql redis-server haproxy curl ca-certificates openssl python3 util-linux prometheus prometheus-blackbox-exporter
)
# Optional extras for other targets, e.g. `make fuzz` asks for clang.
read -r -a extra <<<"${SETUP_EXTRA_PACKAGES:-}"
packages+=("${extra[@]}")

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep "install ok installed" >/dev/null || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "setup: missing Debian packages: ${missing[*]}" >&2
  echo "setup: install them with: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
