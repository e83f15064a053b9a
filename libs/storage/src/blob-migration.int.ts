import { strict as assert } from 'node:assert';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { InProcessBus } from '@postbote/bus';
import { connect, call } from '@postbote/grpc-runtime';
import { createLogger, CapturedLog } from '@postbote/logging';
import { StorageServiceClient, type MigrateBlobsResponse } from '@postbote/proto';
import { storeOne } from '@postbote/service-clients';
import { AS_FETCHER, S3PROXY, TEST_DATABASES, TEST_SCOPE, TEST_TOKENS, asRole, s3TestClient, testBucket, type TestDatabase } from '@postbote/testing';
import { DataSource } from 'typeorm';
import { parseBlobsUrl } from './s3-blob-store';
import { startStorageService, type RunningStorageService } from './storage-service';
import { downloadRaw, testServiceConfig } from './testdata/storage-service.fixture';

// `postbote storage migrate-blobs` (decision 0030) at the service: an installation switching
// to an object store moves the raw mail it kept as database chunks, online — one storage
// service still without MAIL_BLOBS_URL stores chunks beside one that has it and migrates.

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
process.env['AWS_ACCESS_KEY_ID'] = S3PROXY.accessKeyId;
process.env['AWS_SECRET_ACCESS_KEY'] = S3PROXY.secretAccessKey;

const mail = (id: string, body = 'hello') => Buffer.from(`From: a@example.test\r\nMessage-ID: <${id}@example.test>\r\nSubject: ${id}\r\n\r\n${body}\r\n`, 'latin1');
const GRPC = { 'grpc.max_receive_message_length': 8 * 1024 * 1024 };

