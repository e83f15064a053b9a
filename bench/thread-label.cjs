// Preloaded into the all-in-one by drain.bench.ts (`node -r`, which worker threads inherit):
// each worker thread writes its Linux thread id and its name (process.argv[1], which
// spawnWorker sets: parse-worker, sqlite-writer) into BENCH_THREAD_LABELS, so cpu-split.ts can
// tell them from V8's and libuv's helper threads (on Node 20 every thread is called "node" in /proc).
const { isMainThread } = require('node:worker_threads');
const { readlinkSync, writeFileSync } = require('node:fs');
const dir = process.env.BENCH_THREAD_LABELS;
if (dir && !isMainThread) {
  const tid = readlinkSync('/proc/thread-self').split('/').pop();
  writeFileSync(`${dir}/${tid}`, process.argv[1] || 'worker');
}
