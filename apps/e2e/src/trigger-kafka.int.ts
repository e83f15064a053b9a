// Storage and trigger together against a real broker: the outbox written by one service and
// relayed by the other, so this lives in the e2e project rather than in either service's lib.
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { call, connect } from '@postbote/grpc-runtime';
import { InProcessBus, KafkaBus, PLAINTEXT_KAFKA, type BusConfig } from '@postbote/bus';
import { CapturedLog, createLogger } from '@postbote/logging';
import { startStorageService, type RunningStorageService } from '@postbote/storage';
import { EmailReceived, StorageServiceClient, TriggerServiceClient, type StoredEmail } from '@postbote/proto';
import { AS_FETCHER, TEST_KAFKA_BROKERS, asRole, TEST_SECURITY, TEST_TOKENS, consumeTopic, eventually, mariaDbTestDatabase, privateKafka, storeTestEmail, tempDir, type TestDatabase } from '@postbote/testing';
import { DataSource } from 'typeorm';
import { fromRecord, startTriggerService, workspaceTopic } from '@postbote/trigger';

const root = join(__dirname, '..', '..', '..');

function mail(id: string, extra = '', to = 'r@example.test'): Buffer {
  return Buffer.from(`From: "Sender" <s@example.test>\r\nTo: ${to}\r\nMessage-ID: <${id}@example.test>\r\nSubject: ${id}\r\n${extra}\r\nbody ${id}\r\n`, 'latin1');
}

/**
 * A To header of `n` recipients of 35 characters each, ten to a folded line: 25,000 of them
 * are 0.9 MB of header, which the MIME parser still reads (it refuses a head over 1 MiB).
 */
const recipients = (n: number) =>
  Array.from({ length: n }, (_, i) => `r${String(i).padStart(5, '0')}@customer-domain.example.test${i === n - 1 ? '' : (i + 1) % 10 === 0 ? ',\r\n ' : ', '}`).join('');



interface Env {
  db: TestDatabase;
  storage: RunningStorageService;
  client: InstanceType<typeof StorageServiceClient>;
  /** A viewer of `default` on the storage service. */
  reader: InstanceType<typeof StorageServiceClient>;
  count(sql: string): Promise<number>;
  /** Stores as the fetcher would, for a connector storage knows as `name-<id>` with workflow `wf-<id>`. */
  store(connectorId: string, uidl: string, bytes: Buffer, workspace?: string): Promise<StoredEmail>;
  close(): Promise<void>;
}

async function storageEnv(): Promise<Env> {
  const db = await mariaDbTestDatabase();
  const bus = new InProcessBus();
  const storage = await startStorageService(
    {
      address: '127.0.0.1:0',
      publicAddress: 'storage.test:50052',
      database: db.config,
      spoolDir: join(tempDir('pb-trig-'), 'spool'),
      maxMessageBytes: 10 * 1024 * 1024,
      purgeIntervalSeconds: 3600,
      purgeBatchSize: 100,
      logRetentionDays: 30,
      dedupeExtraDays: 365,
      parseWorkers: 1,
      security: TEST_SECURITY,
      configAddress: '127.0.0.1:1',
    },
    { bus, tokens: TEST_TOKENS, logger: createLogger({ service: 'storage', level: 'warn', destination: new CapturedLog() }) },
  );
  const client = connect(StorageServiceClient, storage.address, AS_FETCHER);
  const reader = connect(StorageServiceClient, storage.address, asRole('viewer'), { 'grpc.max_receive_message_length': 32 * 1024 * 1024 });
  const ds = new DataSource({ type: 'mysql', url: db.config.kind === 'mysql' ? db.config.url : '' });
  await ds.initialize();
  return {
    db,
    storage,
    client,
    reader,
    count: async (sql) => Number(((await ds.query(sql)) as Array<{ n: string }>)[0]?.n ?? 0),
    store: async (connectorId, uidl, bytes, workspace = 'default') => {
      await storage.connectors.upserted({ id: connectorId, workspace, name: `name-${connectorId.slice(0, 4)}`, workflowId: `wf-${connectorId.slice(0, 4)}`, reprocess: false, retentionDays: 30 }, new Date());
      return storeTestEmail(client, { connectorId, uidl, bytes });
    },
    close: async () => {
      client.close();
      reader.close();
      await ds.destroy();
      await storage.stop();
      await bus.close();
      await db.drop();
    },
  };
}

