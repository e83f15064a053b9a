/** How long an SQLite connection waits for another's lock before its statement fails (every connection, every thread). */
export const SQLITE_BUSY_TIMEOUT_MS = 10_000;

/** SQLITE_BUSY and its extended codes (…_SNAPSHOT, …_RECOVERY, …_TIMEOUT). */
export function isSqliteBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

export interface BusyRetry {
  now(): number;
  /** Blocks the calling thread for `ms` (the writer thread has nothing else to do meanwhile). */
  sleep(ms: number): void;
}

/** Pauses between attempts, in ms; the last one repeats until the timeout is spent. */
const PAUSES_MS = [2, 5, 10, 25, 50, 100];

/**
 * Runs `transaction` again while SQLite answers SQLITE_BUSY, until SQLITE_BUSY_TIMEOUT_MS has
 * passed since the first attempt. Why: the busy timeout does not guarantee a wait — SQLite
 * returns SQLITE_BUSY at once where it judges that waiting could deadlock, and some WAL lock
 * races end the same way. Measured: a writer thread's BEGIN IMMEDIATE refused after 197 ms of a
 * 10 s timeout while the storage and trigger writer threads and the services' connections all
 * wrote to the one file; a store failed the same way once, which cost the connector a whole
 * interval. better-sqlite3's maintainers point to a retry loop (WiseLibs/better-sqlite3#155,
 * #1275). Safe only for a unit that is one transaction, which SQLite rolled back whole: the
 * writer thread's jobs are.
 */
export function retryWhileBusy<T>(transaction: () => T, clock: BusyRetry): T {
  const deadline = clock.now() + SQLITE_BUSY_TIMEOUT_MS;
  for (let attempt = 0; ; attempt++) {
    try {
      return transaction();
    } catch (err) {
      const left = deadline - clock.now();
      if (!isSqliteBusy(err) || left <= 0) throw err;
      clock.sleep(Math.min(left, PAUSES_MS[Math.min(attempt, PAUSES_MS.length - 1)] ?? 100));
    }
  }
}
