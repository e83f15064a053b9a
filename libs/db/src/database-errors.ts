import { PostboteError, UnavailableError } from '@postbote/errors';
import { isSqliteBusy } from './sqlite-busy';

// Driver error codes that mean "the database is not there right now" rather than "this
// statement is wrong": mysql2 connection errors, and SQLite's locked/full states (busy and
// I/O errors by their prefix: better-sqlite3 reports extended codes, e.g. SQLITE_BUSY_SNAPSHOT).
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_CON_COUNT_ERROR',
  'ER_SERVER_SHUTDOWN',
  'ER_LOCK_WAIT_TIMEOUT',
  // Still a deadlock after the runner's attempts: the caller retries later, as for an outage.
  'ER_LOCK_DEADLOCK',
  'ER_ACCESS_DENIED_ERROR',
  'ER_BAD_DB_ERROR',
  'SQLITE_LOCKED',
  'SQLITE_FULL',
  'SQLITE_CANTOPEN',
  'SQLITE_READONLY',
]);

function driverCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; errno?: unknown; driverError?: { code?: unknown } } | null;
  const code = e?.driverError?.code ?? e?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Names a database outage as such: UNAVAILABLE with reason DATABASE_UNAVAILABLE, so a
 * caller (and the connector log) says which dependency is down instead of "internal
 * error". Anything else passes through unchanged.
 */
export function classifyDatabaseError(err: unknown): unknown {
  if (err instanceof PostboteError) return err;
  const code = driverCode(err);
  const pool = err instanceof Error && /Pool is closed|Connection lost|Can't add new command when connection is in closed state/i.test(err.message);
  if ((code && (UNAVAILABLE_CODES.has(code) || code.startsWith('SQLITE_IOERR') || isSqliteBusy({ code }))) || pool) {
    return new UnavailableError(`database unavailable (${code ?? 'connection closed'})`, { cause: err, reason: 'DATABASE_UNAVAILABLE' });
  }
  return err;
}

/** InnoDB chose this transaction as a deadlock's victim and rolled it back whole: running it again is what the server asks for. */
export function isDeadlock(err: unknown): boolean {
  return driverCode(err) === 'ER_LOCK_DEADLOCK';
}

/** A unique or primary key was already taken (SQLite or MariaDB; ORM, driver or writer thread). */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown; driverError?: { code?: unknown } } | null;
  const code = e?.driverError?.code ?? e?.code;
  if (code === 'ER_DUP_ENTRY' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') return true;
  return /UNIQUE constraint failed|Duplicate entry/i.test(String(e?.message ?? ''));
}