function kafkaConfig(brokers: string[]): BusConfig {
  return { kind: 'kafka', brokers, clientId: 'postbote-test', partitions: 3, replicationFactor: 1, namespace: '', security: PLAINTEXT_KAFKA };
}

async function startTrigger(env: Env, brokers: string[], topic: string, extra: { batchSize?: number; encoding?: 'protobuf' | 'json'; perWorkspace?: boolean; maxEventBytes?: number } = {}) {
  const busConfig = kafkaConfig(brokers);
  const bus = new KafkaBus({ brokers, clientId: 'postbote-test', defaultPartitions: 3, replicationFactor: 1 });
  const log = new CapturedLog();
  const svc = await startTriggerService(
    {
      address: '127.0.0.1:0',
      database: env.db.config,
      topic,
      topicPerWorkspace: extra.perWorkspace ?? false,
      maxEventBytes: extra.maxEventBytes ?? 900_000,
      encoding: extra.encoding ?? 'protobuf',
      batchSize: extra.batchSize ?? 50,
      pollMs: 50,
      transactionalId: `tx-${topic}`,
      security: TEST_SECURITY,
      configAddress: '127.0.0.1:1',
    },
    { bus, busConfig, tokens: TEST_TOKENS, logger: createLogger({ service: 'trigger', level: 'info', destination: log }) },
  );
  return { svc, log, stop: async () => (await svc.stop(), await bus.close()) };
}

