import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { InProcessBus } from '@postbote/bus';
import { openDatabase } from '@postbote/db';
import { Secret } from '@postbote/crypto';
import { PLAINTEXT_LOOPBACK, call, connect, type ClientAuth } from '@postbote/grpc-runtime';
import { CapturedLog, createLogger } from '@postbote/logging';
import { AccessServiceClient, ConnectorServiceClient, ConsoleUserServiceClient, Role } from '@postbote/proto';
import { AS_FETCHER, TEST_DATABASES, TEST_SECURITY, adminAuthFrom, tempDir, type TestDatabase } from '@postbote/testing';
import { startConfigService, type RunningConfigService } from './config-service';
import { passwordMatches } from './console-users';

const asSession = (token: string): ClientAuth => ({ transport: PLAINTEXT_LOOPBACK, identity: { token: new Secret(token) } });
const PASSWORD = 'console-user-password-77';

for (const [label, makeDb] of TEST_DATABASES) {
  describe(`console users and sessions on ${label}`, () => {
    let db: TestDatabase;
    let svc: RunningConfigService;
    let admin: ConsoleUserServiceClient;
    let asConsole: ConsoleUserServiceClient;
    let clockOffsetMs = 0;
    const log = new CapturedLog();
    const bus = new InProcessBus();
    const dataDir = tempDir('pb-console-users-');
    const opened: Array<{ close(): void }> = [];
    const client = <C extends { close(): void }>(c: C): C => (opened.push(c), c);
    const signIn = (name: string, password: string, clientAddress = '192.0.2.1') => call(asConsole.signIn, asConsole, { name, password, clientAddress });

    before(async () => {
      db = await makeDb();
      svc = await startConfigService(
        { address: '127.0.0.1:0', database: db.config, masterKeys: { kind: 'file', path: `${dataDir}/master.key` }, security: TEST_SECURITY, adminTokenFile: `${dataDir}/admin.token` },
        { bus, logger: createLogger({ service: 'config-service', level: 'debug', destination: log }), now: () => new Date(Date.now() + clockOffsetMs) },
      );
      admin = client(connect(ConsoleUserServiceClient, svc.address, adminAuthFrom(dataDir)));
      // The internal token counts as the console service in deployments without mutual TLS.
      asConsole = client(connect(ConsoleUserServiceClient, svc.address, AS_FETCHER));
    });

    after(async () => {
      for (const c of opened) c.close();
      await svc.stop();
      await bus.close();
      await db.drop();
    });

    it('adds a user with a scrypt hash, signs them in to a session with their role, and the session works as a token', async () => {
      const u = await call(admin.addConsoleUser, admin, { name: 'Ann@Example.test', role: Role.OPERATOR, password: PASSWORD, replace: false });
      assert.equal(u.name, 'ann@example.test', 'names are case-insensitive');
      const ds = await openDatabase({ config: db.config, entities: [], migrations: [], migrationsTableName: 'config_migrations' });
      const [row] = (await ds.query("SELECT password_hash FROM console_users WHERE name = 'ann@example.test'").finally(() => ds.destroy())) as Array<{ password_hash: string }>;
      assert.match(row!.password_hash, /^scrypt\$32768\$8\$1\$[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}$/);
      assert.ok(await passwordMatches(PASSWORD, row!.password_hash));
      assert.ok(!(await passwordMatches('wrong', row!.password_hash)));

      const s = await signIn('ann@example.test', PASSWORD);
      assert.equal(s.user?.role, Role.OPERATOR);
      assert.ok(s.expiresAt && Math.abs(s.expiresAt.getTime() - Date.now() - 12 * 3_600_000) < 60_000, 'a 12-hour session');
      const me = client(connect(AccessServiceClient, svc.address, asSession(s.sessionToken)));
      const who = await call(me.whoAmI, me, {});
      assert.equal(who.name, 'console: ann@example.test');
      assert.equal(who.role, Role.OPERATOR);
      const connectors = client(connect(ConnectorServiceClient, svc.address, asSession(s.sessionToken)));
      await call(connectors.listConnectors, connectors, { pageSize: 10, pageToken: '' });
      // Only the console may sign people in: a person's token may not, even an admin's.
      await assert.rejects(call(admin.signIn, admin, { name: 'ann@example.test', password: PASSWORD, clientAddress: '' }), { code: 'PERMISSION_DENIED' });

      await call(asConsole.signOut, asConsole, { sessionToken: s.sessionToken });
      await assert.rejects(call(me.whoAmI, me, {}), { code: 'UNAUTHENTICATED' });
    });

    it('refuses unknown names and wrong passwords alike, never logs the password, and rate-limits per name', async () => {
      await assert.rejects(signIn('nobody', PASSWORD), { code: 'UNAUTHENTICATED', message: /unknown user name or wrong password/ });
      await assert.rejects(signIn('ann@example.test', 'not-it'), { code: 'UNAUTHENTICATED', message: /unknown user name or wrong password/ });
      let limited = 0;
      for (let i = 0; i < 12; i++) await signIn('ann@example.test', 'not-it', `198.51.100.${i}`).catch((e: { code?: string }) => void (e.code === 'RESOURCE_EXHAUSTED' && limited++));
      assert.ok(limited >= 1, 'attempts beyond the burst are refused');
      assert.ok(!log.text.includes(PASSWORD) && !log.text.includes('not-it'));
      clockOffsetMs += 10 * 60_000; // the bucket refills
      await signIn('ann@example.test', PASSWORD);
    });

    it('replacing a password or removing a user ends their sessions; sessions are not API tokens in the list', async () => {
      await call(admin.addConsoleUser, admin, { name: 'bob', role: Role.VIEWER, password: PASSWORD, replace: false });
      const s = await signIn('bob', PASSWORD);
      const me = client(connect(AccessServiceClient, svc.address, asSession(s.sessionToken)));
      await call(me.whoAmI, me, {});
      await assert.rejects(call(admin.addConsoleUser, admin, { name: 'bob', role: Role.VIEWER, password: PASSWORD, replace: false }), { code: 'ALREADY_EXISTS' });
      await call(admin.addConsoleUser, admin, { name: 'bob', role: Role.ADMIN, password: `${PASSWORD}-new`, replace: true });
      await assert.rejects(call(me.whoAmI, me, {}), { code: 'UNAUTHENTICATED' }, 'the old password\'s session ended');
      await assert.rejects(signIn('bob', PASSWORD), { code: 'UNAUTHENTICATED' });
      const again = await signIn('bob', `${PASSWORD}-new`);
      assert.equal(again.user?.role, Role.ADMIN);
      await call(admin.removeConsoleUser, admin, { name: 'bob' });
      const after = client(connect(AccessServiceClient, svc.address, asSession(again.sessionToken)));
      await assert.rejects(call(after.whoAmI, after, {}), { code: 'UNAUTHENTICATED' });
      const access = client(connect(AccessServiceClient, svc.address, adminAuthFrom(dataDir)));
      const tokens = await call(access.listTokens, access, { includeRevoked: true });
      assert.deepEqual(tokens.tokens.map((t) => t.name), ['admin (first start)']);
      const users = await call(admin.listConsoleUsers, admin, {});
      assert.deepEqual(users.users.map((u) => [u.name, u.role]), [['ann@example.test', Role.OPERATOR]]);
      assert.ok(users.users[0]!.lastSignInAt, 'the last sign-in is kept');
    });

    it('names every rule a new user breaks', async () => {
      await assert.rejects(call(admin.addConsoleUser, admin, { name: ' ', role: Role.INGEST, password: 'short', replace: false }), (err: Error) => {
        assert.match(err.message, /name: must be 1 to 64 characters/);
        assert.match(err.message, /role: must be admin, operator, viewer \(in this workspace\) or installation-admin/);
        assert.match(err.message, /password: must be 12 to 200 characters/);
        return true;
      });
    });

    it('a session ends at its expiry', async () => {
      const s = await signIn('ann@example.test', PASSWORD, '203.0.113.9');
      const me = client(connect(AccessServiceClient, svc.address, asSession(s.sessionToken)));
      await call(me.whoAmI, me, {});
      clockOffsetMs += 12 * 3_600_000 + 1_000;
      await assert.rejects(call(me.whoAmI, me, {}), { code: 'UNAUTHENTICATED' });
    });
  });
}
