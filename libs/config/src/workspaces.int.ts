// Issue #24: two customers on one config service. Each sees and changes only its own
// connectors, tokens, people and audit entries; another's ids answer exactly as ids that do
// not exist; quotas and suspension hold; deleting a workspace removes what it owned.
import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { InProcessBus, TOPICS } from '@postbote/bus';
import { Secret } from '@postbote/crypto';
import { AuthenticationError, PermissionDeniedError, PostboteError, QuotaExceededError, ValidationError } from '@postbote/errors';
import { PLAINTEXT_LOOPBACK, call, connect, type ClientAuth } from '@postbote/grpc-runtime';
import { CapturedLog, createLogger } from '@postbote/logging';
import {
  AccessServiceClient,
  ConnectorChanged,
  ConnectorChanged_Kind,
  ConnectorServiceClient,
  ConsoleUserServiceClient,
  Protocol,
  Role,
  Security,
  WorkspaceServiceClient,
  WorkspaceState,
  type ConnectorSpec,
} from '@postbote/proto';
import { AS_FETCHER, TEST_DATABASES, TEST_SECURITY, adminAuthFrom, eventually, tempDir, type TestDatabase } from '@postbote/testing';
import { startConfigService, type RunningConfigService } from './config-service';

const spec = (name: string, extra: Partial<ConnectorSpec> = {}): ConnectorSpec => ({
  name,
  protocol: Protocol.IMAP,
  host: 'imap.example.test',
  username: 'u',
  password: 'Sekret-workspaces-4411',
  workflowId: 'wf',
  ...extra,
});
const PASSWORD = 'people-password-0815';

/** What a call came back with, as a person comparing two answers would see it (ids masked). */
const outcome = (p: Promise<unknown>) =>
  p.then(
    () => 'answered',
    (e: unknown) => (e instanceof PostboteError ? `${e.code}: ${e.message.replace(/[0-9a-f]{8}-[0-9a-f-]{27}|[0-9a-f]{12}/g, 'ID')}` : String(e)),
  );

