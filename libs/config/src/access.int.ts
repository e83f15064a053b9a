import { strict as assert } from 'node:assert';
import { readFileSync, statSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { InProcessBus } from '@postbote/bus';
import { Secret } from '@postbote/crypto';
import { AuthenticationError, PermissionDeniedError, PostboteError, ValidationError } from '@postbote/errors';
import { PLAINTEXT_LOOPBACK, call, connect, type ClientAuth } from '@postbote/grpc-runtime';
import { CapturedLog, createLogger } from '@postbote/logging';
import { AccessServiceClient, ConnectorServiceClient, Protocol, Role, Security, type ConnectorSpec } from '@postbote/proto';
import { TEST_DATABASES, TEST_SECURITY, adminAuthFrom, tempDir, type TestDatabase } from '@postbote/testing';
import { startConfigService, type RunningConfigService } from './config-service';

const PASSWORD = 'Sekret-for-access-tests-9911';

const spec = (name: string, extra: Partial<ConnectorSpec> = {}): ConnectorSpec => ({
  name,
  protocol: Protocol.IMAP,
  host: 'imap.example.test',
  username: 'u',
  password: PASSWORD,
  workflowId: 'wf',
  ...extra,
});

const withToken = (token: string): ClientAuth => ({ transport: PLAINTEXT_LOOPBACK, identity: { token: new Secret(token) } });

const reasonOf = (err: unknown) => (err instanceof PostboteError ? err.reason : undefined);

for (const [label, makeDb] of TEST_DATABASES) {
  describe(`API tokens, audit log and redirect protection on ${label}`, () => {
    let db: TestDatabase;
    let svc: RunningConfigService;
    let access: AccessServiceClient;
    let connectors: ConnectorServiceClient;
    let clockOffsetMs = 0;
    const log = new CapturedLog();
    const bus = new InProcessBus();
    const dataDir = tempDir('pb-access-');
    const opened: Array<{ close(): void }> = [];
    const client = <C extends { close(): void }>(c: C): C => (opened.push(c), c);

    before(async () => {
      db = await makeDb();
      svc = await startConfigService(
        { address: '127.0.0.1:0', database: db.config, masterKeys: { kind: 'file', path: `${dataDir}/master.key` }, security: TEST_SECURITY, adminTokenFile: `${dataDir}/admin.token` },
        { bus, logger: createLogger({ service: 'config-service', level: 'debug', destination: log }), now: () => new Date(Date.now() + clockOffsetMs) },
      );
      access = client(connect(AccessServiceClient, svc.address, adminAuthFrom(dataDir)));
      connectors = client(connect(ConnectorServiceClient, svc.address, adminAuthFrom(dataDir)));
    });

    after(async () => {
      for (const c of opened) c.close();
      await svc.stop();
      await bus.close();
      await db.drop();
    });

    it('writes the first admin token on first start, mode 0600, and it works', async () => {
      assert.equal(statSync(`${dataDir}/admin.token`).mode & 0o777, 0o600);
      assert.match(readFileSync(`${dataDir}/admin.token`, 'utf8'), /^pbt_[0-9a-f]{12}_[A-Za-z0-9_-]{43}\n$/);
      const me = await call(access.whoAmI, access, {});
      assert.equal(me.role, Role.INSTALLATION_ADMIN, 'the first token acts for the whole installation');
      assert.equal(me.workspace, 'default', 'and, naming none, in the default workspace');
      assert.match(me.description, /^token [0-9a-f]{12} \(admin \(first start\), installation-admin\)$/);
    });

    it('creates a token shown once, lists it without its secret, and a revoked one stops working', async () => {
      const created = await call(access.createToken, access, { name: 'workflow engine', role: Role.VIEWER, validDays: 0 });
      assert.match(created.secret, /^pbt_/);
      const viewer = client(connect(ConnectorServiceClient, svc.address, withToken(created.secret)));
      await call(viewer.listConnectors, viewer, { pageSize: 0, pageToken: '' });
      await assert.rejects(call(viewer.createConnector, viewer, { spec: spec('by-viewer') }), (err: unknown) => err instanceof PermissionDeniedError && /may not call CreateConnector in workspace default \(needs admin or operator\)/.test(err.message));
      const listed = await call(access.listTokens, access, { includeRevoked: false });
      assert.ok(listed.tokens.some((t) => t.id === created.token!.id && t.name === 'workflow engine'));
      assert.doesNotMatch(JSON.stringify(listed), new RegExp(created.secret.slice(-20)));
      await call(access.revokeToken, access, { id: created.token!.id });
      await assert.rejects(call(viewer.listConnectors, viewer, { pageSize: 0, pageToken: '' }), AuthenticationError);
      assert.ok(!(await call(access.listTokens, access, { includeRevoked: false })).tokens.some((t) => t.id === created.token!.id));
      assert.ok((await call(access.listTokens, access, { includeRevoked: true })).tokens.find((t) => t.id === created.token!.id)?.revokedAt);
    });

    it('an expired token stops working', async () => {
      const created = await call(access.createToken, access, { name: 'short-lived', role: Role.OPERATOR, validDays: 1 });
      const op = client(connect(ConnectorServiceClient, svc.address, withToken(created.secret)));
      await call(op.listConnectors, op, { pageSize: 0, pageToken: '' });
      clockOffsetMs = 2 * 86_400_000;
      try {
        await assert.rejects(call(op.listConnectors, op, { pageSize: 0, pageToken: '' }), AuthenticationError);
      } finally {
        clockOffsetMs = 0;
      }
    });

    it('refuses bad token requests naming the field, and only admins manage tokens', async () => {
      await assert.rejects(call(access.createToken, access, { name: 'sup\u202Eport', role: Role.UNSPECIFIED, validDays: 99_999 }), (err: unknown) => {
        assert.ok(err instanceof ValidationError);
        assert.deepEqual(err.violations.map((v) => v.field).sort(), ['name', 'role', 'valid_days']);
        return true;
      });
      const op = await call(access.createToken, access, { name: 'operator', role: Role.OPERATOR, validDays: 0 });
      const asOperator = client(connect(AccessServiceClient, svc.address, withToken(op.secret)));
      await assert.rejects(call(asOperator.createToken, asOperator, { name: 'escalate', role: Role.ADMIN, validDays: 0 }), PermissionDeniedError);
      assert.equal((await call(asOperator.whoAmI, asOperator, {})).role, Role.OPERATOR);
    });

    it('refuses names with zero-width or bidirectional control characters', async () => {
      await assert.rejects(call(connectors.createConnector, connectors, { spec: spec('sup\u200Bport') }), (err: unknown) => err instanceof ValidationError && err.violations[0]?.field === 'spec.name');
      await assert.rejects(call(connectors.createConnector, connectors, { spec: spec('invoice\u202Efdp.exe') }), ValidationError);
    });

    it('a change of server, port, security or CA needs the password again; other changes do not', async () => {
      const c = (await call(connectors.createConnector, connectors, { spec: spec('redirect-me') })).connector!;
      for (const change of [{ host: 'attacker.example.test' }, { port: 1993 }, { security: Security.NONE, port: 143 }]) {
        await assert.rejects(call(connectors.updateConnector, connectors, { ref: c.id, spec: change }), (err: unknown) => {
          assert.ok(err instanceof PermissionDeniedError, String(err));
          assert.equal(reasonOf(err), 'PASSWORD_REQUIRED');
          assert.match(err.message, /spec\.password: changing spec\.(host|port|security)/);
          return true;
        });
      }
      await call(connectors.updateConnector, connectors, { ref: c.id, spec: { pollIntervalSeconds: 300 } });
      const moved = await call(connectors.updateConnector, connectors, { ref: c.id, spec: { host: 'imap2.example.test', password: PASSWORD } });
      assert.equal(moved.connector!.host, 'imap2.example.test');
    });

    it('a connection test cannot send the stored password to another server', async () => {
      const err = await call(connectors.testConnection, connectors, {
        target: { $case: 'ref', value: 'redirect-me' },
        overrides: { host: '127.0.0.1', port: 24999, security: Security.NONE },
      }).catch((e: unknown) => e);
      assert.ok(err instanceof PermissionDeniedError);
      assert.equal(reasonOf(err), 'PASSWORD_REQUIRED');
    });

    it('limits connection tests of unsaved settings per caller', async () => {
      const target = { $case: 'spec' as const, value: spec('probe', { host: '127.0.0.1', port: 24998, security: Security.NONE, connectTimeoutMs: 1000 }) };
      const outcomes: string[] = [];
      for (let i = 0; i < 7; i++) {
        outcomes.push(await call(connectors.testConnection, connectors, { target }).then(() => 'ran', (e: unknown) => (e instanceof PostboteError ? e.code : String(e))));
      }
      assert.deepEqual(outcomes.slice(0, 5), ['ran', 'ran', 'ran', 'ran', 'ran']);
      assert.deepEqual(outcomes.slice(5), ['RESOURCE_EXHAUSTED', 'RESOURCE_EXHAUSTED']);
    });

    it('audits every change with who, what and from where, and never a secret', async () => {
      await call(connectors.rotateKeys, connectors, {});
      const page = await call(access.listAuditEntries, access, { pageSize: 100, pageToken: '', targetId: '' });
      const actions = page.entries.map((e) => e.action);
      for (const a of ['TOKEN_CREATED', 'TOKEN_REVOKED', 'CONNECTOR_CREATED', 'CONNECTOR_UPDATED', 'KEYS_ROTATED', 'CONNECTION_TESTED']) assert.ok(actions.includes(a), `${a} in ${actions.join(',')}`);
      const first = page.entries.at(-1)!;
      assert.equal(first.action, 'TOKEN_CREATED');
      assert.equal(first.actor, 'system');
      const moved = page.entries.find((e) => e.action === 'CONNECTOR_UPDATED' && e.detail.includes('host'))!;
      assert.equal(moved.detail, 'changed: host, password');
      assert.match(moved.actor, /^token [0-9a-f]{12} \(admin \(first start\), installation-admin\)$/);
      assert.match(moved.peer, /^(127\.0\.0\.1|\[::1\]|ipv4:127\.0\.0\.1):\d+$|127\.0\.0\.1/);
      assert.deepEqual(page.entries.slice(0, 3).map((e) => e.action)[0], 'KEYS_ROTATED', 'newest first');
      const byTarget = await call(access.listAuditEntries, access, { pageSize: 0, pageToken: '', targetId: moved.targetId });
      assert.ok(byTarget.entries.every((e) => e.targetId === moved.targetId));
      assert.doesNotMatch(JSON.stringify(page) + log.text, new RegExp(`${PASSWORD}|pbt_[0-9a-f]{12}_`));
    });
  });
}
