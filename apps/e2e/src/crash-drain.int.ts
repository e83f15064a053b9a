// Issue #13: the pipelined path keeps its guarantees under kill -9. The all-in-one (SQLite,
// events on Kafka) drains a Dovecot folder in one pipelined batch with MOVE; it is killed
// three times while emails are being fetched, stored and moved, and restarted each time.
// After every kill, nothing has left INBOX that is not stored; at the end every email is
// stored once, its event is on the topic once, and every message sits in the target folder.
// Issue #28: the same with raw mail in an object store (S3Proxy), killed five times; at the
// end every email's object is there and, after the orphan sweep, no other object.
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InProcessBus } from '@postbote/bus';
import { createLogger } from '@postbote/logging';
import { loadStorageServiceConfig, startStorageService } from '@postbote/storage';
import { EnvReader } from '@postbote/env';
import {
  DOVECOT,
  TEST_KAFKA_BROKERS,
  consumeTopic,
  dovecotUser,
  eventually,
  mailboxAs,
  runCli,
  serviceAddresses,
  startAllInOne,
  tempDir,
  testBucket,
  testMail,
  type MailUser,
  type Proc,
} from '@postbote/testing';

const N = 400;
const DAY = 86_400_000;

type Db = { prepare(sql: string): { all(): unknown[]; get(): unknown }; close(): void };
const Database = require('better-sqlite3') as new (file: string, o: object) => Db;
/** Message-IDs as storage keeps them (header text) and as IMAP's envelope gives them, made comparable. */
const bare = (id: string) => id.trim().replace(/^<|>$/g, '');

