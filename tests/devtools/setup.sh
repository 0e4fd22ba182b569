#!/bin/sh
# setup.sh: install what tests/devtools/load_heapsnapshot.mjs needs: Node.js (apt, if missing)
# and, from the npm registry, Chrome DevTools' front end (chrome-devtools-frontend, the sources
# of DevTools' heap snapshot loader) and TypeScript (to turn those sources into JavaScript).
#
# Usage: sh tests/devtools/setup.sh [DIR]   (default /var/cache/pyheap/devtools)
# A no-op when DIR already holds both packages at the versions below. Root (or sudo) only for
# apt. The integration test (tests/integration/test_devtools.py) finds DIR through
# PYHEAP_DEVTOOLS (same default) and skips, saying so, when it is absent, unless
# PYHEAP_REQUIRE_DEVTOOLS=1.
set -eu
DIR=${1:-${PYHEAP_DEVTOOLS:-/var/cache/pyheap/devtools}}
FRONTEND=chrome-devtools-frontend@1.0.1705227
TYPESCRIPT=typescript@5.9.3

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    SUDO=""
    [ "$(id -u)" = 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq nodejs npm
fi
stamp="$DIR/.installed-$FRONTEND-$TYPESCRIPT"
if [ -f "$stamp" ]; then
    exit 0
fi
mkdir -p "$DIR"
# --ignore-scripts: nothing of the packages runs at install time.
npm install --prefix "$DIR" --no-audit --no-fund --ignore-scripts --omit=dev \
    "$FRONTEND" "$TYPESCRIPT" >/dev/null
touch "$stamp"
echo "setup.sh: DevTools' front end and TypeScript are in $DIR"
