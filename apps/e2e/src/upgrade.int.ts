// An upgrade keeps what users have: today's services, started on a database an earlier main
// wrote (testdata/upgrade-*: connectors with passwords, stored emails, events never
// published; from 7a725a8 also tokens of every role, console users and a connector log; f0c347c
// is the last main before storage kept connector settings as a document, 684d70b the last
// before the outbox's waiting index),
// migrate it and carry on — on SQLite and on MariaDB. Everything lands in the `default`
// workspace, and every token and person keeps the rights it had (issue #24).
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createConnection } from 'mysql2/promise';
import { InProcessBus, TOPICS } from '@postbote/bus';
import { startConfigService } from '@postbote/config';
import type { DatabaseConfig } from '@postbote/db';
import { Secret } from '@postbote/crypto';
import { PLAINTEXT_LOOPBACK, call, connect } from '@postbote/grpc-runtime';
import { CapturedLog, createLogger } from '@postbote/logging';
import { startStorageService } from '@postbote/storage';
import { AccessServiceClient, ConnectorServiceClient, ConsoleUserServiceClient, CredentialServiceClient, EmailReceived, LogLevel, Role, StorageServiceClient } from '@postbote/proto';
import { storeOne } from '@postbote/service-clients';
import { AS_FETCHER, TEST_SECURITY, adminAuthFrom, eventually, mariaDbTestDatabase, tempDir, type TestDatabase } from '@postbote/testing';
import { startTriggerService } from '@postbote/trigger';

const FIXTURES = ['upgrade-195aba0', 'upgrade-7a725a8', 'upgrade-f0c347c', 'upgrade-684d70b'] as const;

interface Expected {
  connectors: Record<'Support' | 'Billing', string>;
  passwords: Record<'Support' | 'Billing', string>;
  emails: Array<{ emailId: string; eventId: string; sha256: string; size: number; connectorId: string }>;
  /** 7a725a8 on: token secrets by name, console users' passwords. */
  tokens?: Record<'engine' | 'ops' | 'auditor' | 'second admin', string>;
  consoleUsers?: Record<'ann' | 'bob', string>;
  /** Written by a main with workspaces (f0c347c on): its admins administer `default`, not the installation. */
  workspaces?: boolean;
}

