# shellcheck shell=bash
# Helpers for the delivery tier's shell tests. Sourced, never executed.

t_passed=0
t_failed=0

pass() {
  t_passed=$((t_passed + 1))
  printf 'ok: %s\n' "$*"
}
fail() {
  t_failed=$((t_failed + 1))
  printf 'FAIL: %s\n' "$*"
}
assert_eq() { # DESCRIPTION ACTUAL EXPECTED
  if [[ $2 == "$3" ]]; then pass "$1"; else fail "$1: got [$2], expected [$3]"; fi
}
assert_contains() { # DESCRIPTION TEXT NEEDLE
  if [[ $2 == *"$3"* ]]; then pass "$1"; else fail "$1: [$3] not found in: $2"; fi
}
assert_not_contains() { # DESCRIPTION TEXT NEEDLE
  if [[ $2 != *"$3"* ]]; then pass "$1"; else fail "$1: [$3] found in: $2"; fi
}
finish() {
  printf '%s: %d checks passed, %d failed\n' "${0##*/}" "$t_passed" "$t_failed"
  ((t_failed == 0 && t_passed > 0))
}

# Locally a missing prerequisite skips the test (CTest SKIP_RETURN_CODE 77);
# under CI=true it fails, so CI never turns green by skipping.
skip_or_fail() {
  printf '\n##  %s: %s\n' "${0##*/}" "$*" >&2
  if [[ ${CI:-} == true ]]; then
    printf '##  CI=true: this is a FAILURE.\n\n' >&2
    exit 1
  fi
  printf '##  SKIPPED.\n\n' >&2
  exit 77
}

# need_commands PACKAGE:COMMAND ...: installs the Debian packages whose
# command is missing (as root on Debian), otherwise skips or fails.
need_commands() {
  local spec missing=()
  for spec in "$@"; do
    command -v "${spec#*:}" >/dev/null 2>&1 || missing+=("${spec%%:*}")
  done
  ((${#missing[@]})) || return 0
  if [[ $(id -u) -ne 0 || ! -r /etc/debian_version ]]; then
    skip_or_fail "missing ${missing[*]} and not root on Debian to install them"
  fi
  printf 'installing %s\n' "${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y --no-install-recommends "${missing[@]}" >&2; then
    apt-get update >&2 || true
    apt-get install -y --no-install-recommends "${missing[@]}" >&2 ||
      skip_or_fail "apt-get install ${missing[*]} failed"
  fi
}

# A well-formed, distinct fake commit id.
fake_commit() { printf '%s' "$1" | sha1sum | cut -c1-40; }
