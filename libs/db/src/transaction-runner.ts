import type { DataSource } from 'typeorm';
import { WorkerPool, WorkerJobError } from '@postbote/threads';
import type { DatabaseConfig } from './database-config';
import { classifyDatabaseError, isDeadlock } from './database-errors';
import type { Gate } from './serial-gate';

/** One SQL statement with `?` placeholders (the same on SQLite and MariaDB). */
export interface Statement {
  readonly sql: string;
  readonly params: readonly unknown[];
}

/**
 * Runs hot-path write transactions as plain SQL, without the ORM's per-statement cost:
 * on SQLite in a writer thread with its own connection (the disk sync of a commit then
 * happens off the event loop); on MariaDB on the service's pool. `dialect` builds SQL the
 * way each database wants it.
 */
export interface TransactionRunner {
  readonly dialect: SqlDialect;
  /** Runs the statements in one transaction; resolves with the rows they changed in all. */
  run(statements: readonly Statement[]): Promise<number>;
  close(): Promise<void>;
}

export interface SqlDialect {
  readonly kind: 'sqlite' | 'mysql';
  quote(identifier: string): string;
  /** A datetime parameter as the ORM stores it (SQLite: UTC text; MariaDB: a Date). */
  datetime(d: Date): unknown;
  /** Multi-row INSERT (… OR IGNORE / IGNORE: rows whose key exists are skipped). */
  insert(table: string, columns: readonly string[], rows: ReadonlyArray<readonly unknown[]>, ignoreExisting?: boolean): Statement;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

function dialectOf(kind: 'sqlite' | 'mysql'): SqlDialect {
  const quote = kind === 'sqlite' ? (i: string) => `"${i}"` : (i: string) => `\`${i}\``;
  return {
    kind,
    quote,
    datetime: (d) =>
      kind === 'mysql'
        ? d
        : // TypeORM's SQLite format (DateUtils.mixedDateToUtcDatetimeString), so its reads see the same values.
          `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}`,
    insert: (table, columns, rows, ignoreExisting = false) => {
      const verb = ignoreExisting ? (kind === 'sqlite' ? 'INSERT OR IGNORE' : 'INSERT IGNORE') : 'INSERT';
      const tuple = `(${columns.map(() => '?').join(', ')})`;
      return {
        sql: `${verb} INTO ${quote(table)} (${columns.map(quote).join(', ')}) VALUES ${rows.map(() => tuple).join(', ')}`,
        params: rows.flat(),
      };
    },
  };
}

/** The runner for a service's database: a writer thread on SQLite, the pool on MariaDB. */
export function transactionRunner(config: DatabaseConfig, ds: DataSource, gate: Gate, workerDir = __dirname): TransactionRunner {
  if (config.kind === 'sqlite') return sqliteRunner(config.file, workerDir);
  const dialect = dialectOf('mysql');
  const once = (statements: readonly Statement[]) =>
    ds.transaction(async (tx) => {
      let changes = 0;
      for (const s of statements) {
        if (s.params.some((p) => Buffer.isBuffer(p))) changes += await execute((await tx.queryRunner?.connect()) as BinaryProtocolConnection, s);
        else changes += affectedRows(await tx.query(s.sql, [...s.params]));
      }
      return changes;
    });
  return {
    dialect,
    // InnoDB ends one of two transactions that wait on each other (a store's inserts and a
    // retention purge's range delete take gap locks in different orders) and rolls it back
    // whole; running it again is what the server asks for. Retried inside the gate, on the
    // driver's error: the gate names what remains (a deadlock still, after the attempts, as
    // DATABASE_UNAVAILABLE) — retried outside it, the error would already be renamed.
    run: (statements) =>
      gate(async () => {
        for (let attempt = 1; ; attempt++) {
          try {
            return await once(statements);
          } catch (err) {
            if (!isDeadlock(err) || attempt >= DEADLOCK_ATTEMPTS) throw err;
          }
        }
      }),
    close: async () => undefined,
  };
}

const DEADLOCK_ATTEMPTS = 5;

/** The part of a mysql2 connection the binary protocol needs (the transaction's own connection). */
interface BinaryProtocolConnection {
  execute(sql: string, values: unknown[], callback: (err: Error | null, result?: unknown) => void): unknown;
}

/** mysql2's answer to a statement that writes (a ResultSetHeader); 0 for anything else. */
function affectedRows(result: unknown): number {
  const n = (result as { affectedRows?: unknown } | null)?.affectedRows;
  return typeof n === 'number' ? n : 0;
}

/**
 * A statement carrying mail bytes goes as a prepared statement (the binary protocol): its
 * BLOB parameters travel as they are, where a text query sends them hex-escaped at twice
 * the size for the server to parse — 4 MiB of chunks went 4–6× faster in a direct
 * comparison on this machine's MariaDB (decision 0011). mysql2 keeps each distinct SQL text
 * prepared per connection; the writer's texts differ only by row count (at most 200 rows
 * per INSERT), so a pool holds a few hundred, far below MariaDB's `max_prepared_stmt_count`.
 */
function execute(conn: BinaryProtocolConnection, s: Statement): Promise<number> {
  return new Promise((resolve, reject) => conn.execute(s.sql, [...s.params], (err, result) => (err ? reject(err) : resolve(affectedRows(result)))));
}

function sqliteRunner(file: string, workerDir: string): TransactionRunner {
  const pool = new WorkerPool<readonly Statement[], number>({ dir: workerDir, name: 'sqlite-writer', size: 1, workerData: { file } });
  return {
    dialect: dialectOf('sqlite'),
    run: async (statements) => {
      try {
        return await pool.run(statements);
      } catch (err) {
        throw classifyDatabaseError(err instanceof WorkerJobError ? Object.assign(new Error(err.message), { code: err.code }) : err);
      }
    },
    close: () => pool.close(),
  };
}