async function upgradeAndCheck(fixture: string, database: DatabaseConfig, expected: Expected, adminToken: string | undefined): Promise<void> {
  const FIXTURE = join(__dirname, 'testdata', fixture);
  const dir = tempDir('pb-upgrade-');
  copyFileSync(join(FIXTURE, 'master.key'), join(dir, 'master.key'));
  if (adminToken) copyFileSync(join(FIXTURE, adminToken), join(dir, 'admin.token'));
  const bus = new InProcessBus();
  const logger = createLogger({ service: 'upgrade', level: 'silent', destination: new CapturedLog() });
  const events: EmailReceived[] = [];
  await bus.subscribe({ topic: TOPICS.emailReceived, groupId: 'engine', fromBeginning: true }, async (m) => void events.push(EmailReceived.decode(m.value ?? new Uint8Array())));
  const config = await startConfigService({ address: '127.0.0.1:0', database, masterKeys: { kind: 'file', path: join(dir, 'master.key') }, security: TEST_SECURITY, adminTokenFile: join(dir, 'admin.token') }, { bus, logger });
  const storage = await startStorageService(
    { address: '127.0.0.1:0', publicAddress: undefined, database, spoolDir: join(dir, 'spool'), maxMessageBytes: 1e8, purgeIntervalSeconds: 3600, purgeBatchSize: 100, logRetentionDays: 90, dedupeExtraDays: 365, parseWorkers: 1, security: TEST_SECURITY, configAddress: config.address },
    { bus, logger, tokens: config.tokens },
  );
  const trigger = await startTriggerService(
    { address: '127.0.0.1:0', database, topic: TOPICS.emailReceived, topicPerWorkspace: false, maxEventBytes: 900_000, encoding: 'protobuf', batchSize: 100, pollMs: 20, transactionalId: 'x', security: TEST_SECURITY, configAddress: config.address },
    { bus, busConfig: { kind: 'in-process' }, logger, tokens: config.tokens },
  );
  const cc = connect(ConnectorServiceClient, config.address, adminAuthFrom(dir));
  const creds = connect(CredentialServiceClient, config.address, AS_FETCHER);
  const sc = connect(StorageServiceClient, storage.address, adminAuthFrom(dir));
  const asFetcher = connect(StorageServiceClient, storage.address, AS_FETCHER);
  try {
    // Connectors, their settings and their sealed passwords.
    const support = await call(cc.getConnector, cc, { ref: 'Support' });
    assert.equal(support.id, expected.connectors.Support);
    assert.deepEqual([support.folder, support.moveTo, support.pollIntervalSeconds, support.batchSize, support.retentionDays], ['INBOX/Incidents', 'Done', 120, 20, 60]);
    for (const name of ['Support', 'Billing'] as const) {
      const c = await call(creds.getCredentials, creds, { connectorId: expected.connectors[name], rejectedAccessToken: '' });
      assert.equal(c.password, expected.passwords[name], `${name}'s password still opens`);
    }
    // Stored emails, byte for byte.
    for (const e of expected.emails) {
      const parts: Buffer[] = [];
      await new Promise<void>((resolve, reject) => {
        const s = sc.downloadRawEmail({ emailId: e.emailId });
        s.on('data', (c: { data: Buffer }) => parts.push(c.data));
        s.on('error', reject);
        s.on('end', () => resolve());
      });
      const bytes = Buffer.concat(parts);
      assert.equal(createHash('sha256').update(bytes).digest('hex'), e.sha256);
    }
    // The events that were never published go out now, once each.
    await eventually(() => events.length >= expected.emails.length, 10_000, 'the old outbox published');
    assert.deepEqual(events.map((ev) => ev.eventId).sort(), expected.emails.map((e) => e.eventId).sort());
    // A re-store of an old email is still a duplicate: the dedupe keys survived.
    const page = await call(sc.listEmails, sc, { connectorId: expected.connectors.Billing, pageSize: 10, pageToken: '', since: undefined, until: undefined, from: '', subject: '', messageId: '' });
    assert.equal(page.emails.length, 2);
    // Storage learned each old connector's workflow from the republish at boot: new mail
    // for it is stored and starts the configured workflow.
    const fresh = Buffer.from('From: a@example.test\r\nMessage-ID: <after-upgrade@example.test>\r\nSubject: after\r\n\r\nhi\r\n');
    let storedId = '';
    await eventually(
      async () => {
        const ack = await storeOne(asFetcher, { connectorId: expected.connectors.Billing }, { source: { source: { $case: 'pop3', value: { uidl: 'after-upgrade' } } }, occurrence: '', receivedAt: new Date(), content: fresh }).catch(() => null);
        if (ack && 'stored' in ack) storedId = ack.stored.emailId;
        return storedId !== '';
      },
      10_000,
      'storage knows the old connector',
    );
    await eventually(() => events.some((ev) => ev.emailId === storedId && ev.workflowId === 'wf-billing'), 10_000, 'its event names the workflow');
    // What was stored counts against default's (unlimited) quota: counted by the migration, then by the store.
    const usage = await call(sc.getWorkspaceUsage, sc, {});
    assert.deepEqual([usage.storedEmails, usage.maxStoredBytes], [expected.emails.length + 1, 0]);
    // Every event, old or new, belongs to the default workspace.
    assert.deepEqual([...new Set(events.map((ev) => ev.workspace))], ['default']);
    if (expected.tokens && expected.consoleUsers) await rightsKept(config.address, storage.address, expected, sc);
  } finally {
    cc.close();
    creds.close();
    sc.close();
    asFetcher.close();
    await trigger.stop();
    await storage.stop();
    await config.stop();
    await bus.close();
  }
}

