import { strict as assert } from 'node:assert';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { InProcessBus } from '@postbote/bus';
import { ConfigError, PreconditionError, UnavailableError } from '@postbote/errors';
import { connect } from '@postbote/grpc-runtime';
import { CapturedLog, createLogger } from '@postbote/logging';
import { StorageServiceClient } from '@postbote/proto';
import { storeOne } from '@postbote/service-clients';
import { AS_FETCHER, S3PROXY, S3PROXY_CREDENTIALS, TEST_DATABASES, TEST_TOKENS, asRole, cuttingProxy, eventually, freePort, s3TestClient, tempDir, testBucket, type TestDatabase } from '@postbote/testing';
import { DataSource } from 'typeorm';
import { IncomingEmail } from './incoming-email';
import { S3BlobStore, parseBlobsUrl } from './s3-blob-store';
import { startStorageService, type RunningStorageService } from './storage-service';
import { downloadRaw, testServiceConfig } from './testdata/storage-service.fixture';

// Raw mail in an object store (MAIL_BLOBS_URL, decision 0029) against the test S3Proxy — a
// real S3 API server — on both databases: what chunks guarantee, objects guarantee too.

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const DAY = 86_400_000;

// The storage service takes its S3 credentials from the SDK's standard chain, as in production.
process.env['AWS_ACCESS_KEY_ID'] = S3PROXY.accessKeyId;
process.env['AWS_SECRET_ACCESS_KEY'] = S3PROXY.secretAccessKey;

function mail(id: string, body = 'hello'): Buffer {
  return Buffer.from(`From: a@example.test\r\nTo: b@example.test\r\nMessage-ID: <${id}@example.test>\r\nSubject: ${id}\r\n\r\n${body}\r\n`, 'latin1');
}

const serviceConfig = (db: TestDatabase, blobsUrl: string) => testServiceConfig(db.config, { blobs: parseBlobsUrl(blobsUrl) });