describe('trigger service on a real Kafka broker', () => {
  let env: Env;
  before(async () => {
    env = await storageEnv();
  });
  after(async () => env.close());

  it('publishes exactly one event per stored email, with the fields a workflow needs', async () => {
    const topic = `t-one-${randomUUID()}`;
    const trigger = await startTrigger(env, TEST_KAFKA_BROKERS, topic);
    try {
      const c = randomUUID();
      const bytes = mail('one', 'Content-Type: text/plain\r\n');
      const stored = await env.store(c, 'u1', bytes);
      await env.store(c, 'u1', bytes); // a retried store: no second event
      const records = await consumeTopic(TEST_KAFKA_BROKERS, topic, 1);
      assert.equal(records.length, 1);
      const r = records[0]!;
      assert.equal(r.key, c);
      assert.equal(r.headers['content-type'], 'application/x-protobuf; messageType=postbote.v1.EmailReceived');
      assert.equal(r.headers['schema-version'], '1');
      assert.equal(r.headers['event-id'], stored.eventId);
      assert.equal(r.headers['workspace'], 'default');
      const e = EmailReceived.decode(r.value);
      assert.equal(e.workspace, 'default');
      assert.equal(e.eventId, stored.eventId);
      assert.equal(e.emailId, stored.emailId);
      assert.equal(e.connectorId, c);
      assert.equal(e.connectorName, `name-${c.slice(0, 4)}`);
      assert.equal(e.workflowId, `wf-${c.slice(0, 4)}`);
      assert.deepEqual(e.from, { name: 'Sender', address: 's@example.test' });
      assert.deepEqual(e.to.map((a) => a.address), ['r@example.test']);
      assert.equal(e.subject, 'one');
      assert.equal(e.messageId, '<one@example.test>');
      assert.equal(e.size, bytes.length);
      assert.deepEqual(e.source, { source: { $case: 'pop3', value: { uidl: 'u1' } } });
      assert.deepEqual(e.raw, { storageService: 'storage.test:50052', emailId: stored.emailId, sha256: stored.sha256, size: bytes.length });
      assert.ok(e.storedAt && e.receivedAt);
      await eventually(async () => (await env.count(`SELECT COUNT(*) AS n FROM trigger_outbox WHERE connector_id = '${c}' AND published_at IS NOT NULL`)) === 1, 10_000, 'outbox marked');
    } finally {
      await trigger.stop();
    }
  });

  it('can publish the proto3 JSON mapping instead', async () => {
    const topic = `t-json-${randomUUID()}`;
    const trigger = await startTrigger(env, TEST_KAFKA_BROKERS, topic, { encoding: 'json' });
    try {
      const c = randomUUID();
      await env.store(c, 'j1', mail('json'));
      const [r] = await consumeTopic(TEST_KAFKA_BROKERS, topic, 1);
      assert.match(r!.headers['content-type']!, /^application\/json/);
      const json = JSON.parse(r!.value.toString('utf8')) as Record<string, unknown>;
      assert.equal(json['subject'], 'json');
      assert.equal(fromRecord(r!.value, r!.headers).connectorId, c);
    } finally {
      await trigger.stop();
    }
  });

  it('publishes each workspace to its own topic when asked (TRIGGER_TOPIC_PER_WORKSPACE), in one transaction', async () => {
    const base = `tws${randomUUID().slice(0, 8)}.email-received.v1`;
    const trigger = await startTrigger(env, TEST_KAFKA_BROKERS, base, { perWorkspace: true });
    try {
      const [a, b] = [randomUUID(), randomUUID()];
      await env.store(a, 'pw1', mail('for-acme'), 'acme');
      await env.store(b, 'pw2', mail('for-globex'), 'globex');
      // The relay makes a workspace's topic with its first event: read once both are published.
      await eventually(async () => (await env.count(`SELECT COUNT(*) AS n FROM trigger_outbox WHERE connector_id IN ('${a}', '${b}') AND published_at IS NOT NULL`)) === 2, 20_000, 'both published');
      const acme = await consumeTopic(TEST_KAFKA_BROKERS, workspaceTopic(base, 'acme'), 1);
      const globex = await consumeTopic(TEST_KAFKA_BROKERS, workspaceTopic(base, 'globex'), 1);
      assert.equal(workspaceTopic(base, 'acme'), `${base.split('.')[0]}.acme.email-received.v1`);
      assert.deepEqual([acme[0]?.key, acme[0]?.headers['workspace'], EmailReceived.decode(acme[0]!.value).subject], [a, 'acme', 'for-acme']);
      assert.deepEqual([globex[0]?.key, globex[0]?.headers['workspace'], EmailReceived.decode(globex[0]!.value).subject], [b, 'globex', 'for-globex']);
    } finally {
      await trigger.stop();
    }
  });

  it('starts the workflow of an email with 25,000 recipients on the broker\'s default limit: the event carries the first 100 and the count', async () => {
    const topic = `t-wide-${randomUUID()}`;
    const trigger = await startTrigger(env, TEST_KAFKA_BROKERS, topic);
    try {
      const c = randomUUID();
      const stored = await env.store(c, 'wide', mail('wide', '', recipients(25_000)));
      const [r] = await consumeTopic(TEST_KAFKA_BROKERS, topic, 1);
      const e = EmailReceived.decode(r!.value);
      assert.equal(e.emailId, stored.emailId);
      assert.deepEqual([e.to.length, e.toCount, e.truncated], [100, 25_000, true]);
      assert.ok(r!.value.length < 64 * 1024, `${r!.value.length} bytes`);
      const full = await call(env.reader.getEmail, env.reader, { emailId: stored.emailId });
      assert.equal(full.to.length, 25_000, 'the stored metadata keeps them all');
    } finally {
      await trigger.stop();
    }
  });

  it('parks an event too large to publish, publishes the ones behind it, and puts it back in line on retry', async () => {
    const topic = `t-park-${randomUUID()}`;
    const small = await startTrigger(env, TEST_KAFKA_BROKERS, topic, { maxEventBytes: 4_096 });
    const c = randomUUID();
    let large: StoredEmail;
    try {
      large = await env.store(c, 'p-large', mail('p-large', '', recipients(120)));
      const after = await env.store(c, 'p-small', mail('p-small'));
      const first = await consumeTopic(TEST_KAFKA_BROKERS, topic, 1);
      assert.deepEqual(first.map((r) => EmailReceived.decode(r.value).eventId), [after.eventId], 'the small one went out; the large one did not hold it');
      const viewer = connect(TriggerServiceClient, small.svc.address, asRole('viewer'));
      try {
        const parked = (await call(viewer.listParkedEvents, viewer, { pageSize: 10, pageToken: '' })).events;
        assert.deepEqual(parked.map((p) => p.eventId), [large.eventId]);
        assert.match(parked[0]!.reason, /^the encoded event has \d+ bytes; TRIGGER_MAX_EVENT_BYTES is 4096$/);
        await assert.rejects(call(viewer.retryParkedEvent, viewer, { eventId: large.eventId }), { code: 'PERMISSION_DENIED' });
      } finally {
        viewer.close();
      }
      assert.match(small.log.text, /"code":"EVENT_PARKED"/);
    } finally {
      await small.stop();
    }
    // The limit raised, an operator puts it back in line; the relay (a new one) publishes it.
    const big = await startTrigger(env, TEST_KAFKA_BROKERS, topic);
    const operator = connect(TriggerServiceClient, big.svc.address, asRole('operator'));
    try {
      await call(operator.retryParkedEvent, operator, { eventId: large.eventId });
      await assert.rejects(call(operator.retryParkedEvent, operator, { eventId: large.eventId }), { code: 'NOT_FOUND' }, 'no longer parked');
      const all = await consumeTopic(TEST_KAFKA_BROKERS, topic, 2);
      assert.deepEqual(all.map((r) => EmailReceived.decode(r.value).subject).sort(), ['p-large', 'p-small']);
      assert.equal((await call(operator.listParkedEvents, operator, { pageSize: 10, pageToken: '' })).events.length, 0);
    } finally {
      operator.close();
      await big.stop();
    }
  });

  it('keeps each connector\'s order across 500 emails from 5 connectors', async () => {
    const topic = `t-order-${randomUUID()}`;
    const trigger = await startTrigger(env, TEST_KAFKA_BROKERS, topic, { batchSize: 37 });
    try {
      const connectors = Array.from({ length: 5 }, () => randomUUID());
      const storedOrder = new Map<string, string[]>(connectors.map((c) => [c, []]));
      await Promise.all(
        connectors.map(async (c) => {
          for (let i = 0; i < 100; i++) {
            const s = await env.store(c, `o-${i}`, mail(`${c}-${i}`));
            storedOrder.get(c)!.push(s.eventId);
          }
        }),
      );
      const records = await consumeTopic(TEST_KAFKA_BROKERS, topic, 500);
      assert.equal(records.length, 500);
      for (const c of connectors) {
        const got = records.filter((r) => r.key === c);
        assert.equal(new Set(got.map((r) => r.partition)).size, 1, 'one connector, one partition');
        assert.deepEqual(
          got.sort((a, b) => Number(a.offset) - Number(b.offset)).map((r) => r.headers['event-id']),
          storedOrder.get(c),
        );
      }
    } finally {
      await trigger.stop();
    }
  });

  it('publishes a relay batch larger than the broker takes in one request (1 MiB)', async () => {
    const topic = `t-big-${randomUUID()}`;
    const c = randomUUID();
    // 300 events of ~5 KB (a hundred recipients each), one connector so one partition: ~1.5 MB.
    const wide = (i: number) => {
      const to = Array.from({ length: 100 }, (_, k) => `recipient-${k}-of-mail-${i}@example.test`).join(',\r\n ');
      return Buffer.from(`From: s@example.test\r\nTo: ${to}\r\nMessage-ID: <big-${c}-${i}@example.test>\r\nSubject: wide ${i}\r\n\r\nbody\r\n`, 'latin1');
    };
    const stored: string[] = [];
    for (let i = 0; i < 300; i++) stored.push((await env.store(c, `big-${i}`, wide(i))).eventId);
    const trigger = await startTrigger(env, TEST_KAFKA_BROKERS, topic, { batchSize: 500 });
    try {
      const records = await consumeTopic(TEST_KAFKA_BROKERS, topic, 300);
      assert.ok(records.reduce((n, r) => n + r.value.length, 0) > 1024 * 1024, 'the batch is over the broker\'s request limit');
      assert.deepEqual(records.sort((a, b) => Number(a.offset) - Number(b.offset)).map((r) => r.headers['event-id']), stored);
      assert.equal(trigger.log.entries().filter((e) => e['level'] === 'error').length, 0);
    } finally {
      await trigger.stop();
    }
  });

  it('does not trust a position committed for another database: a new database behind the same namespace loses no event', async () => {
    const topic = `t-ab-${randomUUID()}`;
    const c = randomUUID();
    // Database A publishes 5 events.
    const a = await startTrigger(env, TEST_KAFKA_BROKERS, topic);
    try {
      for (let i = 0; i < 5; i++) await env.store(c, `a-${i}`, mail(`ab-a-${i}`));
      assert.equal((await consumeTopic(TEST_KAFKA_BROKERS, topic, 5)).length, 5);
    } finally {
      await a.stop();
    }
    // A new database B with the same namespace and transactional id stores 3 emails: its
    // outbox ids 1..3 lie below A's position 5, and must be published all the same.
    const envB = await storageEnv();
    try {
      const stored: string[] = [];
      for (let i = 0; i < 3; i++) stored.push((await envB.store(c, `b-${i}`, mail(`ab-b-${i}`))).eventId);
      const b = await startTrigger(envB, TEST_KAFKA_BROKERS, topic);
      try {
        const records = await consumeTopic(TEST_KAFKA_BROKERS, topic, 8);
        assert.deepEqual(records.slice(5).map((r) => r.headers['event-id']), stored);
        await eventually(async () => (await envB.count('SELECT COUNT(*) AS n FROM trigger_outbox WHERE published_at IS NULL')) === 0, 10_000, 'B marked');
        const mismatch = b.log.entries().find((e) => e['code'] === 'TRIGGER_POSITION_MISMATCH');
        assert.equal(mismatch?.['level'], 'error', 'said loudly');
        assert.match(String(mismatch?.['msg']), /written for database .* not this one/);
      } finally {
        await b.stop();
      }
      // Restarted, B trusts its own position: nothing is sent twice.
      const again = await startTrigger(envB, TEST_KAFKA_BROKERS, topic);
      try {
        await envB.store(c, 'b-3', mail('ab-b-3'));
        const records = await consumeTopic(TEST_KAFKA_BROKERS, topic, 9);
        assert.equal(records.length, 9);
        assert.equal(new Set(records.map((r) => r.headers['event-id'])).size, 9, 'no duplicates');
        assert.equal(again.log.entries().some((e) => e['code'] === 'TRIGGER_POSITION_MISMATCH'), false);
      } finally {
        await again.stop();
      }
    } finally {
      await envB.close();
    }
  });
});

