// OAuth2 connectors end to end: the embedded services fetch from the test Dovecot, whose
// oauth2 passdb checks each bearer token at a loopback introspection endpoint, so the
// login on the wire is the real SASL exchange (OAUTHBEARER). The token endpoint is the same
// loopback authorization server (libs/testing OAuthServer), on the port Dovecot's
// configuration names: this is the only test file that runs it.
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import type { ConnectorRecord, Protocol } from '@postbote/connector-model';
import { Secret } from '@postbote/crypto';
import { call, connect } from '@postbote/grpc-runtime';
import { ConnectorServiceClient } from '@postbote/proto';
import { DOVECOT, OAuthServer, TEST_ACTOR, adminAuthFrom, dovecotLogins, dovecotUser, eventually, mailboxAs, testMail, type MailUser, TEST_SCOPE } from '@postbote/testing';
import { startEmbeddedServices, type EmbeddedServices } from './embedded-services.fixture';

const CLIENT_ID = 'postbote-test-client';

describe('OAuth2 connectors end to end (SASL OAUTHBEARER against Dovecot, loopback token endpoint)', () => {
  let env: EmbeddedServices;
  let idp: OAuthServer;

  before(async () => {
    idp = await OAuthServer.start();
    env = await startEmbeddedServices('pb-e2e-oauth-');
  });

  after(async () => {
    await env?.stop();
    await idp?.close();
  });

  const eventsOf = (id: string) => env.events.filter((e) => e.connectorId === id);
  const deliver = async (user: MailUser, ...ids: string[]) => {
    const box = await mailboxAs(user);
    try {
      for (const id of ids) await box.append('INBOX', testMail(id));
    } finally {
      await box.logout();
    }
  };

  async function oauthConnector(protocol: Protocol, user: MailUser): Promise<ConnectorRecord> {
    const { connector } = await env.config.registry.create(TEST_SCOPE, 
      {
        name: `oauth-${protocol}-${user.username}`,
        protocol,
        host: DOVECOT.host,
        port: protocol === 'IMAP' ? DOVECOT.imaps : DOVECOT.pop3s,
        security: 'SSL',
        trustedCaPem: DOVECOT.caPem(),
        username: user.username,
        authType: 'OAUTH2',
        oauthProvider: 'CUSTOM',
        oauthTokenUrl: idp.tokenUrl,
        oauthClientId: CLIENT_ID,
        oauthRefreshToken: new Secret(idp.grant(user.username, CLIENT_ID)),
        workflowId: 'wf-oauth',
        ...(protocol === 'IMAP' ? { push: false } : {}),
      },
      TEST_ACTOR,
    );
    await eventually(() => env.fetcher.supervisor.actor(connector.id) !== undefined, 5_000, 'actor started');
    return connector;
  }

  for (const protocol of ['IMAP', 'POP3'] as const) {
    it(`${protocol}: fetches with an access token from the token endpoint, logged in by OAUTHBEARER; a refused token is refreshed once`, async () => {
      const user = dovecotUser(`oauth-${protocol.toLowerCase()}`);
      await deliver(user, `o-1-${user.username}`, `o-2-${user.username}`);
      const c = await oauthConnector(protocol, user);
      await env.fetcher.supervisor.actor(c.id)?.settled();
      await eventually(() => eventsOf(c.id).length === 2, 10_000, 'two events');
      assert.equal(idp.refreshesOf(user.username), 1, 'one refresh for the first run');
      assert.deepEqual(
        dovecotLogins(user.username).map((l) => l.method),
        ['PLAIN', 'OAUTHBEARER'],
        'the test delivered with a password, the connector logged in with its token',
      );

      // The server stops accepting the token before its stated expiry: one refresh, one more login, no lost run.
      idp.expireAccessTokens();
      await deliver(user, `o-3-${user.username}`);
      await env.poll(c.id);
      await eventually(() => eventsOf(c.id).length === 3, 10_000, 'the third event');
      assert.equal(idp.refreshesOf(user.username), 2);
      assert.equal(env.fetcher.supervisor.actor(c.id)?.state === 'AUTH_FAILED', false);
      const log = await env.storage.log.list(TEST_SCOPE, c.id, 'INFO', 50, '');
      assert.ok(log.entries.some((e) => e.code === 'OAUTH2_TOKEN_REFUSED'), 'the refusal is in the connector log');
    });
  }

  it('parks a connector whose grant was revoked in AUTH_FAILED, saying what to do; a new refresh token resumes it', async () => {
    const user = dovecotUser('oauth-revoked');
    const c = await oauthConnector('IMAP', user);
    await env.fetcher.supervisor.actor(c.id)?.settled();
    idp.revoke(user.username);
    idp.expireAccessTokens();
    // Three refusals in a row park it; between them the usual login backoff (5, 10 min).
    for (let i = 0; i < 60 && env.fetcher.supervisor.actor(c.id)?.state !== 'AUTH_FAILED'; i++) await env.poll(c.id);
    assert.equal(env.fetcher.supervisor.actor(c.id)?.state, 'AUTH_FAILED');
    const entries = async () => (await env.storage.log.list(TEST_SCOPE, c.id, 'ERROR', 20, '')).entries;
    await eventually(async () => (await entries()).some((e) => e.code === 'AUTH_FAILED_PARKED'), 10_000, 'parked in the log');
    const parked = (await entries()).find((e) => e.code === 'AUTH_FAILED_PARKED');
    assert.match(parked?.message ?? '', /OAUTH_GRANT_INVALID.*invalid_grant.*--refresh-token-stdin/);

    await env.config.registry.update(TEST_SCOPE, c.id, { oauthRefreshToken: new Secret(idp.grant(user.username, CLIENT_ID)) }, TEST_ACTOR);
    await eventually(() => env.fetcher.supervisor.actor(c.id)?.state !== 'AUTH_FAILED', 5_000, 'the new token applied');
    await deliver(user, `o-after-${user.username}`);
    await env.poll(c.id);
    await eventually(() => eventsOf(c.id).length === 1, 10_000, 'fetching again');
  });

  it('tests an OAuth2 connector step by step, the token exchange first; a revoked grant fails at that step', async () => {
    const user = dovecotUser('oauth-test');
    const c = await oauthConnector('IMAP', user);
    const rpc = connect(ConnectorServiceClient, env.config.address, adminAuthFrom(env.dir));
    try {
      const ok = await call(rpc.testConnection, rpc, { target: { $case: 'ref', value: c.id }, overrides: undefined });
      assert.equal(ok.ok, true, JSON.stringify(ok.steps));
      assert.deepEqual(ok.steps.map((s) => s.name), ['OAUTH2', 'TCP', 'TLS', 'GREETING', 'LOGIN', 'FOLDER']);
      assert.deepEqual(await call(rpc.listFolders, rpc, { target: { $case: 'ref', value: c.id } }).then((r) => r.folders.includes('INBOX')), true);
      idp.revoke(user.username);
      idp.expireAccessTokens();
      const refused = await call(rpc.testConnection, rpc, { target: { $case: 'ref', value: c.id }, overrides: undefined });
      // The cached token still looks valid to the config service; the server refuses it.
      assert.equal(refused.ok, false);
      assert.equal(refused.steps.at(-1)?.name, 'LOGIN');
    } finally {
      rpc.close();
    }
  });

  it('never writes a token or refresh token to a log', async () => {
    assert.doesNotMatch(env.log.text, /\b(at|rt)-[0-9a-f]{24}\b/);
  });
});
