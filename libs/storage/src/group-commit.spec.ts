import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { GroupCommitter } from './group-commit';

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

  it('lingers for followers, bounded by count and weight (one heavy item still goes alone)', async () => {
    const groups: number[][] = [];
    const c = new GroupCommitter<number, number>(async (items) => (groups.push([...items]), [...items]), (i) => i, { maxItems: 3, maxWeight: 10, lingerMs: 5 });
    await Promise.all([1, 2, 3, 4, 20, 1].map((i) => c.submit(i)));
    assert.deepEqual(groups, [[1, 2, 3], [4], [20], [1]]);
  });

  it('fails only the items the writer fails, and all of a group whose write throws', async () => {
    let call = 0;
    const c = new GroupCommitter<number, number>(
      async (items) => {
        if (call++ === 0) return items.map((i) => (i === 2 ? new Error('bad 2') : i));
        throw new Error('database down');
      },
      () => 1,
      { maxItems: 10, maxWeight: 10, lingerMs: 2 },
    );
    const r = await Promise.allSettled([c.submit(1), c.submit(2), c.submit(3)]);
    assert.deepEqual(r.map((x) => x.status), ['fulfilled', 'rejected', 'fulfilled']);
    await assert.rejects(c.submit(4), /database down/);
    assert.equal(c.waiting, 0);
  });
});
