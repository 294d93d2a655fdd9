#!/usr/bin/env bash
# openapi-validate.sh FILE|--install — validates an OpenAPI 3.1 document with
# @apidevtools/swagger-parser (npm; Debian 12 packages no OpenAPI 3.1
# validator), installed once into build/npm (CNOVA_NPM_DIR) from npm.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
DIR=${CNOVA_NPM_DIR:-$REPO/build/npm}
if [ ! -d "$DIR/node_modules/@apidevtools/swagger-parser" ]; then
    command -v npm >/dev/null || { echo "openapi-validate: npm missing (scripts/deps.sh)" >&2; exit 2; }
    mkdir -p "$DIR"
    npm install --prefix "$DIR" --no-audit --no-fund --silent @apidevtools/swagger-parser@13.1.0 >&2
fi
[ "${1:-}" = --install ] && exit 0
NODE_PATH=$DIR/node_modules exec node "$REPO/tests/tools/openapi-validate.js" "$1"
