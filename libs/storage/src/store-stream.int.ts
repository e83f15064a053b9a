import { strict as assert } from 'node:assert';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ClientDuplexStream } from '@grpc/grpc-js';
import { InProcessBus } from '@postbote/bus';
import { TimeoutError, ValidationError } from '@postbote/errors';
import { connect, fromGrpcError } from '@postbote/grpc-runtime';
import { CapturedLog, createLogger } from '@postbote/logging';
import { StorageServiceClient, type StoreEmailsRequest, type StoreEmailsResponse, type StoreSession } from '@postbote/proto';
import { StoreEmailsStream } from '@postbote/service-clients';
import { AS_FETCHER, TEST_SECURITY, TEST_TOKENS, eventually, sqliteTestDatabase, tempDir, type TestDatabase } from '@postbote/testing';
import { DataSource } from 'typeorm';
import { startStorageService, type RunningStorageService } from './storage-service';

// The StoreEmails protocol at the wire: what a client sends decides what is stored. An
// email is committed only after an end carrying the right size and hash; every other
// way an email can stop stores nothing of it.

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const mail = (id: string, body = 'hello') => Buffer.from(`From: a@example.test\r\nMessage-ID: <${id}@example.test>\r\nSubject: ${id}\r\n\r\n${body}\r\n`, 'latin1');
const pop3 = (uidl: string) => ({ source: { $case: 'pop3' as const, value: { uidl } } });

/** A raw StoreEmails call and what came back on it. */
function rawCall(client: StorageServiceClient) {
  const call: ClientDuplexStream<StoreEmailsRequest, StoreEmailsResponse> = client.storeEmails({ deadline: Date.now() + 30_000 });
  const acks: StoreEmailsResponse[] = [];
  const ended = new Promise<Error | null>((resolve) => {
    call.on('data', (a: StoreEmailsResponse) => acks.push(a));
    call.on('error', (e) => resolve(fromGrpcError(e as never)));
    call.on('end', () => resolve(null));
  });
  const w = (m: StoreEmailsRequest['part']) => call.write({ part: m });
  return {
    call,
    acks,
    ended,
    session: (s: StoreSession) => w({ $case: 'session', value: s }),
    begin: (seq: number, uidl: string) => w({ $case: 'begin', value: { seq, source: pop3(uidl), occurrence: '', receivedAt: new Date() } }),
    data: (b: Buffer) => w({ $case: 'data', value: b }),
    end: (seq: number, size: number, hash: string) => w({ $case: 'end', value: { seq, size, sha256: hash } }),
    abort: (seq: number) => w({ $case: 'abort', value: { seq, reason: 'test' } }),
    /** A complete email: begin, data in two pieces, end. */
    email(seq: number, uidl: string, bytes: Buffer) {
      this.begin(seq, uidl);
      this.data(bytes.subarray(0, bytes.length >> 1));
      this.data(bytes.subarray(bytes.length >> 1));
      this.end(seq, bytes.length, sha(bytes));
    },
  };
}

