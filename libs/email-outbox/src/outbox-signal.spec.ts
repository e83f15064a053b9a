import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { OutboxSignal } from './outbox-signal';

const settledWithin = async (p: Promise<unknown>, ms: number) => {
  let timer: NodeJS.Timeout | undefined;
  const r = await Promise.race([p.then(() => 'settled', () => 'rejected'), new Promise((res) => (timer = setTimeout(() => res('pending'), ms)))]);
  clearTimeout(timer);
  return r;
};

describe('OutboxSignal', () => {
  it('wakes a waiting relay at once on a notice, long before its poll interval', async () => {
    const s = new OutboxSignal();
    const waiting = s.wait(60_000);
    s.notify();
    assert.equal(await settledWithin(waiting, 1_000), 'settled');
  });

  it('keeps a notice that came while nobody waited for the next wait, once', async () => {
    const s = new OutboxSignal();
    s.notify();
    s.notify();
    assert.equal(await settledWithin(s.wait(60_000), 1_000), 'settled');
    assert.equal(await settledWithin(s.wait(60_000), 50), 'pending', 'two notices before a wait are one');
  });

  it('returns after the interval without a notice, and rejects when the relay stops', async () => {
    const s = new OutboxSignal();
    assert.equal(await settledWithin(s.wait(10), 1_000), 'settled');
    const stop = new AbortController();
    const waiting = s.wait(60_000, stop.signal);
    stop.abort(new Error('stopping'));
    await assert.rejects(waiting, /stopping/);
    await assert.rejects(s.wait(10, stop.signal), /stopping/);
  });
});
