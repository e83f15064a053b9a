import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { RunSlots } from './run-slots';

describe('RunSlots', () => {
  it('admits a workspace\'s runs up to its limit, first come first served, and leaves other workspaces alone', async () => {
    const limits = new Map([['a', 1]]);
    const slots = new RunSlots((w) => limits.get(w) ?? 0);
    const order: string[] = [];
    const never = new AbortController().signal;
    const first = await slots.acquire('a', never);
    const second = slots.acquire('a', never).then((r) => (order.push('second'), r));
    const third = slots.acquire('a', never).then((r) => (order.push('third'), r));
    // Workspace b has no limit: not held up by a's queue.
    const b = await slots.acquire('b', never);
    assert.deepEqual(slots.usage('a'), { running: 1, waiting: 2 });
    first();
    (await second)();
    (await third)();
    b();
    assert.deepEqual(order, ['second', 'third']);
    assert.deepEqual(slots.usage('a'), { running: 0, waiting: 0 });
  });

  it('drops an aborted waiter from the queue and admits more when the limit is raised', async () => {
    const limits = new Map([['a', 1]]);
    const slots = new RunSlots((w) => limits.get(w) ?? 0);
    const held = await slots.acquire('a', new AbortController().signal);
    const stop = new AbortController();
    const aborted = slots.acquire('a', stop.signal);
    const next = slots.acquire('a', new AbortController().signal);
    stop.abort(new Error('connector stopped'));
    await assert.rejects(aborted, /connector stopped/);
    limits.set('a', 2);
    slots.changed('a');
    (await next)();
    held();
    held();
    assert.deepEqual(slots.usage('a'), { running: 0, waiting: 0 }, 'a release counts once');
  });
});
