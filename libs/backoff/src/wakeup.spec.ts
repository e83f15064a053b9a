import { strict as assert } from 'node:assert';
import { getEventListeners } from 'node:events';
import { describe, it } from 'node:test';
import { Wakeup } from './wakeup';

const settledWithin = async (p: Promise<unknown>, ms: number) => {
  let timer: NodeJS.Timeout | undefined;
  const r = await Promise.race([p.then(() => 'settled', () => 'rejected'), new Promise((res) => (timer = setTimeout(() => res('pending'), ms)))]);
  clearTimeout(timer);
  return r;
};

describe('Wakeup', () => {
  it('wakes a waiting loop at once on a notice, long before its poll interval', async () => {
    const w = new Wakeup();
    const waiting = w.wait(60_000);
    w.notify();
    assert.equal(await settledWithin(waiting, 1_000), 'settled');
  });

  it('keeps a notice that came while nobody waited for the next wait, once', async () => {
    const w = new Wakeup();
    w.notify();
    w.notify();
    assert.equal(await settledWithin(w.wait(60_000), 1_000), 'settled');
    assert.equal(await settledWithin(w.wait(60_000), 50), 'pending', 'two notices before a wait are one');
  });

  it('returns after the interval without a notice; with Infinity it waits for a notice only', async () => {
    const w = new Wakeup();
    assert.equal(await settledWithin(w.wait(10), 1_000), 'settled');
    const forever = w.wait(Infinity);
    assert.equal(await settledWithin(forever, 50), 'pending');
    w.notify();
    assert.equal(await settledWithin(forever, 1_000), 'settled');
  });

  it('rejects when the loop is stopped, and leaves no abort listener behind however often it waits', async () => {
    const stop = new AbortController();
    const w = new Wakeup();
    for (let i = 0; i < 1_000; i++) {
      const waiting = w.wait(60_000, stop.signal);
      w.notify();
      await waiting;
    }
    assert.equal(getEventListeners(stop.signal, 'abort').length, 0);
    const waiting = w.wait(60_000, stop.signal);
    stop.abort(new Error('stopping'));
    await assert.rejects(waiting, /stopping/);
    await assert.rejects(w.wait(10, stop.signal), /stopping/);
    assert.equal(getEventListeners(stop.signal, 'abort').length, 0);
  });
});
