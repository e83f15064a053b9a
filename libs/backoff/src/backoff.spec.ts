import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { backoffDelay, sleep } from './backoff';

describe('backoffDelay', () => {
  const policy = { initialMs: 100, maxMs: 1000, factor: 2, jitter: 0.5 };
  it('grows exponentially up to the cap', () => {
    assert.deepEqual([0, 1, 2, 3, 4, 10].map((a) => backoffDelay(a, policy, () => 0)), [100, 200, 400, 800, 1000, 1000]);
  });
  it('jitters downwards within the configured share', () => {
    assert.equal(backoffDelay(2, policy, () => 1), 200);
    assert.equal(backoffDelay(2, policy, () => 0.5), 300);
  });
});

describe('sleep', () => {
  it('rejects when aborted', async () => {
    const ac = new AbortController();
    const p = sleep(10_000, ac.signal);
    ac.abort(new Error('stop'));
    await assert.rejects(p, /stop/);
  });
});
