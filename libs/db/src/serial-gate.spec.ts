import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { gateFor } from './serial-gate';

describe('gateFor', () => {
  it('serialises work on SQLite, in arrival order, surviving failures', async () => {
    const gate = gateFor({ kind: 'sqlite', file: 'x' });
    const log: string[] = [];
    const step = (name: string, fail = false) =>
      gate(async () => {
        log.push(`${name}:start`);
        await new Promise((r) => setImmediate(r));
        log.push(`${name}:end`);
        if (fail) throw new Error(name);
        return name;
      });
    const results = await Promise.allSettled([step('a'), step('b', true), step('c')]);
    assert.deepEqual(log, ['a:start', 'a:end', 'b:start', 'b:end', 'c:start', 'c:end']);
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
  });

  it('is one FIFO per SQLite file in the process: services sharing a file never interleave their work', async () => {
    const config = gateFor({ kind: 'sqlite', file: '/tmp/shared.sqlite' });
    const storage = gateFor({ kind: 'sqlite', file: '/tmp/shared.sqlite' });
    const other = gateFor({ kind: 'sqlite', file: '/tmp/other.sqlite' });
    assert.equal(config, storage);
    assert.notEqual(config, other);
    const log: string[] = [];
    const step = (gate: typeof config, name: string) =>
      gate(async () => {
        log.push(`${name}:start`);
        await new Promise((r) => setImmediate(r));
        log.push(`${name}:end`);
      });
    await Promise.all([step(config, 'config'), step(storage, 'storage')]);
    assert.deepEqual(log, ['config:start', 'config:end', 'storage:start', 'storage:end']);
  });

  it('lets MariaDB work run concurrently', async () => {
    const gate = gateFor({ kind: 'mysql', url: 'mysql://x' });
    const log: string[] = [];
    const step = (name: string) =>
      gate(async () => {
        log.push(`${name}:start`);
        await new Promise((r) => setImmediate(r));
        log.push(`${name}:end`);
      });
    await Promise.all([step('a'), step('b')]);
    assert.deepEqual(log, ['a:start', 'b:start', 'a:end', 'b:end']);
  });
});
