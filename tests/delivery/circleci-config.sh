#!/usr/bin/env bash
# .circleci/config.yml: parsed by CircleCI's own config parser from npm
# (@circleci/circleci-config-parser), structure asserted by
# check-circleci-config.js, and yamllint --strict clean.
#
# Usage: circleci-config.sh <repository root> <cache dir for node_modules>
set -euo pipefail
root=$(cd "${1:?usage: circleci-config.sh <repository root> <cache dir>}" && pwd)
cache=${2:?usage: circleci-config.sh <repository root> <cache dir>}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=testlib.sh
source "$here/testlib.sh"
need_commands nodejs:node npm:npm yamllint:yamllint

parser=@circleci/circleci-config-parser
parser_version=0.10.0-alpha.3
config=$root/.circleci/config.yml

mkdir -p "$cache"
installed=$(node -p "require('$cache/node_modules/$parser/package.json').version" 2>/dev/null || true)
if [[ ${installed#v} != "$parser_version" ]]; then
  echo "installing $parser@$parser_version into $cache"
  npm install --prefix "$cache" --no-audit --no-fund --no-save --no-package-lock \
    --loglevel=error "$parser@$parser_version"
fi

if out=$(yamllint --strict "$config" 2>&1); then
  pass "yamllint --strict $config"
else
  fail "yamllint --strict $config: $out"
fi

if NODE_PATH="$cache/node_modules" node "$here/check-circleci-config.js" "$root"; then
  pass "structure of $config"
else
  fail "structure of $config (see above)"
fi
finish
