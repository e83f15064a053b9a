#!/usr/bin/env bash
# The whole suite, as CI runs it and as the README's Quick start says:
# install dependencies, start the servers the tests need (MariaDB, a Kafka broker),
# type-check, lint, build, test.
# Ends with the runner's line "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
export NX_NO_CLOUD=true NX_DAEMON=false NX_SKIP_NX_CACHE=${NX_SKIP_NX_CACHE:-false}

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

bash scripts/test-env.sh up
trap 'bash scripts/test-env.sh down' EXIT

echo "== typecheck"
npx tsc -p tsconfig.json --noEmit
echo "== lint (module boundaries, floating promises, import cycles; one eslint run for the whole tree)"
npm run lint --silent
echo "== build (tests drive the bundled services as separate processes)"
node tools/build.mjs
echo "== tests"
node tools/run-tests.mjs "$@"
