// Worker thread: runs write transactions on its own connection to the SQLite file, so a
// commit's disk sync (synchronous=FULL) never blocks the service's event loop. Statements
// arrive as SQL with parameters (see TransactionRunner); prepared statements are cached.
import { workerData } from 'node:worker_threads';
import { serveJobs } from '@postbote/threads';
import { retryWhileBusy, SQLITE_BUSY_TIMEOUT_MS, type BusyRetry } from './sqlite-busy';
import type { Statement } from './transaction-runner';

interface Db {
  pragma(s: string): unknown;
  prepare(sql: string): { run(...params: unknown[]): { changes: number } };
  transaction(fn: () => void): { immediate(): void };
}
// better-sqlite3 ships no types; this is all the writer uses of it.
const Database = require('better-sqlite3') as new (file: string) => Db;

const db = new Database((workerData as { file: string }).file);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
db.pragma('foreign_keys = ON');

const cache = new Map<string, ReturnType<Db['prepare']>>();
function prepared(sql: string): ReturnType<Db['prepare']> {
  let s = cache.get(sql);
  if (!s) {
    if (cache.size >= 1_000) cache.clear();
    s = db.prepare(sql);
    cache.set(sql, s);
  }
  return s;
}

// Buffers arrive as plain Uint8Arrays (structured clone); better-sqlite3 binds Buffers only.
const bind = (p: unknown) => (p instanceof Uint8Array && !Buffer.isBuffer(p) ? Buffer.from(p.buffer, p.byteOffset, p.byteLength) : p);

// A job is one transaction: what SQLite refuses as busy is run again (see retryWhileBusy).
const pause = new Int32Array(new SharedArrayBuffer(4));
const clock: BusyRetry = { now: () => Date.now(), sleep: (ms) => void Atomics.wait(pause, 0, 0, ms) };

/** Rows the transaction changed, in all. */
serveJobs((statements: Statement[]) =>
  retryWhileBusy(() => {
    let changes = 0;
    db.transaction(() => {
      for (const s of statements) changes += prepared(s.sql).run(...s.params.map(bind)).changes;
    }).immediate();
    return changes;
  }, clock),
);
