import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { WorkerJobError, WorkerPool } from './worker-pool';

type Req = { echo?: string; fail?: string; die?: boolean };
const pool = (size: number) => new WorkerPool<Req, { echo: string; thread: number }>({ dir: __dirname, name: 'echo-worker.fixture', size });

describe('WorkerPool', () => {
  it('answers every job by id and spreads them over the workers', async () => {
    const p = pool(2);
    try {
      const res = await Promise.all(Array.from({ length: 20 }, (_, i) => p.run({ echo: `m${i}` })));
      assert.deepEqual(res.map((r) => r.echo), Array.from({ length: 20 }, (_, i) => `m${i}`));
      assert.equal(new Set(res.map((r) => r.thread)).size, 2);
    } finally {
      await p.close();
    }
  });

  it('passes a job\'s error and code back; a worker that dies fails its jobs and is replaced', async () => {
    const p = pool(1);
    try {
      await assert.rejects(p.run({ fail: 'nope' }), (e: unknown) => e instanceof WorkerJobError && e.code === 'E_TEST' && e.message === 'nope');
      await assert.rejects(p.run({ die: true }), (e: unknown) => e instanceof WorkerJobError && e.code === 'WORKER_DIED');
      assert.equal((await p.run({ echo: 'again' })).echo, 'again');
    } finally {
      await p.close();
    }
    await assert.rejects(p.run({ echo: 'closed' }), /closed/);
  });
});
