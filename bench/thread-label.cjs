// Preloaded into the all-in-one by drain.bench.ts (`node -r`, which worker threads inherit):
// each worker thread writes its Linux thread id and what it is into BENCH_THREAD_LABELS, so
// cpu-split.ts can tell the metadata parser and the SQLite writer from V8's and libuv's
// helper threads (on Node 20 every thread is called "node" in /proc).
const { isMainThread, workerData } = require('node:worker_threads');
const { readlinkSync, writeFileSync } = require('node:fs');
const dir = process.env.BENCH_THREAD_LABELS;
if (dir && !isMainThread) {
  const tid = readlinkSync('/proc/thread-self').split('/').pop();
  const label = workerData && typeof workerData === 'object' && 'file' in workerData ? 'sqlite-writer' : workerData && typeof workerData === 'object' && 'previewChars' in workerData ? 'parser' : 'worker';
  writeFileSync(`${dir}/${tid}`, label);
}
