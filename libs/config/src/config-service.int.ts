import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { InProcessBus, TOPICS, type DeliveredMessage } from '@postbote/bus';
import { Secret } from '@postbote/crypto';
import { ValidationError, AlreadyExistsError, AuthenticationError, PermissionDeniedError, NotFoundError, ConcurrencyError } from '@postbote/errors';
import { PLAINTEXT_LOOPBACK, call, connect } from '@postbote/grpc-runtime';
import { CapturedLog, createLogger } from '@postbote/logging';
import {
  ConnectorChanged,
  ConnectorChanged_Kind,
  ConnectorServiceClient,
  CredentialServiceClient,
  Protocol,
  Security,
  Strategy,
  type ConnectorSpec,
} from '@postbote/proto';
import { AS_FETCHER, AS_STRANGER, TEST_DATABASES, TEST_SECURITY, adminAuthFrom, eventually, tempDir, type TestDatabase } from '@postbote/testing';
import { startConfigService, type RunningConfigService } from './config-service';
import { DataSource } from 'typeorm';

const PASSWORD = 'Pa55-w0rd-§-must-never-leak';
const NEW_PASSWORD = 'second-Secret-7788-never-leak';

const imapSpec = (name: string, extra: Partial<ConnectorSpec> = {}): ConnectorSpec => ({
  name,
  protocol: Protocol.IMAP,
  host: '127.0.0.1',
  username: 'alice@example.test',
  password: PASSWORD,
  workflowId: 'wf-1',
  ...extra,
});

