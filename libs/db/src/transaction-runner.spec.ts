import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { DataSource } from 'typeorm';
import { UnavailableError } from '@postbote/errors';
import { gateFor } from './serial-gate';
import { transactionRunner } from './transaction-runner';

// A deadlock cannot be had from a real server on demand (InnoDB picks its victim), so the
// DataSource here fails its transactions the way mysql2 reports a deadlock victim.
function deadlockingDs(victims: number): { ds: DataSource; attempts: () => number } {
  let attempts = 0;
  const ds = {
    transaction: async () => {
      attempts++;
      if (attempts <= victims) throw Object.assign(new Error('Deadlock found when trying to get lock; try restarting transaction'), { code: 'ER_LOCK_DEADLOCK' });
    },
  } as unknown as DataSource;
  return { ds, attempts: () => attempts };
}

describe('MariaDB transaction runner', () => {
  const config = { kind: 'mysql' as const, url: 'mysql://unused/x' };

  it('runs a deadlock victim again, through the gate that names outages', async () => {
    const { ds, attempts } = deadlockingDs(2);
    await transactionRunner(config, ds, gateFor(config)).run([{ sql: 'SELECT 1', params: [] }]);
    assert.equal(attempts(), 3);
  });

  it('gives up after five attempts, as DATABASE_UNAVAILABLE', async () => {
    const { ds, attempts } = deadlockingDs(100);
    await assert.rejects(transactionRunner(config, ds, gateFor(config)).run([]), (e: unknown) => e instanceof UnavailableError && e.reason === 'DATABASE_UNAVAILABLE');
    assert.equal(attempts(), 5);
  });
});