for (const [label, makeDb] of TEST_DATABASES) {
  describe(`moving raw mail from database chunks into an object store on ${label}`, () => {
    let db: TestDatabase;
    let bucket: Awaited<ReturnType<typeof testBucket>>;
    let chunked: RunningStorageService;
    let migrating: RunningStorageService;
    let fetcher: InstanceType<typeof StorageServiceClient>;
    let admin: InstanceType<typeof StorageServiceClient>;
    let reader: InstanceType<typeof StorageServiceClient>;
    const buses: InProcessBus[] = [];
    const log = new CapturedLog();

    const start = async (blobsUrl?: string) => {
      const bus = new InProcessBus();
      buses.push(bus);
      return startStorageService(testServiceConfig(db.config, blobsUrl ? { blobs: parseBlobsUrl(blobsUrl) } : {}), { bus, tokens: TEST_TOKENS, logger: createLogger({ service: 'storage', level: 'info', destination: log }) });
    };
    /** Stores on the service without an object store: the bytes become chunks. */
    const storeChunked = async (connectorId: string, bytes: Buffer) => {
      const ack = await storeOne(fetcher, { connectorId }, { source: { source: { $case: 'pop3', value: { uidl: randomUUID() } } }, occurrence: '', receivedAt: new Date(), content: bytes });
      if ('refused' in ack) throw new Error(`refused ${ack.refused.code}`);
      return ack.stored.emailId;
    };
    const migrate = (maxEmails: number, afterEmailId = ''): Promise<MigrateBlobsResponse> => call(admin.migrateBlobs, admin, { maxEmails, afterEmailId }, { deadlineMs: 60_000 });
    const migrateAll = async () => {
      const all: MigrateBlobsResponse[] = [];
      let after = '';
      for (let done = false; !done; ) {
        const res = await migrate(2, after);
        all.push(res);
        after = res.nextAfterEmailId;
        done = res.done;
      }
      return all;
    };
    const query = async (sql: string, params: unknown[] = []) => {
      const ds = new DataSource(db.config.kind === 'sqlite' ? { type: 'better-sqlite3', database: db.config.file } : { type: 'mysql', url: db.config.url });
      await ds.initialize();
      try {
        return (await ds.query(sql, params)) as Array<Record<string, unknown>>;
      } finally {
        await ds.destroy();
      }
    };
    const rowOf = async (emailId: string) => {
      const [row] = await query('SELECT blob_key, chunk_count, (SELECT COUNT(*) FROM email_chunks c WHERE c.email_id = e.id) AS chunks FROM emails e WHERE id = ?', [emailId]);
      return { blobKey: row?.['blob_key'] as string | null, chunkCount: Number(row?.['chunk_count']), chunks: Number(row?.['chunks']) };
    };

    before(async () => {
      db = await makeDb();
      bucket = await testBucket();
      chunked = await start();
      migrating = await start(bucket.url);
      fetcher = connect(StorageServiceClient, chunked.address, AS_FETCHER);
      admin = connect(StorageServiceClient, migrating.address, asRole('installation-admin'));
      reader = connect(StorageServiceClient, migrating.address, asRole('viewer'), GRPC);
    });

    after(async () => {
      for (const c of [fetcher, admin, reader]) c.close();
      await chunked.stop();
      await migrating.stop();
      for (const b of buses) await b.close();
      await db.drop();
    });

    it('moves every email into one object byte for byte, a batch per call, resuming where an interrupted run left an object behind', async () => {
      const connectors = [randomUUID(), randomUUID()];
      for (const id of connectors) await chunked.connectors.upserted({ id, workspace: 'default', name: 'm', workflowId: 'wf', reprocess: false, retentionDays: 30 }, new Date());
      const emails = new Map<string, Buffer>();
      const bodies = [mail('m1'), mail('m2'), Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(4000)]), Buffer.concat([mail('big', ''), randomBytes(6 * 1024 * 1024 + 17)]), mail('m5')];
      for (const [i, bytes] of bodies.entries()) emails.set(await storeChunked(connectors[i % 2] ?? '', bytes), bytes);
      for (const id of emails.keys()) assert.equal((await rowOf(id)).blobKey, null, 'stored as chunks');

      const counted = await migrate(0);
      assert.equal(Number(counted.remainingEmails), 5);
      assert.equal(Number(counted.remainingBytes), [...emails.values()].reduce((n, b) => n + b.length, 0));

      // An earlier run, killed between writing an object and naming it, left a wrong one behind.
      const [firstId] = [...emails.keys()].sort();
      const s3 = s3TestClient();
      const stale = `mail/default/${connectors[[...emails.keys()].indexOf(firstId ?? '') % 2]}/${firstId}.eml`;
      try {
        await s3.send(new PutObjectCommand({ Bucket: bucket.bucket, Key: stale, Body: 'half an email' }));
      } finally {
        s3.destroy();
      }

      const calls = await migrateAll();
      assert.equal(calls.length, 3, 'five emails, two per call');
      assert.equal(calls.reduce((n, c) => n + Number(c.migratedEmails), 0), 5);
      assert.deepEqual(calls.flatMap((c) => c.failures), []);
      const keys = await bucket.keys();
      for (const [id, bytes] of emails) {
        const row = await rowOf(id);
        assert.ok(row.blobKey && keys.includes(row.blobKey), `${id} names its object`);
        assert.equal(row.chunks, 0, 'its chunks are gone');
        assert.equal(row.chunkCount, 0);
        assert.equal(sha(await downloadRaw(reader, id)), sha(bytes), 'downloaded from the object, byte for byte');
      }
      assert.equal(Number((await migrate(0)).remainingEmails), 0);
      assert.equal((await migrateAll()).reduce((n, c) => n + Number(c.migratedEmails), 0), 0, 'a second run finds nothing to move');
    });

    it('leaves an email whose chunks fail its SHA-256 in the database (BYTES_MISMATCH) and moves the rest', async () => {
      const connectorId = randomUUID();
      await chunked.connectors.upserted({ id: connectorId, workspace: 'default', name: 'm', workflowId: 'wf', reprocess: false, retentionDays: 30 }, new Date());
      const bad = await storeChunked(connectorId, mail('bad', 'original'));
      const good = await storeChunked(connectorId, mail('good'));
      await query('UPDATE email_chunks SET data = ? WHERE email_id = ?', [mail('bad', 'tampered'), bad]);
      const calls = await migrateAll();
      const failures = calls.flatMap((c) => c.failures);
      assert.deepEqual(failures.map((f) => [f.emailId, f.reason]), [[bad, 'BYTES_MISMATCH']]);
      assert.equal((await rowOf(bad)).blobKey, null, 'the bad one stays on its chunks');
      assert.equal((await rowOf(bad)).chunks, 1);
      assert.ok((await rowOf(good)).blobKey, 'the good one moved');
      assert.ok(!(await bucket.keys()).some((k) => k.endsWith(`${bad}.eml`)), 'no object for the bad one');
      await query('DELETE FROM emails WHERE id = ?', [bad]);
    });

    it('a download reading an email\'s chunks as they move goes on from its object', async () => {
      const connectorId = randomUUID();
      await chunked.connectors.upserted({ id: connectorId, workspace: 'default', name: 'm', workflowId: 'wf', reprocess: false, retentionDays: 30 }, new Date());
      const bytes = Buffer.concat([mail('moving', ''), randomBytes(3 * 1024 * 1024)]);
      const id = await storeChunked(connectorId, bytes);
      const reading = migrating.store.readRaw(TEST_SCOPE, id);
      const first = await reading.next();
      assert.ok(!first.done && first.value.length > 0);
      await migrateAll();
      assert.ok((await rowOf(id)).blobKey, 'moved while the download was under way');
      const rest: Buffer[] = [first.value as Buffer];
      for (let r = await reading.next(); !r.done; r = await reading.next()) rest.push(r.value);
      assert.equal(sha(Buffer.concat(rest)), sha(bytes));
    });

    it('is the installation admin\'s alone, and needs an object store to move mail to', async () => {
      const workspaceAdmin = connect(StorageServiceClient, migrating.address, asRole('admin'));
      const without = connect(StorageServiceClient, chunked.address, asRole('installation-admin'));
      try {
        await assert.rejects(call(workspaceAdmin.migrateBlobs, workspaceAdmin, { maxEmails: 1, afterEmailId: '' }), (e: { code?: string }) => e.code === 'PERMISSION_DENIED');
        await assert.rejects(call(without.migrateBlobs, without, { maxEmails: 1, afterEmailId: '' }), (e: { code?: string; reason?: string }) => e.code === 'FAILED_PRECONDITION' && e.reason === 'BLOB_STORE_NOT_CONFIGURED');
        await assert.rejects(call(admin.migrateBlobs, admin, { maxEmails: 1, afterEmailId: 'x; DROP TABLE emails' }), (e: { code?: string; message?: string }) => e.code === 'INVALID_ARGUMENT' && /after_email_id/.test(e.message ?? ''));
        await assert.rejects(call(admin.migrateBlobs, admin, { maxEmails: 10_001, afterEmailId: '' }), (e: { code?: string; message?: string }) => e.code === 'INVALID_ARGUMENT' && /max_emails/.test(e.message ?? ''));
      } finally {
        workspaceAdmin.close();
        without.close();
      }
    });
  });
}