for (const [label, makeDb] of TEST_DATABASES) {
  describe(`config service over gRPC on ${label}`, () => {
    let db: TestDatabase;
    let svc: RunningConfigService;
    let client: InstanceType<typeof ConnectorServiceClient>;
    let creds: InstanceType<typeof CredentialServiceClient>;
    const log = new CapturedLog();
    const bus = new InProcessBus();
    const events: DeliveredMessage[] = [];
    const responses: unknown[] = [];
    const dataDir = tempDir('pb-config-');

    const rpc = async <Req, Res>(method: Parameters<typeof call<Req, Res>>[0], req: Req): Promise<Res> => {
      try {
        const res = await call(method, client, req);
        responses.push(res);
        return res;
      } catch (err) {
        responses.push({ error: (err as Error).message });
        throw err;
      }
    };

    before(async () => {
      db = await makeDb();
      svc = await startConfigService(
        { address: '127.0.0.1:0', database: db.config, masterKeys: { kind: 'file', path: `${dataDir}/master.key` }, security: TEST_SECURITY, adminTokenFile: `${dataDir}/admin.token` },
        { bus, logger: createLogger({ service: 'config-service', level: 'debug', destination: log }) },
      );
      await bus.subscribe({ topic: TOPICS.connectors, groupId: 'test', fromBeginning: true }, async (m) => void events.push(m));
      client = connect(ConnectorServiceClient, svc.address, adminAuthFrom(dataDir));
      creds = connect(CredentialServiceClient, svc.address, AS_FETCHER);
    });

    after(async () => {
      client.close();
      creds.close();
      await svc.stop();
      await bus.close();
      await db.drop();
    });

    it('creates a connector with defaults, publishes it, and never returns the password', async () => {
      const res = await rpc(client.createConnector, { spec: imapSpec('Support') });
      const c = res.connector!;
      assert.equal(c.port, 993);
      assert.equal(c.security, Security.SSL);
      assert.equal(c.folder, 'INBOX');
      assert.equal(c.strategy, Strategy.MARK_READ);
      assert.equal(c.hasPassword, true);
      assert.equal(c.revision, 1);
      assert.deepEqual(res.warnings, []);
      await eventually(() => events.some((e) => e.key === c.id), 5000, 'connector event');
      const ev = ConnectorChanged.decode(events.find((e) => e.key === c.id)!.value!);
      assert.equal(ev.kind, ConnectorChanged_Kind.UPSERTED);
      assert.equal(ev.connector?.name, 'Support');
      assert.doesNotMatch(Buffer.from(events.find((e) => e.key === c.id)!.value!).toString('latin1'), /Pa55/);
    });

    it('rejects a bad spec with INVALID_ARGUMENT naming each field', async () => {
      await assert.rejects(rpc(client.createConnector, { spec: imapSpec('bad', { host: '', port: 70000, batchSize: 0 }) }), (err: unknown) => {
        assert.ok(err instanceof ValidationError);
        assert.deepEqual(err.violations.map((v) => v.field).sort(), ['spec.batch_size', 'spec.host', 'spec.port']);
        return true;
      });
    });

    it('maps validation to the gRPC status INVALID_ARGUMENT on the wire', async () => {
      const err = await new Promise<ServiceError>((resolve) =>
        client.createConnector({ spec: imapSpec('wire', { pollIntervalSeconds: 1 }) }, (e) => resolve(e!)),
      );
      assert.equal(err.code, GrpcStatus.INVALID_ARGUMENT);
      assert.match(err.details, /spec\.poll_interval_seconds: must be an integer between 10 and 86400/);
    });

    it('keeps names unique, ignoring case', async () => {
      await assert.rejects(rpc(client.createConnector, { spec: imapSpec('SUPPORT') }), AlreadyExistsError);
    });

    it('accepts security NONE with a warning in the response and the log', async () => {
      const res = await rpc(client.createConnector, { spec: imapSpec('plain', { security: Security.NONE }) });
      assert.equal(res.connector!.port, 143);
      assert.match(res.warnings.join(), /clear text/);
      assert.ok(log.entries().some((e) => e['level'] === 'warn' && (JSON.stringify(e['warnings']) ?? '').includes('clear text')));
    });

    it('gets by id or name, and 404s an unknown ref', async () => {
      const byName = await rpc(client.getConnector, { ref: 'support' });
      const byId = await rpc(client.getConnector, { ref: byName.id });
      assert.equal(byId.name, 'Support');
      await assert.rejects(rpc(client.getConnector, { ref: 'nope' }), NotFoundError);
    });

    it('lists with paging', async () => {
      for (const n of ['p-a', 'p-b', 'p-c']) await rpc(client.createConnector, { spec: imapSpec(n, { protocol: Protocol.POP3 }) });
      const names: string[] = [];
      let token = '';
      let pages = 0;
      do {
        const page = await rpc(client.listConnectors, { pageSize: 2, pageToken: token });
        names.push(...page.connectors.map((c) => c.name));
        token = page.nextPageToken;
        pages++;
      } while (token);
      assert.deepEqual(names, ['p-a', 'p-b', 'p-c', 'plain', 'Support']);
      assert.equal(pages, 3);
      await assert.rejects(rpc(client.listConnectors, { pageSize: 2, pageToken: '!!' }), ValidationError);
    });

    it('updates without a password and keeps the old one; a given password replaces it', async () => {
      const before = await rpc(client.getConnector, { ref: 'Support' });
      const upd = await rpc(client.updateConnector, { ref: 'Support', spec: { pollIntervalSeconds: 120, strategy: Strategy.MOVE, moveTo: 'INBOX/Done' } });
      assert.equal(upd.connector!.revision, before.revision + 1);
      assert.equal(upd.connector!.pollIntervalSeconds, 120);
      assert.equal(upd.connector!.moveTo, 'INBOX/Done');
      const c1 = await call(creds.getCredentials, creds, { connectorId: before.id, rejectedAccessToken: '' });
      assert.equal(c1.password, PASSWORD);
      await rpc(client.updateConnector, { ref: 'Support', spec: { password: NEW_PASSWORD } });
      const c2 = await call(creds.getCredentials, creds, { connectorId: before.id, rejectedAccessToken: '' });
      assert.equal(c2.password, NEW_PASSWORD);
    });

    it('refuses a stale expected revision', async () => {
      const c = await rpc(client.getConnector, { ref: 'Support' });
      await assert.rejects(rpc(client.updateConnector, { ref: 'Support', spec: { batchSize: 5 }, expectedRevision: c.revision - 1 }), ConcurrencyError);
    });

    it('hands credentials only to the fetcher\'s identity: not to an admin, a stranger or a wrong internal token', async () => {
      const c = await rpc(client.getConnector, { ref: 'Support' });
      const asAdmin = connect(CredentialServiceClient, svc.address, adminAuthFrom(dataDir));
      const stranger = connect(CredentialServiceClient, svc.address, AS_STRANGER);
      const wrong = connect(CredentialServiceClient, svc.address, { transport: PLAINTEXT_LOOPBACK, identity: { internalToken: new Secret('wrong-token-0123456789') } });
      try {
        await assert.rejects(call(asAdmin.getCredentials, asAdmin, { connectorId: c.id, rejectedAccessToken: '' }), PermissionDeniedError);
        await assert.rejects(call(stranger.getCredentials, stranger, { connectorId: c.id, rejectedAccessToken: '' }), AuthenticationError);
        await assert.rejects(call(wrong.getCredentials, wrong, { connectorId: c.id, rejectedAccessToken: '' }), AuthenticationError);
      } finally {
        for (const x of [asAdmin, stranger, wrong]) x.close();
      }
    });

    it('enables, disables and deletes with an event', async () => {
      const off = await rpc(client.setConnectorEnabled, { ref: 'plain', enabled: false });
      assert.equal(off.enabled, false);
      const del = await rpc(client.deleteConnector, { ref: 'plain', purgeEmailsNow: true });
      await eventually(
        () => events.some((e) => e.key === del.id && ConnectorChanged.decode(e.value!).kind === ConnectorChanged_Kind.DELETED),
        5000,
        'delete event',
      );
      const ev = ConnectorChanged.decode(events.filter((e) => e.key === del.id).at(-1)!.value!);
      assert.equal(ev.purgeEmailsNow, true);
      await assert.rejects(rpc(client.getConnector, { ref: 'plain' }), NotFoundError);
    });

    it('rotates keys: re-encrypts every secret under a new key, passwords still readable', async () => {
      const res = await rpc(client.rotateKeys, {});
      assert.ok(res.reencrypted >= 4);
      assert.equal(readFileSync(`${dataDir}/master.key`, 'utf8').trim().split('\n').length, 2);
      const again = await rpc(client.rotateKeys, {});
      assert.notEqual(again.activeKeyId, res.activeKeyId);
      const c = await rpc(client.getConnector, { ref: 'Support' });
      const got = await call(creds.getCredentials, creds, { connectorId: c.id, rejectedAccessToken: '' });
      assert.equal(got.password, NEW_PASSWORD);
    });

    it('stores passwords only as ciphertext (every row, and on SQLite the whole file)', async () => {
      const ds = new DataSource(db.config.kind === 'sqlite' ? { type: 'better-sqlite3', database: db.config.file } : { type: 'mysql', url: db.config.url });
      await ds.initialize();
      try {
        const rows = (await ds.query('SELECT * FROM connectors')) as Array<Record<string, unknown>>;
        assert.ok(rows.length > 0);
        for (const row of rows) {
          assert.doesNotMatch(JSON.stringify(row), /Pa55-w0rd|second-Secret/);
          assert.match(String(row['password_ciphertext']), /^v1\./);
        }
      } finally {
        await ds.destroy();
      }
      if (db.config.kind === 'sqlite') {
        const file = readFileSync(db.config.file).toString('latin1') + readFileSync(`${db.config.file}-wal`).toString('latin1');
        assert.doesNotMatch(file, /Pa55-w0rd|second-Secret/);
      }
    });

    it('republishes every connector and recent deletions on boot', async () => {
      const fresh = new InProcessBus();
      const second = await startConfigService(
        { address: '127.0.0.1:0', database: db.config, masterKeys: { kind: 'file', path: `${dataDir}/master.key` }, security: { transport: PLAINTEXT_LOOPBACK, internalToken: undefined }, adminTokenFile: `${dataDir}/admin.token` },
        { bus: fresh, logger: createLogger({ service: 'config-service', level: 'info', destination: log }) },
      );
      try {
        const seen: DeliveredMessage[] = [];
        await fresh.subscribe({ topic: TOPICS.connectors, groupId: 'late', fromBeginning: true }, async (m) => void seen.push(m));
        const kinds = () => seen.map((m) => ConnectorChanged.decode(m.value!)).map((e) => `${e.connector?.name ?? e.connectorId}:${e.kind}`);
        await eventually(() => seen.length >= 5, 5000, 'republished events');
        assert.deepEqual(kinds().filter((k) => k.endsWith(ConnectorChanged_Kind.UPSERTED)).length, 4);
        const deleted = seen.map((m) => ConnectorChanged.decode(m.value!)).filter((e) => e.kind === ConnectorChanged_Kind.DELETED);
        assert.equal(deleted.length, 1);
        assert.equal(deleted[0]!.purgeEmailsNow, true);
      } finally {
        await second.stop();
        await fresh.close();
      }
    });

    it('never lets a password reach a response, an event or a log line', () => {
      const everything = JSON.stringify(responses) + log.text + events.map((e) => Buffer.from(e.value ?? []).toString('latin1')).join('');
      assert.doesNotMatch(everything, /Pa55-w0rd|second-Secret/);
      assert.ok(log.lines.length > 5, 'the log captured something');
    });

    it('keeps a proxy password write-only, hands it to the fetcher, and drops it with the proxy', async () => {
      const res = await rpc(client.createConnector, { spec: imapSpec('Proxied', { proxyUrl: 'socks5://fetcher@127.0.0.1:1080', proxyPassword: 'proxy-pw-never-shown' }) });
      assert.equal(res.connector?.proxyUrl, 'socks5://fetcher@127.0.0.1:1080');
      assert.equal(res.connector?.hasProxyPassword, true);
      assert.doesNotMatch(JSON.stringify(res), /proxy-pw-never-shown/);
      const id = res.connector?.id ?? '';
      assert.equal((await call(creds.getCredentials, creds, { connectorId: id, rejectedAccessToken: '' })).proxyPassword, 'proxy-pw-never-shown');
      await assert.rejects(rpc(client.updateConnector, { ref: id, spec: { proxyUrl: 'socks5://fetcher@127.0.0.9:1080', password: PASSWORD } }), /spec\.proxy_password: changing spec\.proxy_url/);
      const direct = await rpc(client.updateConnector, { ref: id, spec: { proxyUrl: '', password: PASSWORD } });
      assert.equal(direct.connector?.proxyUrl, '');
      assert.equal(direct.connector?.hasProxyPassword, false);
      assert.equal((await call(creds.getCredentials, creds, { connectorId: id, rejectedAccessToken: '' })).proxyPassword, '');
    });

    it('keeps a trusted CA bundle as large as allowed (64 KiB), which MariaDB\'s TEXT could not hold once escaped in JSON', async () => {
      const one = execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', '/dev/null', '-subj', '/CN=Big CA', '-days', '2', '-outform', 'PEM'], {
        stdio: ['ignore', 'pipe', 'ignore'],
      }).toString();
      const bundle = one.repeat(Math.floor(64 * 1024 / Buffer.byteLength(one)));
      assert.ok(Buffer.byteLength(bundle) > 60_000);
      const res = await rpc(client.createConnector, { spec: imapSpec('Big CA', { trustedCaPem: bundle }) });
      assert.equal(res.connector?.trustedCaPem, bundle);
      assert.equal((await rpc(client.getConnector, { ref: 'Big CA' })).trustedCaPem, bundle);
      await rpc(client.deleteConnector, { ref: 'Big CA', purgeEmailsNow: true });
    });
  });
}
