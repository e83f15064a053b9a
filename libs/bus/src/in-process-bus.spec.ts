import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { DeliveredMessage } from './bus';
import { InProcessBus } from './in-process-bus';

const msg = (key: string, v: string) => ({ key, value: Buffer.from(v), headers: { 'event-id': v } });
const until = async (cond: () => boolean) => {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setImmediate(r));
  assert.ok(cond(), 'condition not reached');
};

describe('InProcessBus', () => {
  it('delivers in order, one at a time, to each group', async () => {
    const bus = new InProcessBus();
    const seen: string[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    await bus.subscribe({ topic: 't', groupId: 'g' }, async (m) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setImmediate(r));
      seen.push(Buffer.from(m.value!).toString());
      inFlight--;
    });
    await bus.publish('t', [msg('a', '1'), msg('b', '2')]);
    await bus.publish('t', [msg('a', '3')]);
    await until(() => seen.length === 3);
    assert.deepEqual(seen, ['1', '2', '3']);
    assert.equal(maxInFlight, 1);
    await bus.close();
  });

  it('replays a compacted topic from the beginning with the latest record per key', async () => {
    const bus = new InProcessBus();
    await bus.ensureTopics([{ topic: 'c', compacted: true }]);
    await bus.publish('c', [msg('a', '1'), msg('b', '2'), msg('a', '3')]);
    const seen: DeliveredMessage[] = [];
    await bus.subscribe({ topic: 'c', groupId: 'late', fromBeginning: true }, async (m) => void seen.push(m));
    await until(() => seen.length === 2);
    assert.deepEqual(seen.map((m) => `${m.key}=${Buffer.from(m.value!).toString()}`), ['b=2', 'a=3']);
    await bus.close();
  });

  it('redelivers a record whose handler failed (at-least-once)', async () => {
    const errors: unknown[] = [];
    const bus = new InProcessBus({ onHandlerError: (e) => errors.push(e) });
    let attempts = 0;
    const done: string[] = [];
    await bus.subscribe({ topic: 't', groupId: 'g' }, async (m) => {
      if (attempts++ === 0) throw new Error('transient');
      done.push(m.headers['event-id']!);
    });
    await bus.publish('t', [msg('k', 'x')]);
    await until(() => errors.length === 1);
    await bus.publish('t', [msg('k', 'y')]);
    await until(() => done.length === 2);
    assert.deepEqual(done, ['x', 'y']);
    await bus.close();
  });
});
