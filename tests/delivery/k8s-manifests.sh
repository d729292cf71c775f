#!/usr/bin/env bash
# deploy/k8s: the kustomize base and every overlay rendered, each object validated against the
# Kubernetes API schemas (kubernetes-models from npm, installed into the build tree) and the
# service's assertions (check-k8s-manifests.js), which must also reject a list of broken variants.
# yamllint --strict on every YAML file under deploy/. No cluster is needed, none is pretended.
#
# Usage: k8s-manifests.sh <repository root> <cache dir for node_modules>
set -euo pipefail
root=$(cd "${1:?usage: k8s-manifests.sh <repository root> <cache dir>}" && pwd)
cache=${2:?usage: k8s-manifests.sh <repository root> <cache dir>}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=testlib.sh
source "$here/testlib.sh"
need_commands nodejs:node npm:npm yamllint:yamllint

# 4.x: the Kubernetes 1.32 API (pod-level resources included), CommonJS, any Node.js from 14 on.
packages=(kubernetes-models@4.5.1 yaml@2.9.1)
mkdir -p "$cache"
installed=$(node -p "require('$cache/node_modules/kubernetes-models/package.json').version + ' ' + require('$cache/node_modules/yaml/package.json').version" 2>/dev/null || true)
if [[ $installed != "4.5.1 2.9.1" ]]; then
  echo "installing ${packages[*]} into $cache"
  npm install --prefix "$cache" --no-audit --no-fund --no-save --no-package-lock --loglevel=error "${packages[@]}"
fi

mapfile -t yamls < <(find "$root/deploy" -name '*.yaml' -o -name '*.yml' | sort)
if out=$(yamllint --strict -c "$root/deploy/.yamllint" "${yamls[@]}" 2>&1); then
  pass "yamllint --strict: ${#yamls[@]} files under deploy/"
else
  fail "yamllint --strict under deploy/: $out"
fi

if NODE_PATH="$cache/node_modules" node "$here/check-k8s-manifests.js" "$root"; then
  pass "deploy/k8s: schemas, assertions and broken variants"
else
  fail "deploy/k8s (see above)"
fi
finish
