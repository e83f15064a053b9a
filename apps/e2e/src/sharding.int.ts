// Fetchers as separate OS processes sharing connectors through a Kafka consumer group,
// with the config and storage services in this process, on MariaDB and real Dovecot.
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KafkaBus, TOPICS } from '@postbote/bus';
import { startConfigService, type RunningConfigService } from '@postbote/config';
import { Secret } from '@postbote/crypto';
import { PLAINTEXT_LOOPBACK, call, connect } from '@postbote/grpc-runtime';
import { CapturedLog, createLogger } from '@postbote/logging';
import { startStorageService, type RunningStorageService } from '@postbote/storage';
import { FetcherInstance, FetcherServiceClient } from '@postbote/proto';
import { DOVECOT, TEST_ACTOR, TEST_KAFKA_BROKERS, adminAuthFrom, dovecotUser, eventually, freePort, mailboxAs, mariaDbTestDatabase, tempDir, testMail, type MailUser, type TestDatabase, TEST_SCOPE } from '@postbote/testing';
import { DataSource } from 'typeorm';

const root = join(__dirname, '..', '..', '..');
const CONNECTORS = 60;

describe('fetchers sharded by a Kafka consumer group', () => {
  const namespace = `shard${randomBytes(4).toString('hex')}`;
  const token = randomBytes(24).toString('hex');
  const security = { transport: PLAINTEXT_LOOPBACK, internalToken: new Secret(token) };
  const dir = tempDir('pb-shard-');
  const logger = createLogger({ service: 'shard', level: 'warn', destination: new CapturedLog() });
  const bus = new KafkaBus({ brokers: TEST_KAFKA_BROKERS, clientId: 'shard-test', defaultPartitions: 12, replicationFactor: 1, namespace });
  let db: TestDatabase;
  let raw: DataSource;
  let config: RunningConfigService;
  let storage: RunningStorageService;
  const fetchers = new Map<string, { child: ChildProcess; address: string }>();
  const users: Array<{ user: MailUser; id: string }> = [];

  const launch = async (name: string) => {
    const address = `127.0.0.1:${await freePort()}`;
    const child = spawn(process.execPath, [join(root, 'dist/apps/fetcher-service/main.js')], {
      env: {
        PATH: process.env['PATH'],
        POSTBOTE_DATA_DIR: tempDir('pb-spawned-'),
        KAFKA_BROKERS: TEST_KAFKA_BROKERS.join(','),
        KAFKA_NAMESPACE: namespace,
        KAFKA_PARTITIONS: '12',
        FETCHER_SESSION_TIMEOUT_MS: '6000',
        FETCHER_INSTANCE_ID: name,
        FETCHER_REPORT_SECONDS: '1',
        FETCHER_SERVICE_ADDR: address,
        CONFIG_SERVICE_ADDR: config.address,
        STORAGE_SERVICE_ADDR: storage.address,
        POSTBOTE_INTERNAL_TOKEN: token,
        LOG_LEVEL: 'warn',
      },
      stdio: 'ignore',
    });
    fetchers.set(name, { child, address });
  };

  /** connector id → instances that run an actor for it. */
  const owners = async (): Promise<Map<string, string[]>> => {
    const out = new Map<string, string[]>();
    for (const [name, f] of fetchers) {
      const client = connect(FetcherServiceClient, f.address, adminAuthFrom(dir));
      try {
        const res = await call(client.listFetchers, client, {}, { deadlineMs: 3_000 });
        const mine = res.instances.find((i) => i.instanceId === name);
        for (const c of mine?.connectors ?? []) out.set(c.connectorId, [...(out.get(c.connectorId) ?? []), name]);
      } catch {
        /* not up yet */
      } finally {
        client.close();
      }
    }
    return out;
  };

  const stableOwnership = async (expected: number, instances: number) => {
    await eventually(
      async () => {
        const o = await owners();
        const byInstance = new Set([...o.values()].flat());
        return o.size === expected && [...o.values()].every((list) => list.length === 1) && byInstance.size === instances;
      },
      90_000,
      `${expected} connectors owned once each by ${instances} fetchers`,
    );
  };

  const emails = async (): Promise<number> => Number(((await raw.query('SELECT COUNT(*) AS n FROM emails')) as Array<{ n: string }>)[0]?.n ?? 0);
  const deliver = async (user: MailUser, id: string) => {
    const box = await mailboxAs(user);
    await box.append('INBOX', testMail(id));
    await box.logout();
  };

  before(async () => {
    db = await mariaDbTestDatabase();
    config = await startConfigService(
      { address: '127.0.0.1:0', database: db.config, masterKeys: { kind: 'file', path: join(dir, 'master.key') }, security, adminTokenFile: join(dir, 'admin.token') },
      { bus, logger },
    );
    storage = await startStorageService(
      { address: '127.0.0.1:0', publicAddress: undefined, database: db.config, spoolDir: join(dir, 'spool'), maxMessageBytes: 10 * 1024 * 1024, purgeIntervalSeconds: 3600, purgeBatchSize: 100, logRetentionDays: 30, dedupeExtraDays: 365, parseWorkers: 1, security, configAddress: config.address },
      { bus, logger, tokens: config.tokens },
    );
    raw = new DataSource({ type: 'mysql', url: db.config.kind === 'mysql' ? db.config.url : '' });
    await raw.initialize();
    for (let i = 0; i < CONNECTORS; i++) {
      const user = dovecotUser(`shard${i}`);
      await deliver(user, `first-${i}`);
      const { connector } = await config.registry.create(TEST_SCOPE, {
        name: `shard-${i}`,
        protocol: 'IMAP',
        host: DOVECOT.host,
        port: DOVECOT.imaps,
        security: 'SSL',
        trustedCaPem: DOVECOT.caPem(),
        username: user.username,
        password: new Secret(user.password),
        workflowId: 'wf',
        pollIntervalSeconds: 10,
      }, TEST_ACTOR);
      users.push({ user, id: connector.id });
    }
  });

  after(async () => {
    for (const f of fetchers.values()) f.child.kill('SIGKILL');
    await raw.destroy();
    await storage.stop();
    await config.stop();
    await bus.close();
    await db.drop();
  });

  it('3 fetchers: every connector owned by exactly one, all mail stored once', async () => {
    for (const n of ['f1', 'f2', 'f3']) await launch(n);
    await stableOwnership(CONNECTORS, 3);
    await eventually(async () => (await emails()) === CONNECTORS, 60_000, 'first mail of every mailbox stored');
  });

  it('kill -9 one fetcher: its connectors resume on the others; mail during the gap stored once', async () => {
    const o = await owners();
    const victims = users.filter((u) => o.get(u.id)?.[0] === 'f2');
    assert.ok(victims.length > 0);
    fetchers.get('f2')!.child.kill('SIGKILL');
    fetchers.delete('f2');
    for (const v of victims) await deliver(v.user, `gap-${v.id}`);
    await stableOwnership(CONNECTORS, 2);
    await eventually(async () => (await emails()) === CONNECTORS + victims.length, 60_000, 'gap mail stored');
  });

  it('a 4th fetcher joins: connectors rebalance, nothing lost or duplicated', async () => {
    const before = await emails();
    await launch('f4');
    await stableOwnership(CONNECTORS, 3);
    for (const u of users) await deliver(u.user, `after-${u.id}`);
    await eventually(async () => (await emails()) === before + CONNECTORS, 90_000, 'one more mail per mailbox stored');
    await new Promise((r) => setTimeout(r, 12_000)); // another interval: a duplicate would show now
    assert.equal(await emails(), before + CONNECTORS);
    const perConnector = (await raw.query('SELECT connector_id, COUNT(*) AS n FROM emails GROUP BY connector_id')) as Array<{ n: string }>;
    assert.equal(perConnector.length, CONNECTORS);
    const outbox = Number(((await raw.query('SELECT COUNT(*) AS n FROM trigger_outbox')) as Array<{ n: string }>)[0]?.n);
    assert.equal(outbox, before + CONNECTORS, 'one trigger per stored email');
  });

  it('any fetcher shows the whole fleet: instances, partitions, connectors', async () => {
    const f1 = fetchers.get('f1')!;
    const client = connect(FetcherServiceClient, f1.address, adminAuthFrom(dir));
    try {
      await eventually(
        async () => {
          const res = await call(client.listFetchers, client, {});
          const names = res.instances.map((i) => i.instanceId).join(',');
          const partitions = res.instances.flatMap((i) => i.partitions).sort((a, b) => a - b);
          const connectors = res.instances.reduce((n, i) => n + i.connectors.length, 0);
          return names === 'f1,f3,f4' && partitions.join(',') === Array.from({ length: 12 }, (_, i) => i).join(',') && connectors === CONNECTORS;
        },
        20_000,
        'fleet view without the killed f2',
      );
    } finally {
      client.close();
    }
  });

  it('a fleet report of 10,000 failing connectors, over the broker\'s 1 MiB encoded, reaches the other fetchers', async () => {
    const connectors = Array.from({ length: 10_000 }, () => ({
      connectorId: randomUUID(),
      workspace: 'default',
      lastError: 'CONNECT_TIMEOUT: no answer from imap.example.com:993 within 30000 ms',
      consecutiveFailures: 3,
      lastErrorAt: new Date(),
    }));
    // Dated ahead, so the view keeps it (three report periods) for as long as the test looks.
    const report = FetcherInstance.encode(FetcherInstance.fromPartial({ instanceId: 'big', connectors, reportedAt: new Date(Date.now() + 60_000) })).finish();
    assert.ok(report.length > 1_048_576, `report of ${report.length} bytes`);
    await bus.publish(TOPICS.fetchers, [{ key: 'big', value: report, headers: {} }]);
    const client = connect(FetcherServiceClient, fetchers.get('f1')!.address, adminAuthFrom(dir));
    try {
      await eventually(async () => (await call(client.listFetchers, client, {})).instances.find((i) => i.instanceId === 'big')?.connectors.length === 10_000, 20_000, 'the big report in f1\'s view');
    } finally {
      client.close();
      await bus.publish(TOPICS.fetchers, [{ key: 'big', value: null, headers: {} }]);
    }
  });

  it('a config change reaches the owning actor within seconds', async () => {
    const a = users[3]!;
    const { connector } = await config.registry.update(TEST_SCOPE, a.id, { pollIntervalSeconds: 30, password: new Secret(a.user.password) }, TEST_ACTOR);
    await eventually(
      async () => {
        for (const f of fetchers.values()) {
          const client = connect(FetcherServiceClient, f.address, adminAuthFrom(dir));
          try {
            const res = await call(client.listFetchers, client, {});
            const status = res.instances.flatMap((i) => i.connectors).find((c) => c.connectorId === a.id);
            if (status?.revision === connector.revision) return true;
          } finally {
            client.close();
          }
        }
        return false;
      },
      10_000,
      'owner runs the new revision',
    );
  });

  it('disable and delete reach the owner and stop polling everywhere', async () => {
    const [, b, c] = users;
    await config.registry.setEnabled(TEST_SCOPE, b!.id, false, TEST_ACTOR);
    await config.registry.delete(TEST_SCOPE, c!.id, false, TEST_ACTOR);
    await eventually(
      async () => {
        const o = await owners();
        return !o.has(b!.id) && !o.has(c!.id) && o.size === CONNECTORS - 2;
      },
      20_000,
      'disabled and deleted connectors stopped',
    );
  });
});
