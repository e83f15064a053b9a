import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { SimulatedClock } from '@postbote/backoff';
import { GroupCommitter } from './group-commit';

const settle = () => new Promise((r) => setImmediate(r));

describe('GroupCommitter (group commit)', () => {
  it('writes what queued during a write as the next group, in order', async () => {
    const groups: number[][] = [];
    const c = new GroupCommitter<number, string>(
      async (items) => {
        groups.push([...items]);
        await new Promise((r) => setTimeout(r, 5));
        return items.map((i) => `ok ${i}`);
      },
      () => 1,
      { maxItems: 100, maxWeight: 100 },
    );
    const first = c.submit(1);
    const rest = [2, 3, 4].map((i) => c.submit(i));
    assert.deepEqual(await Promise.all([first, ...rest]), ['ok 1', 'ok 2', 'ok 3', 'ok 4']);
    assert.deepEqual(groups, [[1], [2, 3, 4]]);
  });

  it('writes an item that finds it idle at once, without lingering (a pushed email waits for no company)', async () => {
    const clock = new SimulatedClock();
    const groups: number[][] = [];
    const c = new GroupCommitter<number, number>(async (items) => (groups.push([...items]), [...items]), () => 1, { maxItems: 10, maxWeight: 10, lingerMs: 5 }, clock);
    const first = c.submit(7);
    await settle();
    assert.deepEqual(groups, [[7]], 'written without waiting for company');
    assert.equal(await first, 7);
    const second = c.submit(8);
    await settle();
    assert.deepEqual(groups, [[7], [8]], 'and again after the committer went idle');
    assert.equal(await second, 8);
    assert.equal(clock.nextTimerIn(), undefined);
  });

  it('lingers for followers when items arrive during a write, bounded by count and weight (one heavy item still goes alone)', async () => {
    const clock = new SimulatedClock();
    const groups: number[][] = [];
    let release: () => void = () => undefined;
    const c = new GroupCommitter<number, number>(
      async (items) => {
        groups.push([...items]);
        if (groups.length === 1) await new Promise<void>((r) => (release = r));
        return [...items];
      },
      (i) => i,
      { maxItems: 3, maxWeight: 10, lingerMs: 5 },
      clock,
    );
    const first = c.submit(1);
    await settle();
    assert.deepEqual(groups, [[1]], 'the first goes at once');
    const during = [c.submit(2), c.submit(3)];
    release();
    await first;
    await settle();
    assert.equal(clock.nextTimerIn(), 5, 'the next group waits for company');
    const later = [4, 20, 1].map((i) => c.submit(i));
    clock.increment(5);
    await settle();
    for (let i = 0; i < 5 && c.waiting > 0; i++) {
      clock.increment(5);
      await settle();
    }
    assert.deepEqual(await Promise.all([...during, ...later]), [2, 3, 4, 20, 1]);
    assert.deepEqual(groups, [[1], [2, 3, 4], [20], [1]]);
  });

  it('fails only the items the writer fails, and all of a group whose write throws', async () => {
    const c = new GroupCommitter<number, number>(
      async (items) => {
        if (items.includes(4)) throw new Error('database down');
        return items.map((i) => (i === 2 ? new Error('bad 2') : i));
      },
      () => 1,
      { maxItems: 10, maxWeight: 10 },
    );
    const r = await Promise.allSettled([c.submit(1), c.submit(2), c.submit(3)]);
    assert.deepEqual(r.map((x) => x.status), ['fulfilled', 'rejected', 'fulfilled']);
    await assert.rejects(c.submit(4), /database down/);
    assert.equal(c.waiting, 0);
  });
});