describe('StoreEmails protocol (SQLite)', () => {
  let db: TestDatabase;
  let svc: RunningStorageService;
  let client: StorageServiceClient;
  let spoolDir: string;
  const bus = new InProcessBus();

  const rows = async (sql: string, params: unknown[] = []) => {
    const ds = new DataSource({ type: 'better-sqlite3', database: db.config.kind === 'sqlite' ? db.config.file : '' });
    await ds.initialize();
    try {
      return (await ds.query(sql, params)) as Array<Record<string, unknown>>;
    } finally {
      await ds.destroy();
    }
  };
  const emailsOf = async (connectorId: string) => (await rows('SELECT uidl, size FROM emails WHERE connector_id = ? ORDER BY uidl', [connectorId])).map((r) => `${r['uidl']}:${r['size']}`);
  const session = (connectorId: string): StoreSession => ({ connectorId });
  /** A connector storage knows (as if announced on the connectors topic). */
  const newConnector = async () => {
    const id = randomUUID();
    await svc.connectors.upserted({ id, workspace: 'default', name: 'n', workflowId: 'wf', reprocess: false, retentionDays: 30 }, new Date());
    return id;
  };

  before(async () => {
    db = await sqliteTestDatabase();
    spoolDir = join(tempDir('pb-stream-'), 'spool');
    // Leftovers of a killed process: swept at start-up, before any store.
    mkdirSync(spoolDir, { recursive: true });
    writeFileSync(join(spoolDir, `${randomUUID()}.eml.part`), 'half an upload');
    writeFileSync(join(spoolDir, 'keep.txt'), 'not ours');
    svc = await startStorageService(
      { address: '127.0.0.1:0', publicAddress: undefined, database: db.config, spoolDir, maxMessageBytes: 12 * 1024 * 1024, purgeIntervalSeconds: 3600, purgeBatchSize: 100, logRetentionDays: 30, dedupeExtraDays: 365, parseWorkers: 1, security: TEST_SECURITY, configAddress: '127.0.0.1:1' },
      { bus, tokens: TEST_TOKENS, logger: createLogger({ service: 'storage', level: 'silent', destination: new CapturedLog() }) },
    );
    client = connect(StorageServiceClient, svc.address, AS_FETCHER);
  });

  after(async () => {
    client.close();
    await svc.stop();
    await bus.close();
    await db.drop();
  });

  it('sweeps scratch files of interrupted uploads at start-up, and only those', () => {
    assert.deepEqual(readdirSync(spoolDir), ['keep.txt']);
  });

  it('carries many emails on one stream, each acknowledged in order after its commit', async () => {
    const c = await newConnector();
    const r = rawCall(client);
    r.session(session(c));
    for (let i = 1; i <= 60; i++) r.email(i, `m${String(i).padStart(2, '0')}`, mail(`many-${i}`, 'x'.repeat(i * 100)));
    r.call.end();
    assert.equal(await r.ended, null);
    assert.deepEqual(r.acks.map((a) => a.seq), Array.from({ length: 60 }, (_, i) => i + 1));
    assert.ok(r.acks.every((a) => a.outcome?.$case === 'stored' && !a.outcome.value.duplicate));
    assert.equal((await emailsOf(c)).length, 60);
    assert.equal(Number((await rows('SELECT COUNT(*) AS n FROM trigger_outbox WHERE connector_id = ?', [c]))[0]!['n']), 60);
  });

  it('stores nothing of an email whose stream is cancelled mid-way; the ones ended before stay', async () => {
    const c = await newConnector();
    const r = rawCall(client);
    r.session(session(c));
    r.email(1, 'whole', mail('whole'));
    await eventually(async () => r.acks.length === 1, 5_000, 'first ack');
    const big = mail('cut', 'y'.repeat(6 * 1024 * 1024)); // spills to a scratch file
    r.begin(2, 'cut');
    r.data(big.subarray(0, 5 * 1024 * 1024));
    await eventually(async () => readdirSync(spoolDir).some((n) => n.endsWith('.eml.part')), 5_000, 'upload spilled to disk');
    r.call.cancel();
    await r.ended;
    await eventually(async () => !readdirSync(spoolDir).some((n) => n.endsWith('.eml.part')), 5_000, 'scratch file removed');
    assert.deepEqual(await emailsOf(c), [`whole:${mail('whole').length}`]);
  });

  it('stores nothing of an email the client half-closes the stream on without an end', async () => {
    const c = await newConnector();
    const r = rawCall(client);
    r.session(session(c));
    r.begin(1, 'no-end');
    r.data(mail('no-end'));
    r.call.end();
    assert.equal(await r.ended, null);
    assert.deepEqual(r.acks, []);
    assert.deepEqual(await emailsOf(c), []);
  });

  it('refuses an end whose size or hash differs from what arrived, and goes on with the next email', async () => {
    const c = await newConnector();
    const bytes = mail('counted', 'z'.repeat(500));
    const r = rawCall(client);
    r.session(session(c));
    r.begin(1, 'short');
    r.data(bytes.subarray(0, 100));
    r.end(1, bytes.length, sha(bytes)); // the client meant more than arrived
    r.begin(2, 'tampered');
    r.data(Buffer.concat([bytes.subarray(0, 20), Buffer.from('X'), bytes.subarray(21)]));
    r.end(2, bytes.length, sha(bytes));
    r.email(3, 'fine', bytes);
    r.call.end();
    assert.equal(await r.ended, null);
    assert.deepEqual(
      r.acks.map((a) => (a.outcome?.$case === 'refused' ? a.outcome.value.code : a.outcome?.$case)),
      ['SIZE_MISMATCH', 'HASH_MISMATCH', 'stored'],
    );
    assert.deepEqual(await emailsOf(c), [`fine:${bytes.length}`]);
  });

  it('stores nothing of an aborted email and takes the next one', async () => {
    const c = await newConnector();
    const r = rawCall(client);
    r.session(session(c));
    r.begin(1, 'aborted');
    r.data(mail('aborted'));
    r.abort(1);
    r.email(2, 'after', mail('after'));
    r.call.end();
    assert.equal(await r.ended, null);
    assert.deepEqual(r.acks.map((a) => a.seq), [2]);
    assert.deepEqual(await emailsOf(c), [`after:${mail('after').length}`]);
  });

  it('ends the stream with INVALID_ARGUMENT on a begin before the end; the unfinished email is not stored', async () => {
    const c = await newConnector();
    const r = rawCall(client);
    r.session(session(c));
    r.email(1, 'first', mail('first'));
    r.begin(2, 'open');
    r.data(mail('open'));
    r.begin(3, 'early');
    const err = await r.ended;
    assert.ok(err instanceof ValidationError, String(err));
    assert.match(err.message, /email 2 was not ended or aborted before email 3 began/);
    // Email 1 was ended before the mistake: its commit may finish after the stream failed.
    await eventually(async () => (await emailsOf(c)).length === 1, 5_000, 'email 1 committed');
    assert.deepEqual(await emailsOf(c), [`first:${mail('first').length}`]);
  });

  it('refuses an email over the size limit without holding its bytes', async () => {
    const c = await newConnector();
    const huge = Buffer.alloc(13 * 1024 * 1024, 0x61);
    const r = rawCall(client);
    r.session(session(c));
    r.email(1, 'huge', huge);
    r.email(2, 'small', mail('small'));
    r.call.end();
    assert.equal(await r.ended, null);
    assert.equal(r.acks[0]!.outcome?.$case === 'refused' && r.acks[0]!.outcome.value.code, 'TOO_LARGE');
    assert.deepEqual(await emailsOf(c), [`small:${mail('small').length}`]);
  });

  it('a client whose content fails mid-email sends an abort: nothing of it is stored, the stream goes on', async () => {
    const c = await newConnector();
    const stream = StoreEmailsStream.open(client, session(c), { deadlineMs: 30_000 });
    const failing = (async function* () {
      yield mail('broken').subarray(0, 30);
      throw new Error('mail server closed the connection');
    })();
    await assert.rejects(stream.send({ source: pop3('broken'), occurrence: '', receivedAt: new Date(), content: failing }), /mail server closed/);
    const { ack } = await stream.send({ source: pop3('next'), occurrence: '', receivedAt: new Date(), content: mail('next') });
    await stream.finish();
    assert.equal('stored' in (await ack), true);
    assert.deepEqual(await emailsOf(c), [`next:${mail('next').length}`]);
  });

  it('keeps two deliveries with identical bytes and no Message-ID apart (see decision 0011)', async () => {
    const c = await newConnector();
    const alert = Buffer.from('From: monitor@example.test\r\nSubject: disk full\r\n\r\n/var is full\r\n');
    const stream = StoreEmailsStream.open(client, session(c), { deadlineMs: 30_000 });
    const a = await stream.send({ source: pop3('alert-1'), occurrence: '', receivedAt: new Date(), content: alert });
    const b = await stream.send({ source: pop3('alert-2'), occurrence: '', receivedAt: new Date(), content: alert });
    await stream.finish();
    const [first, second] = [await a.ack, await b.ack];
    assert.ok('stored' in first && 'stored' in second);
    assert.equal(first.stored.duplicate || second.stored.duplicate, false);
    assert.notEqual(first.stored.emailId, second.stored.emailId);
    assert.equal(existsSync(spoolDir), true);
  });

  describe('in the same process (the all-in-one: no gRPC between fetcher and storage)', () => {
    const email = (uidl: string, content: Uint8Array | AsyncIterable<Uint8Array>) => ({ source: pop3(uidl), occurrence: '', receivedAt: new Date(), content });

    it('stores and acknowledges in order, like the gRPC stream', async () => {
      const c = await newConnector();
      const stream = StoreEmailsStream.open(svc.localStoreEmails, session(c), { deadlineMs: 30_000 });
      const acks = [];
      for (let i = 0; i < 20; i++) acks.push((await stream.send(email(`l${String(i).padStart(2, '0')}`, mail(`local-${i}`)))).ack);
      await stream.finish();
      const done = await Promise.all(acks);
      assert.ok(done.every((a) => 'stored' in a && !a.stored.duplicate));
      // Storage takes the fetcher's SHA-256 here (decision 0037): it is the bytes' own.
      assert.deepEqual(
        done.map((a) => ('stored' in a ? a.stored.sha256 : '')),
        Array.from({ length: 20 }, (_, i) => sha(mail(`local-${i}`))),
      );
      assert.equal((await emailsOf(c)).length, 20);
    });

    it('stores nothing of an email whose content fails, nor of one cut off by cancel', async () => {
      const c = await newConnector();
      const stream = StoreEmailsStream.open(svc.localStoreEmails, session(c), { deadlineMs: 30_000 });
      const failing = (async function* () {
        yield mail('broken').subarray(0, 20);
        throw new Error('connection reset');
      })();
      await assert.rejects(stream.send(email('broken', failing)), /connection reset/);
      const { ack } = await stream.send(email('kept', mail('kept')));
      assert.ok('stored' in (await ack));
      let cut = () => undefined as void;
      const hanging = (async function* () {
        yield mail('hanging').subarray(0, 20);
        // The mail server goes quiet; cancelling the run then closes its connection.
        await new Promise<void>((r) => (cut = r));
        throw new Error('connection closed');
      })();
      const pending = stream.send(email('hanging', hanging));
      await new Promise((r) => setTimeout(r, 50));
      stream.cancel();
      cut();
      await assert.rejects(pending);
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(await emailsOf(c), [`kept:${mail('kept').length}`]);
    });

    it('ends a stream past its deadline with DEADLINE_EXCEEDED', async () => {
      const stream = StoreEmailsStream.open(svc.localStoreEmails, session(await newConnector()), { deadlineMs: 100 });
      const slow = (async function* () {
        yield Buffer.from('Subject: slow\r\n');
        await new Promise((r) => setTimeout(r, 500));
        yield Buffer.from('\r\nbody\r\n');
      })();
      await assert.rejects(stream.send(email('slow', slow)), (e: unknown) => e instanceof TimeoutError);
    });
  });
});
