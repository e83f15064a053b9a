#!/usr/bin/env bash
# `npm run bench`: the benchmarks of docs/benchmarks.md, from a clean checkout. Starts the
# servers they need (as the test command does), installs Debian's fetchmail for the
# reference, builds, runs each benchmark and writes its table to bench/results/.
#   npm run bench                 everything (about 75 minutes on 2 cores)
#   npm run bench -- drain        one benchmark: drain | drain-warm | parse | fleet | fleet-sharded | memory | latency
#   BENCH_MESSAGES=2000 BENCH_RUNS=1 npm run bench -- drain    a quick look
set -euo pipefail
cd "$(dirname "$0")/.."
export NX_NO_CLOUD=true NX_DAEMON=false

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
command -v fetchmail >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fetchmail >/dev/null; }
bash scripts/test-env.sh up
trap 'bash scripts/test-env.sh down' EXIT
node tools/build.mjs

mkdir -p bench/results
stamp=$(date -u +%Y%m%dT%H%M%SZ)
which=${1:-all}
run() {
  local name=$1; shift
  local out="$name${TAG:+-$TAG}"
  echo "== $out"
  npx tsx "bench/$name.bench.ts" "$@" | tee "bench/results/$stamp-$out.md"
}
[ "$which" = all ] || [ "$which" = drain ] && run drain --messages "${BENCH_MESSAGES:-10000}" --runs "${BENCH_RUNS:-3}"
# A running service's drain: the same process drained 3,000 other emails first (V8 has compiled the hot paths).
[ "$which" = all ] || [ "$which" = drain-warm ] && TAG=warm run drain --messages 3000 --runs "${BENCH_RUNS:-3}" --warm 3000 --backends embedded,embedded-s3
# The metadata parser alone, both corpora, against mailparser in the same process (no servers needed).
[ "$which" = all ] || [ "$which" = parse ] && run parse && TAG=documents run parse --shape documents
[ "$which" = all ] || [ "$which" = fleet ] && run fleet && TAG=push run fleet --sizes 2000 --push true
[ "$which" = all ] || [ "$which" = fleet-sharded ] && run fleet-sharded --connectors "${BENCH_CONNECTORS:-2000}"
[ "$which" = all ] || [ "$which" = memory ] && run memory
[ "$which" = all ] || [ "$which" = latency ] && run latency
echo "tables written to bench/results/$stamp-*.md"