for (const [label, makeDb] of TEST_DATABASES) {
  describe(`raw mail in an object store (S3Proxy) on ${label}`, () => {
    let db: TestDatabase;
    let svc: RunningStorageService;
    let client: InstanceType<typeof StorageServiceClient>;
    let reader: InstanceType<typeof StorageServiceClient>;
    let bucket: Awaited<ReturnType<typeof testBucket>>;
    let clock = Date.now();
    const buses: InProcessBus[] = [];
    const log = new CapturedLog();
    const started: RunningStorageService[] = [];

    const start = async (url: string) => {
      const bus = new InProcessBus();
      buses.push(bus);
      const s = await startStorageService(serviceConfig(db, url), { bus, tokens: TEST_TOKENS, logger: createLogger({ service: 'storage', level: 'info', destination: log }), now: () => new Date(clock) });
      started.push(s);
      return s;
    };
    const know = (s: RunningStorageService, connectorId: string, retentionDays = 30) =>
      s.connectors.upserted({ id: connectorId, workspace: 'default', name: 'blobs', workflowId: 'wf', reprocess: false, retentionDays }, new Date(clock));
    const store = async (c: InstanceType<typeof StorageServiceClient>, connectorId: string, uidl: string, bytes: Buffer) => {
      const ack = await storeOne(c, { connectorId }, { source: { source: { $case: 'pop3', value: { uidl } } }, occurrence: '', receivedAt: new Date(), content: bytes });
      if ('refused' in ack) throw new Error(`refused ${ack.refused.code}: ${ack.refused.message}`);
      return ack.stored;
    };
    const download = (emailId: string) => downloadRaw(reader, emailId);
    const query = async (sql: string, params: unknown[] = []) => {
      const ds = new DataSource(db.config.kind === 'sqlite' ? { type: 'better-sqlite3', database: db.config.file } : { type: 'mysql', url: db.config.url });
      await ds.initialize();
      try {
        return (await ds.query(sql, params)) as Array<Record<string, unknown>>;
      } finally {
        await ds.destroy();
      }
    };

    before(async () => {
      db = await makeDb();
      bucket = await testBucket();
      svc = await start(bucket.url);
      client = connect(StorageServiceClient, svc.address, AS_FETCHER, { 'grpc.max_receive_message_length': 8 * 1024 * 1024 });
      reader = connect(StorageServiceClient, svc.address, asRole('viewer'), { 'grpc.max_receive_message_length': 8 * 1024 * 1024 });
    });

    after(async () => {
      client.close();
      reader.close();
      for (const s of started) await s.stop();
      for (const b of buses) await b.close();
      await db.drop();
    });

    const roundTrips: Array<[string, () => Buffer]> = [
      ['7-bit', () => mail('seven')],
      ['binary (all byte values)', () => Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(3000)])],
      ['6 MiB (spilled, uploaded in parts)', () => Buffer.concat([mail('big', ''), randomBytes(6 * 1024 * 1024)])],
      ['20 MiB (three parts)', () => Buffer.concat([mail('bigger', ''), randomBytes(20 * 1024 * 1024)])],
    ];
    for (const [name, make] of roundTrips) {
      it(`round-trips ${name} byte for byte through one object, nothing of it in the database`, async () => {
        const bytes = make();
        const connectorId = randomUUID();
        await know(svc, connectorId);
        const res = await store(client, connectorId, `u-${name}`, bytes);
        assert.equal(res.sha256, sha(bytes));
        const [row] = await query('SELECT blob_key, chunk_count FROM emails WHERE id = ?', [res.emailId]);
        assert.equal(row?.['blob_key'], `mail/default/${connectorId}/${res.emailId}.eml`);
        assert.equal(Number(row?.['chunk_count']), 0);
        assert.equal(Number((await query('SELECT COUNT(*) AS n FROM email_chunks WHERE email_id = ?', [res.emailId]))[0]?.['n']), 0);
        assert.ok((await bucket.keys()).includes(String(row?.['blob_key'])), 'the object is in the bucket');
        const back = await download(res.emailId);
        assert.equal(sha(back), sha(bytes), 'downloaded bytes differ');
      });
    }

    it('stores one object per distinct email: a repeated store is a duplicate, its extra object removed', async () => {
      const connectorId = randomUUID();
      await know(svc, connectorId);
      const first = await store(client, connectorId, 'dup', mail('dup'));
      const again = await store(client, connectorId, 'dup', mail('dup'));
      assert.equal(again.duplicate, true);
      assert.equal(again.emailId, first.emailId);
      await eventually(async () => (await bucket.keys()).filter((k) => k.includes(connectorId)).length === 1, 10_000, 'one object for the connector');
    });

    it('retention deletes the objects with their emails', async () => {
      const connectorId = randomUUID();
      await know(svc, connectorId, 1);
      const ids = [];
      for (let i = 0; i < 3; i++) ids.push((await store(client, connectorId, `old-${i}`, mail(`old-${i}`))).emailId);
      assert.equal((await bucket.keys()).filter((k) => k.includes(connectorId)).length, 3);
      clock += 2 * DAY;
      try {
        const report = await svc.retention.runOnce(new Date(clock));
        assert.ok(report.emails >= 3);
      } finally {
        clock -= 2 * DAY;
      }
      assert.deepEqual((await bucket.keys()).filter((k) => k.includes(connectorId)), []);
    });

    it('sweeps an object no row names once it is a day old, never a younger one', async () => {
      const s3 = s3TestClient();
      const orphan = `mail/default/${randomUUID()}/${randomUUID()}.eml`;
      try {
        await s3.send(new PutObjectCommand({ Bucket: bucket.bucket, Key: orphan, Body: mail('orphan') }));
      } finally {
        s3.destroy();
      }
      const connectorId = randomUUID();
      await know(svc, connectorId, 365);
      const kept = await store(client, connectorId, 'kept', mail('kept'));
      assert.equal((await svc.retention.runOnce(new Date(clock))).orphanBlobs, 0, 'young: may belong to a commit in flight');
      assert.ok((await bucket.keys()).includes(orphan));
      const later = clock + DAY + 60_000;
      assert.equal((await svc.retention.runOnce(new Date(later))).orphanBlobs, 1);
      const keys = await bucket.keys();
      assert.ok(!keys.includes(orphan), 'the orphan is gone');
      assert.ok(keys.some((k) => k.endsWith(`${kept.emailId}.eml`)), 'the stored email keeps its object');
    });

    it('an unreachable object store fails the store cleanly (BLOB_STORE_UNAVAILABLE), no row; it succeeds once the store is back', async () => {
      const port = await freePort();
      const url = `s3://${bucket.bucket}/mail/?endpoint=${encodeURIComponent(`http://127.0.0.1:${port}`)}`;
      const cut = await start(url);
      const c = connect(StorageServiceClient, cut.address, AS_FETCHER);
      try {
        const connectorId = randomUUID();
        await know(cut, connectorId);
        await assert.rejects(store(c, connectorId, 'down', mail('down')), (e: unknown) => {
          const err = e as { reason?: string; code?: string };
          return err.code === 'UNAVAILABLE' && err.reason === 'BLOB_STORE_UNAVAILABLE';
        });
        assert.equal(Number((await query('SELECT COUNT(*) AS n FROM emails WHERE connector_id = ?', [connectorId]))[0]?.['n']), 0, 'no row without its object');
        const back = await cuttingProxy(Number(new URL(S3PROXY.endpoint).port), {}, '127.0.0.1', port);
        try {
          const res = await store(c, connectorId, 'down', mail('down'));
          assert.equal(res.duplicate, false);
        } finally {
          await back.close();
        }
      } finally {
        c.close();
      }
    });

    it('refuses to start with credentials the store refuses or a bucket that does not exist, naming MAIL_BLOBS_URL', async () => {
      await assert.rejects(start(`s3://pb-missing-${randomBytes(4).toString('hex')}/?endpoint=${encodeURIComponent(S3PROXY.endpoint)}`), (e: unknown) => e instanceof ConfigError && e.variable === 'MAIL_BLOBS_URL');
      const wrong = new S3BlobStore(parseBlobsUrl(bucket.url), { ...S3PROXY_CREDENTIALS, secretAccessKey: 'wrong' });
      try {
        await assert.rejects(wrong.check(), (e: unknown) => e instanceof ConfigError && e.variable === 'MAIL_BLOBS_URL');
        const body = new IncomingEmail({ spoolDir: tempDir('pb-blob-'), memoryBytes: 1 << 20, maxBytes: 1 << 20 });
        const bytes = mail('denied');
        await body.append(bytes);
        // A key revoked while running: a configuration error, not an outage to wait out.
        await assert.rejects(wrong.put('mail/x.eml', body, bytes.length, sha(bytes)), (e: unknown) => e instanceof PreconditionError && e.reason === 'BLOB_STORE_DENIED');
      } finally {
        wrong.close();
      }
    });
  });
}

