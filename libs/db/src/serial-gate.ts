import type { DatabaseConfig } from './database-config';

/** Runs database work; see `gateFor`. */
export type Gate = <T>(work: () => Promise<T>) => Promise<T>;

/**
 * TypeORM's better-sqlite3 driver shares one connection per DataSource, and an open
 * transaction on it swallows any statement issued meanwhile by other async code — which
 * a rollback then silently undoes. So on SQLite every unit of database work runs through
 * this FIFO gate, one at a time (SQLite writes one at a time anyway). On MariaDB each
 * unit gets its own pooled connection and the gate lets everything through.
 */
export function gateFor(config: DatabaseConfig): Gate {
  if (config.kind !== 'sqlite') return (work) => work();
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(work: () => Promise<T>): Promise<T> => {
    const run = tail.then(work, work);
    tail = run.catch(() => undefined);
    return run;
  };
}
