// Issue #13: the pipelined path keeps its guarantees under kill -9. The all-in-one (SQLite,
// events on Kafka) drains a Dovecot folder in one pipelined batch with MOVE; it is killed
// three times while emails are being fetched, stored and moved, and restarted each time.
// After every kill, nothing has left INBOX that is not stored; at the end every email is
// stored once, its event is on the topic once, and every message sits in the target folder.
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
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
  testMail,
  type MailUser,
  type Proc,
} from '@postbote/testing';

const N = 400;
const KILL_AT = [40, 150, 270];

type Db = { prepare(sql: string): { all(): unknown[]; get(): unknown }; close(): void };
const Database = require('better-sqlite3') as new (file: string, o: object) => Db;
/** Message-IDs as storage keeps them (header text) and as IMAP's envelope gives them, made comparable. */
const bare = (id: string) => id.trim().replace(/^<|>$/g, '');

describe('kill -9 during a pipelined batch (all-in-one, SQLite, Kafka, IMAP MOVE)', () => {
  const dir = tempDir('pb-crash-');
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
    env = { ...(await serviceAddresses()), POSTBOTE_DATA_DIR: dir, KAFKA_BROKERS: TEST_KAFKA_BROKERS.join(','), KAFKA_NAMESPACE: namespace, KAFKA_PARTITIONS: '1', FETCHER_SESSION_TIMEOUT_MS: '6000', LOG_LEVEL: 'info' };
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
  });
});