describe('the S3 blob store', () => {
  it('passes the storage class through to the object', async () => {
    const bucket = await testBucket('');
    const store = new S3BlobStore(parseBlobsUrl(`${bucket.url}&storage_class=STANDARD_IA`), S3PROXY_CREDENTIALS);
    const s3 = s3TestClient();
    try {
      const body = new IncomingEmail({ spoolDir: tempDir('pb-blob-'), memoryBytes: 1 << 20, maxBytes: 1 << 20 });
      const bytes = mail('class');
      await body.append(bytes);
      await store.put('x/class.eml', body, bytes.length, sha(bytes));
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket.bucket, Key: 'x/class.eml' }));
      assert.equal(head.ContentLength, bytes.length);
      assert.equal(head.StorageClass, 'STANDARD_IA');
      assert.equal(head.Metadata?.['sha256'], sha(bytes), 'the SHA-256 rides along as metadata');
    } finally {
      store.close();
      s3.destroy();
    }
  });

  it("signs the email's SHA-256 as the body's hash: the server refuses bytes that are not the email's", async () => {
    const bucket = await testBucket('');
    const store = new S3BlobStore(parseBlobsUrl(bucket.url), S3PROXY_CREDENTIALS);
    try {
      const put = async (key: string, sha256: (b: Buffer) => string) => {
        const body = new IncomingEmail({ spoolDir: tempDir('pb-blob-'), memoryBytes: 1 << 20, maxBytes: 1 << 20 });
        const bytes = mail(key);
        await body.append(bytes);
        await store.put(`x/${key}.eml`, body, bytes.length, sha256(bytes));
      };
      await put('right', sha);
      await assert.rejects(
        put('wrong', () => 'ab'.repeat(32)),
        (e: unknown) => e instanceof UnavailableError && e.reason === 'BLOB_STORE_UNAVAILABLE' && /XAmzContentSHA256Mismatch/.test(e.message),
      );
      assert.deepEqual(await bucket.keys(), ['x/right.eml'], 'nothing stored under a hash the bytes do not have');
    } finally {
      store.close();
    }
  });

  it('sends the server-side encryption headers (an endpoint that records them: S3Proxy does not implement SSE)', async () => {
    const seen: Array<Record<string, string | string[] | undefined>> = [];
    const server = createServer((req, res) => {
      seen.push(req.headers);
      req.resume();
      req.on('end', () => res.writeHead(200, { etag: '"x"' }).end());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const store = new S3BlobStore(parseBlobsUrl(`s3://any-bucket/?endpoint=${encodeURIComponent(`http://127.0.0.1:${port}`)}&sse=aws:kms&sse_kms_key_id=key-1`), S3PROXY_CREDENTIALS);
    try {
      const body = new IncomingEmail({ spoolDir: tempDir('pb-blob-'), memoryBytes: 1 << 20, maxBytes: 1 << 20 });
      const bytes = mail('sse');
      await body.append(bytes);
      await store.put('x/sse.eml', body, bytes.length, sha(bytes));
      assert.equal(seen[0]?.['x-amz-server-side-encryption'], 'aws:kms');
      assert.equal(seen[0]?.['x-amz-server-side-encryption-aws-kms-key-id'], 'key-1');
    } finally {
      store.close();
      server.close();
    }
  });

  it('reads MAIL_BLOBS_URL strictly, naming the variable and never echoing a value', () => {
    const ok = parseBlobsUrl('s3://mail-bucket/postbote/raw?endpoint=https://s3.example.test:9000&region=eu-central-1&sse=aws:kms&sse_kms_key_id=k1&storage_class=STANDARD_IA');
    assert.deepEqual(ok, { bucket: 'mail-bucket', prefix: 'postbote/raw/', endpoint: 'https://s3.example.test:9000', region: 'eu-central-1', pathStyle: true, serverSideEncryption: 'aws:kms', kmsKeyId: 'k1', storageClass: 'STANDARD_IA' });
    assert.equal(parseBlobsUrl('s3://mail-bucket').pathStyle, false, 'AWS itself: virtual-hosted style');
    assert.equal(parseBlobsUrl('s3://mail-bucket').prefix, '');
    for (const bad of ['http://b/x', 's3://AB', 's3://key:secret@bucket/', 's3://bucket/?colour=red', 's3://bucket/?sse=rot13', 's3://bucket/?sse_kms_key_id=k', 's3://bucket/?endpoint=ftp://x', 'nonsense']) {
      assert.throws(() => parseBlobsUrl(bad), (e: unknown) => e instanceof ConfigError && e.variable === 'MAIL_BLOBS_URL' && !e.message.includes('secret'), bad);
    }
  });

  it('an object store that does not answer is UNAVAILABLE, not a configuration error', async () => {
    const port = await freePort();
    const store = new S3BlobStore(parseBlobsUrl(`s3://any-bucket/?endpoint=${encodeURIComponent(`http://127.0.0.1:${port}`)}`), S3PROXY_CREDENTIALS);
    try {
      await assert.rejects(store.check(), (e: unknown) => e instanceof UnavailableError && e.reason === 'BLOB_STORE_UNAVAILABLE');
    } finally {
      store.close();
    }
  });
});
