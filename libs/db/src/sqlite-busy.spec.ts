import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { UnavailableError } from '@postbote/errors';
import { classifyDatabaseError } from './database-errors';
import { retryWhileBusy, SQLITE_BUSY_TIMEOUT_MS } from './sqlite-busy';

// SQLite answers SQLITE_BUSY before its busy timeout only in races it cannot be driven into on
// demand, so the transaction here fails the way better-sqlite3 reports it, on a simulated clock.
function simulated() {
  let now = 0;
  const pauses: number[] = [];
  return { clock: { now: () => now, sleep: (ms: number) => (pauses.push(ms), (now += ms)) }, pauses };
}
const sqliteError = (code: string) => Object.assign(new Error(code === 'SQLITE_CONSTRAINT_UNIQUE' ? 'UNIQUE constraint failed' : 'database is locked'), { code });

/** Runs a transaction that always fails with `code`; how many attempts and pauses it took. */
function alwaysFailing(code: string) {
  const { clock, pauses } = simulated();
  let attempts = 0;
  const thrown = (() => {
    try {
      retryWhileBusy(() => {
        attempts++;
        throw sqliteError(code);
      }, clock);
    } catch (err) {
      return err as { code?: string };
    }
    return undefined;
  })();
  return { thrown, attempts, pauses };
}

describe('retryWhileBusy: a writer-thread transaction that SQLite refused as busy', () => {
  it('runs again, with growing pauses, until SQLite lets it through', () => {
    const { clock, pauses } = simulated();
    const codes = ['SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_BUSY', 'SQLITE_BUSY_RECOVERY'];
    let attempts = 0;
    const result = retryWhileBusy(() => {
      const code = codes[attempts++];
      if (code) throw sqliteError(code);
      return 7;
    }, clock);
    assert.equal(result, 7);
    assert.equal(attempts, 5);
    assert.deepEqual(pauses, [2, 5, 10, 25]);
  });

  it('gives up with the busy error once the busy timeout is spent, never waiting past it', () => {
    const { thrown, attempts, pauses } = alwaysFailing('SQLITE_BUSY');
    assert.equal(thrown?.code, 'SQLITE_BUSY');
    assert.equal(
      pauses.reduce((a, b) => a + b, 0),
      SQLITE_BUSY_TIMEOUT_MS,
    );
    assert.ok(attempts > 90 && attempts < 120, `${attempts} attempts in ${SQLITE_BUSY_TIMEOUT_MS} ms`);
  });

  it('lets any other error through at once: a unique violation is an answer, not a lock', () => {
    const { thrown, attempts, pauses } = alwaysFailing('SQLITE_CONSTRAINT_UNIQUE');
    assert.equal(thrown?.code, 'SQLITE_CONSTRAINT_UNIQUE');
    assert.equal(attempts, 1);
    assert.deepEqual(pauses, []);
  });

  it('names every busy code, extended ones too, as the database being unavailable', () => {
    for (const code of ['SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_BUSY_RECOVERY']) {
      const named = classifyDatabaseError(sqliteError(code));
      assert.ok(named instanceof UnavailableError && named.reason === 'DATABASE_UNAVAILABLE', code);
    }
    assert.equal(classifyDatabaseError(sqliteError('SQLITE_CONSTRAINT_UNIQUE')) instanceof UnavailableError, false);
  });
});
