import type { DatabaseConfig } from './database-config';
import { classifyDatabaseError } from './database-errors';

/** Runs database work; see `gateFor`. */
export type Gate = <T>(work: () => Promise<T>) => Promise<T>;

/**
 * Every unit of database work passes through a gate, which also names an outage
 * (DATABASE_UNAVAILABLE) in the one place all database work goes through.
 *
 * TypeORM's better-sqlite3 driver shares one connection per DataSource, and an open
 * transaction on it swallows any statement issued meanwhile by other async code — which
 * a rollback then silently undoes. So on SQLite every unit runs through a FIFO, one at a
 * time (SQLite writes one at a time anyway). The FIFO is one per file in the process: in
 * the all-in-one, config, storage and trigger each open the file, and better-sqlite3 waits
 * for a lock synchronously — one service's statement waiting for the lock froze the thread
 * on which another service's open transaction would have committed, until the busy timeout
 * (10 s) ended it with SQLITE_BUSY. (The storage writer thread has its own thread and
 * connection; waiting for it is fine.) On MariaDB each unit gets its own pooled connection
 * and the gate lets everything through.
 */
const sqliteGates = new Map<string, Gate>();

export function gateFor(config: DatabaseConfig): Gate {
  const classified = <T>(work: () => Promise<T>) => () =>
    work().catch((err: unknown) => {
      throw classifyDatabaseError(err);
    });
  if (config.kind !== 'sqlite') return (work) => classified(work)();
  const known = sqliteGates.get(config.file);
  if (known) return known;
  let tail: Promise<unknown> = Promise.resolve();
  const gate: Gate = <T>(work: () => Promise<T>): Promise<T> => {
    const unit = classified(work);
    const run = tail.then(unit, unit);
    tail = run.catch(() => undefined);
    return run;
  };
  sqliteGates.set(config.file, gate);
  return gate;
}
