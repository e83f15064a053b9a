// Issue #10.3: on a new cluster or a new KAFKA_NAMESPACE, services create their topics at
// start and a moment-old topic answers "does not host this topic-partition" (KRaft), which
// kafkajs does not retry. Starting must wait that out, never exit. 20 cold starts of the
// all-in-one and 20 of the four separate services launched together, each on a fresh
// namespace, all come up and stay up.
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  REPO_ROOT,
  TEST_KAFKA_BROKERS,
  ensureBuilt,
  eventually,
  healthStatus,
  launch,
  mariaDbTestDatabase,
  serviceAddresses,
  tempDir,
  type Proc,
  type TestDatabase,
} from '@postbote/testing';

const ROUNDS = Number(process.env['POSTBOTE_COLD_STARTS'] ?? 20);
// Two at a time: enough to race each other for the same cluster, light enough not to starve
// the tests running beside this one.
const PARALLEL = 2;

const kafkaEnv = () => ({
  KAFKA_BROKERS: TEST_KAFKA_BROKERS.join(','),
  KAFKA_NAMESPACE: `cold-${randomBytes(5).toString('hex')}`,
  KAFKA_PARTITIONS: '8',
  POSTBOTE_INTERNAL_TOKEN: randomBytes(24).toString('hex'),
  LOG_LEVEL: 'info',
});

/** Waits until every address answers health SERVING; fails with the processes' output if one exits. */
async function allServing(procs: Proc[], addresses: string[]): Promise<void> {
  await eventually(
    async () => {
      const dead = procs.find((p) => p.child.exitCode !== null);
      if (dead) throw new Error(`a process exited ${dead.child.exitCode}: ${dead.err().slice(-1500)} ${dead.out().slice(-1500)}`);
      const states = await Promise.all(addresses.map((a) => healthStatus(a, '').catch(() => 'DOWN')));
      return states.every((s) => s === 'SERVING');
    },
    90_000,
    'all services serving',
  );
}

async function inBatches(n: number, parallel: number, round: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < n) await round(next++);
    }),
  );
}

describe(`cold starts on fresh Kafka namespaces (${ROUNDS} each)`, () => {
  const dbs: TestDatabase[] = [];
  before(() => ensureBuilt());
  after(async () => {
    for (const db of dbs) await db.drop().catch(() => undefined);
  });

  it('the all-in-one comes up every time', async () => {
    await inBatches(ROUNDS, PARALLEL, async () => {
      const env = { POSTBOTE_DATA_DIR: tempDir('pb-cold-'), ...(await serviceAddresses()), ...kafkaEnv() };
      const proc = launch(join(REPO_ROOT, 'dist/apps/cli/main.js'), ['start'], env);
      try {
        await allServing([proc], [env.CONFIG_SERVICE_ADDR, env.STORAGE_SERVICE_ADDR, env.TRIGGER_SERVICE_ADDR, env.FETCHER_SERVICE_ADDR]);
        // The start line follows the web console, which binds after the gRPC servers answer.
        await eventually(() => proc.out().includes('postbote is running') || proc.child.exitCode !== null, 15_000, 'the start line');
        assert.match(proc.out(), /postbote is running/);
      } finally {
        // Only the start is under test; a kill spares the seconds a clean Kafka leave takes.
        proc.child.kill('SIGKILL');
        await proc.exited;
      }
    });
  });

  it('the four services launched together come up every time', async () => {
    await inBatches(ROUNDS, PARALLEL, async () => {
      const db = await mariaDbTestDatabase();
      dbs.push(db);
      if (db.config.kind !== 'mysql') throw new Error('MariaDB expected');
      const env = { ...(await serviceAddresses()), ...kafkaEnv(), DATABASE_URL: db.config.url, POSTBOTE_MASTER_KEYS: `k1:${randomBytes(32).toString('base64')}` };
      const procs = ['config-service', 'storage-service', 'trigger-service', 'fetcher-service'].map((app) => launch(join(REPO_ROOT, `dist/apps/${app}/main.js`), [], env));
      try {
        await allServing(procs, [env.CONFIG_SERVICE_ADDR, env.STORAGE_SERVICE_ADDR, env.TRIGGER_SERVICE_ADDR, env.FETCHER_SERVICE_ADDR]);
      } finally {
        for (const p of procs) p.child.kill('SIGKILL');
        await Promise.all(procs.map((p) => p.exited));
      }
    });
  });
});
