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
 * time (SQLite writes one at a time anyway). On MariaDB each unit gets its own pooled
 * connection and the gate lets everything through.
 */
export function gateFor(config: DatabaseConfig): Gate {
  const classified = <T>(work: () => Promise<T>) => () =>
    work().catch((err: unknown) => {
      throw classifyDatabaseError(err);
    });
  if (config.kind !== 'sqlite') return (work) => classified(work)();
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(work: () => Promise<T>): Promise<T> => {
    const unit = classified(work);
    const run = tail.then(unit, unit);
    tail = run.catch(() => undefined);
    return run;
  };
}