/** Each token and console user of the old database still does what it could, in `default`. */
async function rightsKept(configAddress: string, storageAddress: string, expected: Expected, admin: StorageServiceClient): Promise<void> {
  const as = (token: string) => ({ transport: PLAINTEXT_LOOPBACK, identity: { token: new Secret(token) } });
  const tokens = expected.tokens!;
  const who = async (token: string) => {
    const c = connect(AccessServiceClient, configAddress, as(token));
    try {
      return await call(c.whoAmI, c, {});
    } finally {
      c.close();
    }
  };
  for (const [name, role] of [['engine', Role.INGEST], ['ops', Role.OPERATOR], ['auditor', Role.VIEWER]] as const) {
    const me = await who(tokens[name]);
    assert.deepEqual([me.role, me.workspace], [role, 'default'], name);
  }
  // Before workspaces an admin could do everything, and still can; made since, it administers its workspace.
  const admin_ = expected.workspaces ? Role.ADMIN : Role.INSTALLATION_ADMIN;
  assert.equal((await who(tokens['second admin'])).role, admin_, 'an admin keeps what it could do');
  const engine = connect(StorageServiceClient, storageAddress, as(tokens.engine));
  try {
    assert.equal((await call(engine.getEmail, engine, { emailId: expected.emails[0]!.emailId })).workspace, 'default', 'the workflow engine reads what events name');
  } finally {
    engine.close();
  }
  const log = await call(admin.listConnectorLog, admin, { connectorId: expected.connectors.Billing, minLevel: LogLevel.DEBUG, pageSize: 10, pageToken: '' });
  assert.ok(log.entries.some((e) => e.message === 'fixture run: 2 stored'), 'the connector log is still there');
  const consoleSvc = connect(ConsoleUserServiceClient, configAddress, AS_FETCHER);
  try {
    for (const [name, role] of [['ann', admin_], ['bob', Role.OPERATOR]] as const) {
      const s = await call(consoleSvc.signIn, consoleSvc, { name, password: expected.consoleUsers![name], clientAddress: '127.0.0.1' });
      assert.equal((await who(s.sessionToken)).role, role, `${name} signs in with the role they had`);
    }
  } finally {
    consoleSvc.close();
  }
}

for (const fixture of FIXTURES) {
  const FIXTURE = join(__dirname, 'testdata', fixture);
  // The newer fixture carries each database's first admin token; the older one's was never kept.
  const adminOf = (kind: 'sqlite' | 'mysql') => (fixture === 'upgrade-195aba0' ? undefined : `admin-${kind}.token`);
  describe(`upgrading a database written by main at ${fixture.slice('upgrade-'.length)}`, () => {
    it('SQLite: connectors, passwords, emails and unpublished events survive', async () => {
      const file = join(tempDir('pb-upgrade-db-'), 'postbote.sqlite');
      copyFileSync(join(FIXTURE, 'postbote.sqlite'), file);
      await upgradeAndCheck(fixture, { kind: 'sqlite', file }, JSON.parse(readFileSync(join(FIXTURE, 'expected-sqlite.json'), 'utf8')) as Expected, adminOf('sqlite'));
    });

    it('MariaDB: connectors, passwords, emails and unpublished events survive', async () => {
      const db: TestDatabase = await mariaDbTestDatabase();
      try {
        if (db.config.kind !== 'mysql') throw new Error('MariaDB expected');
        const conn = await createConnection({ uri: db.config.url, multipleStatements: true });
        await conn.query(readFileSync(join(FIXTURE, 'mariadb.sql'), 'utf8'));
        await conn.end();
        await upgradeAndCheck(fixture, db.config, JSON.parse(readFileSync(join(FIXTURE, 'expected-mysql.json'), 'utf8')) as Expected, adminOf('mysql'));
      } finally {
        await db.drop();
      }
    });
  });
}
