// Storage throughput over gRPC: `npx tsx bench/storage.bench.ts [sqlite|mariadb]`.
// Sequential and concurrent small stores, then one 50 MB message; prints one line each.
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { credentials } from '@grpc/grpc-js';
import { InProcessBus } from '@postbote/bus';
import { CapturedLog, createLogger } from '@postbote/logging';
import { startStorageService } from '@postbote/mail-store';
import { StorageServiceClient } from '@postbote/proto';
import { mariaDbTestDatabase, sqliteTestDatabase, storeTestEmail, tempDir } from '@postbote/testing';

async function main(): Promise<void> {
  const kind = process.argv[2] === 'mariadb' ? 'mariadb' : 'sqlite';
  const db = kind === 'mariadb' ? await mariaDbTestDatabase() : await sqliteTestDatabase();
  const bus = new InProcessBus();
  const svc = await startStorageService(
    { address: '127.0.0.1:0', publicAddress: undefined, database: db.config, spoolDir: join(tempDir('pb-bench-'), 'spool'), maxMessageBytes: 100 * 1024 * 1024, purgeIntervalSeconds: 3600, purgeBatchSize: 100, logRetentionDays: 30, dedupeExtraDays: 365, parseWorkers: 1 },
    { bus, logger: createLogger({ service: 'bench', level: 'silent', destination: new CapturedLog() }) },
  );
  const client = new StorageServiceClient(svc.address, credentials.createInsecure(), { 'grpc.max_send_message_length': 8 * 1024 * 1024 });
  const connectorId = randomUUID();
  let uid = 0;
  const mail = (size: number) => Buffer.concat([Buffer.from(`Message-ID: <${randomUUID()}@bench>\r\nSubject: bench\r\n\r\n`), randomBytes(size)]);
  const store = (bytes: Buffer) => storeTestEmail(client, { connectorId, connectorName: 'bench', workflowId: 'wf', uidl: `u${uid++}`, bytes });

  const report = (label: string, n: number, bytes: number, ms: number) =>
    console.log(`${kind.padEnd(7)} ${label.padEnd(34)} ${n} msgs in ${(ms / 1000).toFixed(2)} s = ${((n * 1000) / ms).toFixed(1)} msgs/s, ${(bytes / 1024 / 1024 / (ms / 1000)).toFixed(1)} MB/s`);

  let t = Date.now();
  for (let i = 0; i < 500; i++) await store(mail(10_000));
  report('500 x 10 KB, one at a time', 500, 500 * 10_000, Date.now() - t);

  t = Date.now();
  const queue = Array.from({ length: 500 }, () => mail(10_000));
  await Promise.all(Array.from({ length: 20 }, async () => {
    for (let m = queue.pop(); m; m = queue.pop()) await store(m);
  }));
  report('500 x 10 KB, 20 concurrent', 500, 500 * 10_000, Date.now() - t);

  const big = mail(50 * 1024 * 1024);
  t = Date.now();
  await store(big);
  report('1 x 50 MB', 1, big.length, Date.now() - t);

  client.close();
  await svc.stop();
  await bus.close();
  await db.drop();
}

void main();