describe('trigger service killed with SIGKILL at random points', () => {
  let env: Env;
  before(async () => {
    env = await storageEnv();
  });
  after(async () => env.close());

  it('delivers each of 1,000 emails exactly once across at least 10 kills', async () => {
    const topic = `t-kill-${randomUUID()}`;
    const connectors = Array.from({ length: 4 }, () => randomUUID());
    const eventIds = new Set<string>();
    const storeMany = async (from: number, to: number) => {
      for (let i = from; i < to; i++) {
        const c = connectors[i % connectors.length]!;
        eventIds.add((await env.store(c, `k-${i}`, mail(`kill-${i}`))).eventId);
      }
    };
    await storeMany(0, 500);
    const published = () => env.count('SELECT COUNT(*) AS n FROM trigger_outbox WHERE published_at IS NOT NULL');
    const launch = (): ChildProcess =>
      spawn(process.execPath, [join(root, 'dist/apps/trigger-service/main.js')], {
        env: {
          PATH: process.env['PATH'],
          POSTBOTE_DATA_DIR: tempDir('pb-spawned-'),
          DATABASE_URL: env.db.config.kind === 'mysql' ? env.db.config.url : '',
          KAFKA_BROKERS: TEST_KAFKA_BROKERS.join(','),
          KAFKA_PARTITIONS: '3',
          TRIGGER_TOPIC: topic,
          TRIGGER_BATCH: '7',
          TRIGGER_POLL_MS: '20',
          TRIGGER_TRANSACTIONAL_ID: `tx-${topic}`,
          TRIGGER_SERVICE_ADDR: '127.0.0.1:0',
          LOG_LEVEL: 'warn',
        },
        stdio: 'ignore',
      });
    const more = storeMany(500, 1000);
    const progressAtKill: number[] = [];
    for (let round = 0; round < 12; round++) {
      const before = await published();
      const child = launch();
      const exited = new Promise((r) => child.once('exit', r));
      // Kill once it has made progress (or after 15 s: a start on a loaded machine can take
      // seconds), at a random moment after that.
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline && (await published()) === before) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, Math.random() * 120));
      progressAtKill.push(await published());
      child.kill('SIGKILL');
      await exited;
    }
    await more;
    const final = launch();
    try {
      await eventually(async () => (await published()) === 1000, 60_000, 'all 1,000 published');
      const records = await consumeTopic(TEST_KAFKA_BROKERS, topic, 1000, 60_000, 3_000);
      const ids = records.map((r) => r.headers['event-id']!);
      // At least 10 kills landed mid-run: after some events and before the last.
      assert.ok(progressAtKill.filter((p) => p > 0 && p < 1000).length >= 10, `progress at kills: ${progressAtKill.join(',')}`);
      assert.equal(new Set(ids).size, 1000, 'every event present');
      assert.equal(ids.length, 1000, `no duplicates (got ${ids.length - new Set(ids).size} extra)`);
      assert.deepEqual([...new Set(ids)].sort(), [...eventIds].sort());
    } finally {
      final.kill('SIGKILL');
    }
  });
});