for (const [label, makeDb] of TEST_DATABASES) {
  describe(`workspaces on ${label}`, () => {
    let db: TestDatabase;
    let svc: RunningConfigService;
    const bus = new InProcessBus();
    const dataDir = tempDir('pb-workspaces-');
    const opened: Array<{ close(): void }> = [];
    const open = <C extends { close(): void }>(c: C): C => (opened.push(c), c);
    const withToken = (token: string, workspace?: string): ClientAuth => ({ transport: PLAINTEXT_LOOPBACK, identity: { token: new Secret(token) }, workspace });
    const vendor = (workspace?: string) => ({ ...adminAuthFrom(dataDir), workspace });
    /** An admin token of `workspace`, made by the installation admin acting there. */
    const adminOf = async (workspace: string) => {
      const a = open(connect(AccessServiceClient, svc.address, vendor(workspace)));
      return (await call(a.createToken, a, { name: `${workspace} admin`, role: Role.ADMIN, validDays: 0 })).secret;
    };
    let acme: string;
    let globex: string;
    const deletions: string[] = [];

    before(async () => {
      db = await makeDb();
      svc = await startConfigService(
        { address: '127.0.0.1:0', database: db.config, masterKeys: { kind: 'file', path: `${dataDir}/master.key` }, security: TEST_SECURITY, adminTokenFile: `${dataDir}/admin.token` },
        { bus, logger: createLogger({ service: 'config-service', level: 'silent', destination: new CapturedLog() }) },
      );
      await bus.subscribe({ topic: TOPICS.connectors, groupId: 'test', fromBeginning: true }, async (m) => {
        const e = ConnectorChanged.decode(m.value ?? new Uint8Array());
        if (e.kind === ConnectorChanged_Kind.DELETED && e.purgeEmailsNow) deletions.push(e.connectorId);
      });
      const w = open(connect(WorkspaceServiceClient, svc.address, vendor()));
      await call(w.createWorkspace, w, { id: 'acme', displayName: 'ACME Corp', quotas: { maxConnectors: 2, minPollIntervalSeconds: 60, connectionTestsPerMinute: 2 } });
      await call(w.createWorkspace, w, { id: 'globex', displayName: 'Globex', quotas: {} });
      acme = await adminOf('acme');
      globex = await adminOf('globex');
    });

    after(async () => {
      for (const c of opened) c.close();
      await svc.stop();
      await bus.close();
      await db.drop();
    });

    it('lets only an installation admin create workspaces, and lists each caller its own', async () => {
      const asAcme = open(connect(WorkspaceServiceClient, svc.address, withToken(acme)));
      await assert.rejects(call(asAcme.createWorkspace, asAcme, { id: 'mine', displayName: 'Mine', quotas: {} }), PermissionDeniedError);
      assert.deepEqual((await call(asAcme.listWorkspaces, asAcme, {})).workspaces.map((w) => w.id), ['acme']);
      const all = open(connect(WorkspaceServiceClient, svc.address, vendor()));
      assert.deepEqual((await call(all.listWorkspaces, all, {})).workspaces.map((w) => w.id), ['acme', 'default', 'globex']);
      const shown = await call(asAcme.getWorkspace, asAcme, {});
      assert.equal(shown.displayName, 'ACME Corp');
      assert.equal(shown.quotas?.maxConnectors, 2);
      await assert.rejects(call(all.createWorkspace, all, { id: 'Bad Id', displayName: '\u0085', quotas: { maxConnectors: -1 >>> 0 } }), (e: unknown) => {
        assert.ok(e instanceof ValidationError);
        assert.deepEqual(e.violations.map((v) => v.field).sort(), ['display_name', 'id', 'quotas.max_connectors']);
        return true;
      });
    });

    it('keeps connectors apart: names repeat, and another workspace\'s ids answer as missing ones do', async () => {
      const a = open(connect(ConnectorServiceClient, svc.address, withToken(acme)));
      const g = open(connect(ConnectorServiceClient, svc.address, withToken(globex)));
      const mineA = (await call(a.createConnector, a, { spec: spec('Support') })).connector!;
      const mineG = (await call(g.createConnector, g, { spec: spec('Support') })).connector!;
      assert.equal(mineA.workspace, 'acme');
      assert.equal(mineG.workspace, 'globex');
      assert.deepEqual((await call(a.listConnectors, a, { pageSize: 0, pageToken: '' })).connectors.map((c) => c.id), [mineA.id]);
      assert.equal((await call(a.getConnector, a, { ref: 'Support' })).id, mineA.id);
      const missing = randomUUID();
      const attempts: Array<[string, (ref: string) => Promise<unknown>]> = [
        ['get', (ref) => call(a.getConnector, a, { ref })],
        ['update', (ref) => call(a.updateConnector, a, { ref, spec: { batchSize: 5 } })],
        ['enable', (ref) => call(a.setConnectorEnabled, a, { ref, enabled: false })],
        ['delete', (ref) => call(a.deleteConnector, a, { ref, purgeEmailsNow: true })],
        ['test', (ref) => call(a.testConnection, a, { target: { $case: 'ref', value: ref } })],
        ['folders', (ref) => call(a.listFolders, a, { target: { $case: 'ref', value: ref } })],
      ];
      for (const [what, attempt] of attempts) {
        const theirs = await outcome(attempt(mineG.id));
        assert.match(theirs, /^NOT_FOUND/, what);
        assert.equal(theirs, await outcome(attempt(missing)), `${what}: another workspace's id answers as a missing one`);
      }
      assert.equal((await call(g.getConnector, g, { ref: mineG.id })).batchSize, mineG.batchSize, 'nothing of globex changed');
    });

    it('keeps tokens and audit entries apart, and nobody hands out more than they hold', async () => {
      const a = open(connect(AccessServiceClient, svc.address, withToken(acme)));
      const g = open(connect(AccessServiceClient, svc.address, withToken(globex)));
      const viewerG = await call(g.createToken, g, { name: 'globex viewer', role: Role.VIEWER, validDays: 0 });
      assert.equal(viewerG.token?.workspace, 'globex');
      assert.ok((await call(a.listTokens, a, { includeRevoked: true })).tokens.every((t) => t.workspace === 'acme'));
      assert.equal(await outcome(call(a.revokeToken, a, { id: viewerG.token!.id })), await outcome(call(a.revokeToken, a, { id: '0123456789ab' })));
      await assert.rejects(call(a.createToken, a, { name: 'escalate', role: Role.INSTALLATION_ADMIN, validDays: 0 }), PermissionDeniedError);
      const entries = (await call(a.listAuditEntries, a, { pageSize: 500, pageToken: '', targetId: '' })).entries;
      assert.ok(entries.length > 0 && entries.every((e) => e.workspace === 'acme'), 'only acme\'s entries');
      assert.ok(entries.some((e) => e.action === 'WORKSPACE_CREATED' && /installation-admin/.test(e.actor)), 'acme sees who made it, as installation admin');
      const theirs = (await call(g.listAuditEntries, g, { pageSize: 500, pageToken: '', targetId: '' })).entries;
      assert.ok(!theirs.some((e) => e.workspace === 'acme'));
      // A token of acme naming globex is nobody there.
      const cross = open(connect(AccessServiceClient, svc.address, withToken(acme, 'globex')));
      await assert.rejects(call(cross.whoAmI, cross, {}), PermissionDeniedError);
    });

    it('holds the quotas: connector count, shortest interval, connection tests a minute', async () => {
      const a = open(connect(ConnectorServiceClient, svc.address, withToken(acme)));
      await assert.rejects(call(a.createConnector, a, { spec: spec('too-often', { pollIntervalSeconds: 30 }) }), (e: unknown) => e instanceof ValidationError && e.violations[0]?.field === 'spec.poll_interval_seconds' && /at least 60 s in workspace acme/.test(e.message));
      await call(a.createConnector, a, { spec: spec('second') });
      await assert.rejects(call(a.createConnector, a, { spec: spec('third') }), (e: unknown) => e instanceof QuotaExceededError && e.quota === 'quotas.max_connectors');
      const probe = { $case: 'spec' as const, value: spec('probe', { host: '127.0.0.1', port: 24997, security: Security.NONE, connectTimeoutMs: 1000 }) };
      const runs: string[] = [];
      for (let i = 0; i < 3; i++) runs.push(await outcome(call(a.testConnection, a, { target: probe })));
      assert.deepEqual(runs.slice(0, 2), ['answered', 'answered']);
      assert.match(runs[2] ?? '', /^RESOURCE_EXHAUSTED: too many connection tests in workspace acme \(its limit: 2 a minute\)/);
    });

    it('suspends a workspace: nothing in it changes, it is still read; resumed, it changes again', async () => {
      const w = open(connect(WorkspaceServiceClient, svc.address, vendor()));
      const g = open(connect(ConnectorServiceClient, svc.address, withToken(globex)));
      const suspended = await call(w.suspendWorkspace, w, { id: 'globex', reason: 'invoice overdue' });
      assert.equal(suspended.state, WorkspaceState.SUSPENDED);
      await assert.rejects(call(g.createConnector, g, { spec: spec('during') }), (e: unknown) => e instanceof PostboteError && e.reason === 'WORKSPACE_SUSPENDED' && /invoice overdue/.test(e.message));
      assert.equal((await call(g.listConnectors, g, { pageSize: 0, pageToken: '' })).connectors.length, 1);
      await call(w.resumeWorkspace, w, { id: 'globex' });
      await call(g.createConnector, g, { spec: spec('after') });
    });

    it('lets a person belong to two workspaces; each admin manages only their membership', async () => {
      const peopleA = open(connect(ConsoleUserServiceClient, svc.address, withToken(acme)));
      const peopleG = open(connect(ConsoleUserServiceClient, svc.address, withToken(globex)));
      await call(peopleA.addConsoleUser, peopleA, { name: 'ann', role: Role.VIEWER, password: PASSWORD, replace: false });
      await assert.rejects(call(peopleG.addConsoleUser, peopleG, { name: 'ann', role: Role.ADMIN, password: 'another-password-1', replace: false }), { code: 'ALREADY_EXISTS' });
      await call(peopleG.addConsoleUser, peopleG, { name: 'ann', role: Role.OPERATOR, password: '', replace: false });
      await assert.rejects(call(peopleA.addConsoleUser, peopleA, { name: 'ann', role: Role.VIEWER, password: 'hijacked-password-1', replace: true }), (e: unknown) => e instanceof PermissionDeniedError && e.reason === 'PASSWORD_NOT_YOURS');
      assert.deepEqual((await call(peopleA.listConsoleUsers, peopleA, {})).users.map((u) => [u.name, u.role]), [['ann', Role.VIEWER]]);
      const consoleSvc = open(connect(ConsoleUserServiceClient, svc.address, AS_FETCHER));
      const session = await call(consoleSvc.signIn, consoleSvc, { name: 'ann', password: PASSWORD, clientAddress: '127.0.0.1' });
      const me = (workspace: string) => {
        const c = open(connect(AccessServiceClient, svc.address, withToken(session.sessionToken, workspace)));
        return call(c.whoAmI, c, {});
      };
      assert.equal((await me('acme')).role, Role.VIEWER);
      assert.equal((await me('globex')).role, Role.OPERATOR);
      assert.deepEqual((await me('globex')).memberships.map((m) => m.workspace).sort(), ['acme', 'globex']);
      await assert.rejects(me('default'), PermissionDeniedError);
      await call(peopleA.removeConsoleUser, peopleA, { name: 'ann' });
      await assert.rejects(me('acme'), PermissionDeniedError);
      assert.equal((await me('globex')).role, Role.OPERATOR, 'still in globex');
    });

    it('deletes a workspace with what it owned, reports it, and never default', async () => {
      const w = open(connect(WorkspaceServiceClient, svc.address, vendor()));
      const g = open(connect(ConnectorServiceClient, svc.address, withToken(globex)));
      const ids = (await call(g.listConnectors, g, { pageSize: 0, pageToken: '' })).connectors.map((c) => c.id);
      const report = await call(w.deleteWorkspace, w, { id: 'globex' });
      assert.deepEqual({ ...report }, { id: 'globex', connectors: 2, tokens: 2, consoleMembers: 1, auditEntries: report.auditEntries });
      assert.ok(report.auditEntries > 0);
      await eventually(() => ids.every((id) => deletions.includes(id)), 5_000, 'each connector deleted on the topic, its mail purged now');
      await assert.rejects(call(g.listConnectors, g, { pageSize: 0, pageToken: '' }), AuthenticationError, 'its tokens are gone');
      const a = open(connect(ConnectorServiceClient, svc.address, withToken(acme)));
      assert.equal((await call(a.listConnectors, a, { pageSize: 0, pageToken: '' })).connectors.length, 2, 'acme untouched');
      await assert.rejects(call(w.deleteWorkspace, w, { id: 'default' }), (e: unknown) => e instanceof PostboteError && e.reason === 'WORKSPACE_NOT_DELETABLE');
      const installation = open(connect(AccessServiceClient, svc.address, vendor()));
      const audit = (await call(installation.listAuditEntries, installation, { pageSize: 50, pageToken: '', targetId: 'globex' })).entries;
      assert.match(audit.find((e) => e.action === 'WORKSPACE_DELETED')?.detail ?? '', /2 connector\(s\)/);
    });
  });
}
