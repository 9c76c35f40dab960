#!/usr/bin/env bash
# Installs the browser test's one npm package, by name and pinned, into DIR
# (default: node/ beside this script's build use, see CMakeLists.txt) when it
# is not there yet. Never downloads a browser: the test drives Debian's
# /usr/bin/chromium. No lockfile, no package.json, nothing written into the
# source tree.
#
#   tests/console/install-node-deps.sh DIR
set -euo pipefail
DIR=${1:?usage: install-node-deps.sh DIR}
PUPPETEER_VERSION=24.43.1
mkdir -p "$DIR"
have=$(node -e "try{console.log(require('$DIR/node_modules/puppeteer-core/package.json').version)}catch(e){}" 2>/dev/null || true)
if [ "$have" = "$PUPPETEER_VERSION" ]; then
  exit 0
fi
command -v npm >/dev/null || { echo "install-node-deps: npm not found (apt-get install npm)" >&2; exit 1; }
# puppeteer-core has no browser download step; these make sure nothing else does.
export PUPPETEER_SKIP_DOWNLOAD=1 PUPPETEER_SKIP_CHROMIUM_DOWNLOAD=1
timeout 300 npm install --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
  --prefix "$DIR" "puppeteer-core@$PUPPETEER_VERSION"
node -e "require('$DIR/node_modules/puppeteer-core')" || { echo "install-node-deps: puppeteer-core did not install" >&2; exit 1; }