for (const variant of [
  { label: 'chunks in SQLite', objects: false, killAt: [40, 150, 270] },
  { label: 'raw mail in S3Proxy', objects: true, killAt: [30, 90, 160, 230, 310] },
]) describe(`kill -9 during a pipelined batch (all-in-one, SQLite, Kafka, IMAP MOVE; ${variant.label})`, () => {
  const KILL_AT = variant.killAt;
  const dir = tempDir('pb-crash-');
  let bucket: Awaited<ReturnType<typeof testBucket>> | undefined;
  const namespace = `crash-${randomBytes(4).toString('hex')}`;
  const user: MailUser = dovecotUser('crash');
  let env: NodeJS.ProcessEnv;
  let proc: Proc | undefined;

  const storedIds = (): string[] => {
    const db = new Database(join(dir, 'postbote.sqlite'), { readonly: true, fileMustExist: true });
    try {
      return (db.prepare('SELECT message_id AS m FROM emails').all() as Array<{ m: string }>).map((r) => bare(r.m));
    } finally {
      db.close();
    }
  };
  const count = (sql: string): number => {
    try {
      const db = new Database(join(dir, 'postbote.sqlite'), { readonly: true, fileMustExist: true });
      try {
        return (db.prepare(sql).get() as { c: number }).c;
      } finally {
        db.close();
      }
    } catch {
      return 0; // not created yet
    }
  };
  /** Message-IDs per folder, as the server holds them. */
  const folders = async (): Promise<Record<'INBOX' | 'Done', string[]>> => {
    const c = await mailboxAs(user);
    try {
      const out = { INBOX: [] as string[], Done: [] as string[] };
      for (const f of ['INBOX', 'Done'] as const) {
        await c.mailboxOpen(f, { readOnly: true });
        if (c.mailbox && c.mailbox.exists === 0) continue;
        for await (const m of c.fetch('1:*', { envelope: true })) out[f].push(bare(m.envelope?.messageId ?? ''));
      }
      return out;
    } finally {
      await c.logout();
    }
  };

  before(async () => {
    const c = await mailboxAs(user);
    await c.mailboxCreate('Done');
    for (let i = 0; i < N; i++) {
      // Mostly small, every tenth 150 KB, every fiftieth 1.2 MB: a large message is fetched on
      // its own, so the batch is several fetch groups with MOVEs in between — kills land
      // while fetching, storing and moving.
      const lines = i % 50 === 25 ? 16_000 : i % 10 === 0 ? 2_000 : 0;
      await c.append('INBOX', testMail(`crash-${i}`, lines ? 'x'.repeat(76).concat('\r\n').repeat(lines) : `body ${i}`));
    }
    await c.logout();
    bucket = variant.objects ? await testBucket() : undefined;
    env = { ...(await serviceAddresses()), ...bucket?.env, POSTBOTE_DATA_DIR: dir, KAFKA_BROKERS: TEST_KAFKA_BROKERS.join(','), KAFKA_NAMESPACE: namespace, KAFKA_PARTITIONS: '1', FETCHER_SESSION_TIMEOUT_MS: '6000', LOG_LEVEL: 'info' };
  });

  after(() => {
    if (proc && proc.child.exitCode === null) proc.child.kill('SIGKILL');
  });

  it('loses nothing, moves nothing unstored, stores and triggers each email once', async (t) => {
    const t0 = Date.now();
    proc = await startAllInOne(env, 60_000);
    const created = runCli(
      env,
      ['connector', 'create', '--name', 'crash', '--protocol', 'imap', '--host', DOVECOT.host, '--port', String(DOVECOT.imaps), '--security', 'ssl', '--trusted-ca', DOVECOT.caFile, '--username', user.username, '--workflow', 'wf-crash', '--batch', String(N), '--interval', '10', '--strategy', 'move', '--move-to', 'Done', '--password-stdin'],
      user.password,
    );
    assert.equal(created.code, 0, created.err);

    for (const threshold of KILL_AT) {
      await eventually(() => count('SELECT COUNT(*) AS c FROM emails') >= threshold, 120_000, `${threshold} emails stored`);
      proc.child.kill('SIGKILL');
      await proc.exited;
      const stored = new Set(storedIds());
      const server = await folders();
      assert.ok(stored.size < N, `killed at ${stored.size} of ${N}: mid-batch`);
      t.diagnostic(`kill at ${threshold} (${((Date.now() - t0) / 1000).toFixed(1)} s): ${stored.size} stored, ${server.Done.length} moved`);
      assert.deepEqual(server.Done.filter((m) => !stored.has(m)), [], `after the kill at ${threshold}: moved but not stored`);
      assert.equal(server.INBOX.length + server.Done.length, N, 'every message is on the server, in one folder or the other');
      proc = await startAllInOne(env, 60_000);
      t.diagnostic(`restarted at ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }

    await eventually(async () => (await folders()).Done.length === N, 120_000, 'all moved');
    t.diagnostic(`all moved after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    await eventually(() => count('SELECT COUNT(*) AS c FROM trigger_outbox WHERE published_at IS NOT NULL') >= N, 60_000, 'all published');
    const stored = storedIds();
    assert.equal(stored.length, N, 'one stored email per message');
    assert.equal(new Set(stored).size, N, 'no message stored twice');
    const server = await folders();
    assert.equal(server.INBOX.length, 0);
    assert.equal(new Set(server.Done).size, N);

    const topic = `${namespace}.postbote.email-received.v1`;
    const records = await consumeTopic(TEST_KAFKA_BROKERS, topic, N, 60_000, 3_000);
    const eventIds = records.map((r) => r.headers['event-id']);
    assert.equal(records.length, N, 'one event per email on the topic, no more');
    assert.equal(new Set(eventIds).size, N);
    proc.child.kill('SIGTERM');
    assert.equal(await proc.exited, 0);
    if (bucket) await objectsAfterSweep(bucket, t);
  });

  /**
   * Every stored email has its object; kills between an object's write and its row's commit
   * left orphans, which the sweep (run here with the clock a day ahead) removes — and nothing else.
   */
  const objectsAfterSweep = async (b: NonNullable<typeof bucket>, t: { diagnostic(s: string): void }) => {
    const db = new Database(join(dir, 'postbote.sqlite'), { readonly: true, fileMustExist: true });
    const named = new Set((db.prepare('SELECT blob_key AS k FROM emails').all() as Array<{ k: string | null }>).map((r) => r.k));
    db.close();
    assert.equal(named.size, N, 'every email names an object of its own');
    assert.ok(!named.has(null), 'no email kept as chunks');
    const before = await b.keys();
    assert.deepEqual([...named].filter((k) => !before.includes(k as string)), [], 'no email without its object');
    Object.assign(process.env, b.env); // the SDK's credential chain, as in the all-in-one
    const storage = await startStorageService(loadStorageServiceConfig(new EnvReader({ ...env, STORAGE_SERVICE_ADDR: '127.0.0.1:0' })), { bus: new InProcessBus(), logger: createLogger({ service: 'storage', level: 'warn' }), now: () => new Date(Date.now() + DAY + 60_000) });
    try {
      const report = await storage.retention.runOnce(new Date(Date.now() + DAY + 60_000));
      t.diagnostic(`${before.length} objects after the drain, ${report.orphanBlobs} orphans swept`);
      assert.equal(report.orphanBlobs, before.length - N);
    } finally {
      await storage.stop();
    }
    assert.deepEqual((await b.keys()).sort(), [...named].sort(), 'exactly the stored emails\' objects remain');
  };
});
