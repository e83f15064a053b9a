// OAuth2 connectors in the config service, against a loopback token endpoint: the access
// token a fetcher gets, its cache, refresh on a refused token, a rotated refresh token
// stored sealed, a revoked grant, an endpoint outage — and no secret in any answer or row.
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { InProcessBus } from '@postbote/bus';
import { openDatabase } from '@postbote/db';
import { PostboteError } from '@postbote/errors';
import { call, connect } from '@postbote/grpc-runtime';
import { CapturedLog, createLogger } from '@postbote/logging';
import { AuthType, ConnectorServiceClient, CredentialServiceClient, OauthProvider, Protocol, type ConnectorSpec } from '@postbote/proto';
import { AS_FETCHER, OAuthServer, TEST_DATABASES, TEST_SECURITY, adminAuthFrom, freePort, tempDir, type TestDatabase } from '@postbote/testing';
import { startConfigService, type RunningConfigService } from './config-service';

for (const [label, makeDb] of TEST_DATABASES) {
  describe(`OAuth2 connectors in the config service on ${label}`, () => {
    let db: TestDatabase;
    let svc: RunningConfigService;
    let idp: OAuthServer;
    let client: InstanceType<typeof ConnectorServiceClient>;
    let creds: InstanceType<typeof CredentialServiceClient>;
    const log = new CapturedLog();
    const bus = new InProcessBus();
    const dataDir = tempDir('pb-oauth-');
    const secrets: string[] = [];

    const spec = (name: string, refreshToken: string, extra: Partial<ConnectorSpec> = {}): ConnectorSpec => ({
      name,
      protocol: Protocol.IMAP,
      host: '127.0.0.1',
      username: `${name}@example.test`,
      workflowId: 'wf-1',
      authType: AuthType.OAUTH2,
      oauthProvider: OauthProvider.CUSTOM,
      oauthClientId: 'client-1',
      oauthClientSecret: 'client-secret-never-shown',
      oauthRefreshToken: refreshToken,
      oauthTokenUrl: idp.tokenUrl,
      ...extra,
    });
    /** The connectors table as stored, read with a connection of the test's own. */
    const rows = async (sql: string): Promise<Array<Record<string, unknown>>> => {
      const ds = await openDatabase({ config: db.config, entities: [], migrations: [], migrationsTableName: 'config_migrations' });
      try {
        return (await ds.query(sql)) as Array<Record<string, unknown>>;
      } finally {
        await ds.destroy();
      }
    };
    const credentialsOf = (connectorId: string, rejectedAccessToken = '') => call(creds.getCredentials, creds, { connectorId, rejectedAccessToken });
    const create = async (name: string, rotate = false) => {
      const rt = idp.grant(`${name}@example.test`, 'client-1', 'client-secret-never-shown');
      secrets.push(rt);
      const res = await call(client.createConnector, client, { spec: spec(name, rt, rotate ? { oauthScope: 'mail offline_access' } : {}) });
      return { id: res.connector?.id ?? '', rt, connector: res.connector };
    };

    before(async () => {
      db = await makeDb();
      idp = await OAuthServer.start({}, await freePort());
      svc = await startConfigService(
        { address: '127.0.0.1:0', database: db.config, masterKeys: { kind: 'file', path: `${dataDir}/master.key` }, security: TEST_SECURITY, adminTokenFile: `${dataDir}/admin.token` },
        { bus, logger: createLogger({ service: 'config-service', level: 'debug', destination: log }) },
      );
      client = connect(ConnectorServiceClient, svc.address, adminAuthFrom(dataDir));
      creds = connect(CredentialServiceClient, svc.address, AS_FETCHER);
    });

    after(async () => {
      client?.close();
      creds?.close();
      await svc?.stop();
      await idp?.close();
      await bus.close();
      await db?.drop();
    });

    it('creates an OAuth2 connector: settings shown, secrets only as "stored", never in a response', async () => {
      const { connector } = await create('ms');
      assert.equal(connector?.authType, AuthType.OAUTH2);
      assert.equal(connector?.hasPassword, false);
      assert.equal(connector?.hasOauthRefreshToken, true);
      assert.equal(connector?.hasOauthClientSecret, true);
      assert.equal(connector?.oauthTokenUrl, idp.tokenUrl);
      const listed = JSON.stringify(await call(client.listConnectors, client, { pageSize: 10, pageToken: '' }));
      for (const s of [...secrets, 'client-secret-never-shown']) assert.ok(!listed.includes(s), 'a secret in the listing');
    });

    it('hands a fetcher an access token, reuses it, and refreshes once for many callers', async () => {
      const { id } = await create('cache');
      const before = idp.refreshes;
      const all = await Promise.all([1, 2, 3, 4, 5].map(() => credentialsOf(id)));
      assert.equal(idp.refreshes - before, 1, 'five callers at once, one refresh');
      assert.equal(new Set(all.map((c) => c.accessToken)).size, 1);
      assert.equal(all[0]?.password, '');
      assert.ok((all[0]?.accessTokenExpiresAt?.getTime() ?? 0) > Date.now() + 3_000_000);
      await credentialsOf(id);
      assert.equal(idp.refreshes - before, 1, 'a cached token is reused');
    });

    it('refreshes when the mail server refused the token, unless a newer one is already there', async () => {
      const { id } = await create('refused');
      const first = await credentialsOf(id);
      const before = idp.refreshes;
      const second = await credentialsOf(id, first.accessToken);
      assert.notEqual(second.accessToken, first.accessToken);
      assert.equal(idp.refreshes - before, 1);
      // A second fetcher reporting the same old token gets the new one without a refresh.
      assert.equal((await credentialsOf(id, first.accessToken)).accessToken, second.accessToken);
      assert.equal(idp.refreshes - before, 1);
    });

    it('stores a rotated refresh token sealed and uses it next time; the old one is never sent again', async () => {
      const rotating = await OAuthServer.start({ rotate: true }, await freePort());
      try {
        const rt = rotating.grant('rot@example.test', 'client-1', 'client-secret-never-shown');
        const res = await call(client.createConnector, client, { spec: spec('rot', rt, { oauthTokenUrl: rotating.tokenUrl }) });
        const id = res.connector?.id ?? '';
        const a = await credentialsOf(id);
        const b = await credentialsOf(id, a.accessToken);
        const c = await credentialsOf(id, b.accessToken);
        assert.ok(c.accessToken);
        assert.equal(rotating.refreshes, 3);
        assert.equal(new Set(rotating.refreshTokensSeen).size, 3, 'each refresh used the token the previous one returned');
        assert.equal(rotating.refreshTokensSeen[0], rt);
        const stored = JSON.stringify(await rows('SELECT * FROM connectors'));
        for (const seen of rotating.refreshTokensSeen) assert.ok(!stored.includes(seen), 'a refresh token in clear in the database');
        assert.equal((await call(client.getConnector, client, { ref: 'rot' })).revision, 1, 'a rotation is no change of the connector');
        assert.match(log.text, /refresh token rotated by the provider; the new one is stored/);
      } finally {
        await rotating.close();
      }
    });

    it('says FAILED_PRECONDITION (OAUTH_GRANT_INVALID) for a revoked grant and UNAVAILABLE for an endpoint outage', async () => {
      const { id } = await create('revoked');
      idp.revoke('revoked@example.test');
      await assert.rejects(credentialsOf(id), (e: unknown) => e instanceof PostboteError && e.code === 'FAILED_PRECONDITION' && e.reason === 'OAUTH_GRANT_INVALID' && /invalid_grant/.test(e.message));
      const { id: down } = await create('outage');
      idp.failWith = 503;
      try {
        await assert.rejects(credentialsOf(down), (e: unknown) => e instanceof PostboteError && e.code === 'UNAVAILABLE' && e.reason === 'OAUTH_TOKEN_ENDPOINT_UNAVAILABLE');
      } finally {
        idp.failWith = undefined;
      }
      assert.ok((await credentialsOf(down)).accessToken, 'recovers once the endpoint answers');
    });

    it('needs the refresh token again to send tokens to another server, and keeps no password for OAuth2', async () => {
      const { id, rt } = await create('moving');
      await assert.rejects(
        call(client.updateConnector, client, { ref: id, spec: { host: 'imap.elsewhere.example' } }),
        (e: unknown) => e instanceof PostboteError && e.code === 'PERMISSION_DENIED' && /^spec\.oauth_refresh_token: changing spec\.host/.test(e.message),
      );
      const moved = await call(client.updateConnector, client, { ref: id, spec: { host: 'imap.elsewhere.example', oauthRefreshToken: rt } });
      assert.equal(moved.connector?.host, 'imap.elsewhere.example');
      // Back to a password: the OAuth2 secrets are dropped, not kept unused.
      const back = await call(client.updateConnector, client, { ref: id, spec: { authType: AuthType.PASSWORD, password: 'pw-1', host: 'imap.elsewhere.example' } });
      assert.equal(back.connector?.hasOauthRefreshToken, false);
      assert.equal(back.connector?.hasOauthClientSecret, false);
      assert.equal((await credentialsOf(id)).password, 'pw-1');
      assert.equal((await credentialsOf(id)).accessToken, '');
    });

    it('re-seals OAuth2 secrets under a new master key and still refreshes with them', async () => {
      const { id } = await create('rekey');
      const rotated = await call(client.rotateKeys, client, {});
      assert.ok(rotated.reencrypted >= 1);
      const row = await rows(`SELECT secrets_key_id FROM connectors WHERE id = '${id}'`);
      assert.equal(row[0]?.['secrets_key_id'], rotated.activeKeyId);
      assert.ok((await credentialsOf(id, 'stale')).accessToken);
      assert.doesNotMatch(log.text, /client-secret-never-shown|rt-[0-9a-f]{24}|at-[0-9a-f]{24}/, 'a secret or token in the log');
    });
  });
}
