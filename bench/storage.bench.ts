// Storage throughput over gRPC: `npx tsx bench/storage.bench.ts [sqlite|mariadb]`.
// Many small emails on one StoreEmails stream (group commit), on 20 streams at once, one
// email per stream (the worst case), then one 50 MB message; prints a table.
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { connect } from '@postbote/grpc-runtime';
import { InProcessBus } from '@postbote/bus';
import { CapturedLog, createLogger } from '@postbote/logging';
import { startStorageService } from '@postbote/storage';
import { StorageServiceClient } from '@postbote/proto';
import { StoreEmailsStream } from '@postbote/service-clients';
import { AS_FETCHER, TEST_SECURITY, TEST_TOKENS, mariaDbTestDatabase, sqliteTestDatabase, storeTestEmail, tempDir } from '@postbote/testing';
import { fmt, table } from './harness';

async function main(): Promise<void> {
  const kind = process.argv[2] === 'mariadb' ? 'mariadb' : 'sqlite';
  const db = kind === 'mariadb' ? await mariaDbTestDatabase() : await sqliteTestDatabase();
  const bus = new InProcessBus();
  const svc = await startStorageService(
    { address: '127.0.0.1:0', publicAddress: undefined, database: db.config, spoolDir: join(tempDir('pb-bench-'), 'spool'), maxMessageBytes: 100 * 1024 * 1024, purgeIntervalSeconds: 3600, purgeBatchSize: 100, logRetentionDays: 30, dedupeExtraDays: 365, parseWorkers: 1, security: TEST_SECURITY, configAddress: '127.0.0.1:1' },
    { bus, tokens: TEST_TOKENS, logger: createLogger({ service: 'bench', level: 'silent', destination: new CapturedLog() }) },
  );
  const client = connect(StorageServiceClient, svc.address, AS_FETCHER, { 'grpc.max_send_message_length': 8 * 1024 * 1024 });
  const connectorId = randomUUID();
  await svc.connectors.upserted({ id: connectorId, workspace: 'default', name: 'bench', workflowId: 'wf', reprocess: false, retentionDays: 30 }, new Date());
  const session = { connectorId };
  let uid = 0;
  const mail = (size: number) => Buffer.concat([Buffer.from(`Message-ID: <${randomUUID()}@bench>\r\nSubject: bench\r\n\r\n`), randomBytes(size)]);
  const email = (bytes: Buffer) => ({ source: { source: { $case: 'pop3' as const, value: { uidl: `u${uid++}` } } }, occurrence: '', receivedAt: new Date(), content: bytes });
  const rows: string[][] = [];
  const report = (label: string, n: number, bytes: number, ms: number) => rows.push([kind, label, n === 1 ? `${fmt(ms / 1000, 1)} s` : `${fmt((n * 1000) / ms)} emails/s`, `${fmt(bytes / 1024 / 1024 / (ms / 1000), 1)} MB/s`]);
  const onStream = async (n: number) => {
    const s = StoreEmailsStream.open(client, session, { deadlineMs: 600_000 });
    const acks = [];
    for (let i = 0; i < n; i++) acks.push((await s.send(email(mail(10_000)))).ack);
    await s.finish();
    await Promise.all(acks);
  };

  let t = Date.now();
  await onStream(2_000);
  report('2,000 × 10 KB on one stream', 2_000, 2_000 * 10_000, Date.now() - t);

  t = Date.now();
  await Promise.all(Array.from({ length: 20 }, () => onStream(100)));
  report('2,000 × 10 KB on 20 streams', 2_000, 2_000 * 10_000, Date.now() - t);

  t = Date.now();
  for (let i = 0; i < 200; i++) await storeTestEmail(client, { connectorId, uidl: `one-${uid++}`, bytes: mail(10_000) });
  report('200 × 10 KB, one stream each', 200, 200 * 10_000, Date.now() - t);

  const big = mail(50 * 1024 * 1024);
  t = Date.now();
  await storeTestEmail(client, { connectorId, uidl: 'big', bytes: big });
  report('1 × 50 MB', 1, big.length, Date.now() - t);

  process.stdout.write(`${table(['database', 'case', 'rate (or time)', 'bytes'], rows)}\n`);
  client.close();
  await svc.stop();
  await bus.close();
  await db.drop();
}

void main();
