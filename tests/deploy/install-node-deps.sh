#!/usr/bin/env bash
# Installs the manifest test's npm packages, by name and pinned, into DIR (in
# the build tree) when they are not there yet: kubernetes-models (the
# Kubernetes object schemas, checked offline) and yaml (to parse the
# manifests). No lockfile, no package.json, nothing written into the source
# tree.
#
#   tests/deploy/install-node-deps.sh DIR
set -euo pipefail
DIR=${1:?usage: install-node-deps.sh DIR}
K8S_MODELS_VERSION=5.1.0
YAML_VERSION=2.9.1
mkdir -p "$DIR"
version() { node -e "try{console.log(require('$DIR/node_modules/$1/package.json').version)}catch(e){}" 2>/dev/null || true; }
if [ "$(version kubernetes-models)" = "$K8S_MODELS_VERSION" ] && [ "$(version yaml)" = "$YAML_VERSION" ]; then
  exit 0
fi
command -v npm >/dev/null || { echo "install-node-deps: npm not found (apt-get install npm)" >&2; exit 1; }
timeout 300 npm install --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
  --prefix "$DIR" "kubernetes-models@$K8S_MODELS_VERSION" "yaml@$YAML_VERSION"
[ "$(version kubernetes-models)" = "$K8S_MODELS_VERSION" ] || { echo "install-node-deps: kubernetes-models did not install" >&2; exit 1; }