describe('trigger service while its broker stops and restarts', () => {
  const kafka = privateKafka(19192);
  let env: Env;
  before(async () => {
    kafka.run('kafka-up');
    env = await storageEnv();
  });
  after(async () => {
    await env.close();
    kafka.run('kafka-wipe');
  });

  it('stays up, lets the outbox grow, and delivers everything in order when the broker returns', async () => {
    const topic = `t-outage-${randomUUID()}`;
    const trigger = await startTrigger(env, kafka.brokers, topic, { batchSize: 10 });
    const c = randomUUID();
    const stored: string[] = [];
    const store = async (n: number) => {
      for (let i = 0; i < n; i++) stored.push((await env.store(c, `out-${stored.length}`, mail(`outage-${stored.length}`))).eventId);
    };
    try {
      await store(50);
      await eventually(async () => (await env.count('SELECT COUNT(*) AS n FROM trigger_outbox WHERE published_at IS NOT NULL')) === 50, 30_000, 'first 50 published');
      kafka.run('kafka-stop');
      await store(100); // storage keeps accepting mail while Kafka is away
      await eventually(() => trigger.svc.relay.state === 'BACKOFF', 60_000, 'relay backing off');
      assert.equal(await env.count('SELECT COUNT(*) AS n FROM trigger_outbox WHERE published_at IS NULL'), 100);
      kafka.run('kafka-start');
      await eventually(async () => (await env.count('SELECT COUNT(*) AS n FROM trigger_outbox WHERE published_at IS NULL')) === 0, 120_000, 'backlog drained');
      const records = await consumeTopic(kafka.brokers, topic, 150, 60_000, 2_000);
      const ids = records.sort((a, b) => Number(a.offset) - Number(b.offset)).map((r) => r.headers['event-id']);
      assert.deepEqual(ids, stored, 'all 150 events, once each, in store order');
    } finally {
      await trigger.stop();
    }
  });
});
