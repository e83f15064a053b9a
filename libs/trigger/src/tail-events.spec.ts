import { strict as assert } from 'node:assert';
import { getEventListeners } from 'node:events';
import { describe, it } from 'node:test';
import { Bell } from './tail-events';

describe('Bell (the events tail\'s wake-up)', () => {
  it('keeps one abort listener however often the tail goes idle', async () => {
    const ac = new AbortController();
    const bell = new Bell(ac.signal);
    for (let i = 0; i < 1_000; i++) {
      const waiting = bell.wait();
      bell.ring();
      await waiting;
    }
    assert.equal(getEventListeners(ac.signal, 'abort').length, 1);
    bell.close();
    assert.equal(getEventListeners(ac.signal, 'abort').length, 0);
  });

  it('wakes a waiter when the call ends', async () => {
    const ac = new AbortController();
    const bell = new Bell(ac.signal);
    const waiting = bell.wait();
    ac.abort();
    await waiting;
    await bell.wait(); // already ended: resolves at once
  });
});
