// The whole IMAP path in one process on the embedded default: config, storage, trigger
// and fetcher services, a real Dovecot mailbox, events on the in-process bus. The
// fetcher runs on a simulated clock so polls happen when the test says.
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { Secret } from '@postbote/crypto';
import { ConnectorServiceClient, Protocol, Security, Strategy } from '@postbote/proto';
import { call, connect } from '@postbote/grpc-runtime';
import { DOVECOT, TEST_ACTOR, TestProxy, adminAuthFrom, dovecotLoginAddresses, dovecotUser, expectLastLoginFrom, dovecotWho, eventually, mailboxAs, testMail, TEST_SCOPE } from '@postbote/testing';
import { grpcMetrics } from '@postbote/metrics';
import { startEmbeddedServices, type EmbeddedServices } from './embedded-services.fixture';

describe('IMAP connector end to end (embedded default, real Dovecot)', () => {
  let env: EmbeddedServices;
  let config: EmbeddedServices['config'];
  let storage: EmbeddedServices['storage'];
  let fetcher: EmbeddedServices['fetcher'];
  let events: EmbeddedServices['events'];
  let log: EmbeddedServices['log'];
  let dir = '';

  before(async () => {
    env = await startEmbeddedServices('pb-e2e-imap-');
    ({ config, storage, fetcher, events, log, dir } = env);
  });

  after(() => env.stop());

  async function connectorFor(user: { username: string; password: string }, extra: Record<string, unknown> = {}) {
    const { connector } = await config.registry.create(TEST_SCOPE, {
      name: `c-${user.username}`,
      protocol: 'IMAP',
      host: DOVECOT.host,
      port: DOVECOT.imaps,
      security: 'SSL',
      trustedCaPem: DOVECOT.caPem(),
      username: user.username,
      password: new Secret(user.password),
      workflowId: 'wf-e2e',
      batchSize: 200,
      pollIntervalSeconds: 60,
      ...extra,
    }, TEST_ACTOR);
    await eventually(() => fetcher.supervisor.actor(connector.id) !== undefined, 5_000, 'actor started');
    return connector;
  }

  /** GetCredentials calls the config service answered so far (this process's metrics). */
  const credentialLookups = async () =>
    (await grpcMetrics.requests.get()).values.filter((v) => v.labels['method'] === '/postbote.v1.CredentialService/GetCredentials').reduce((n, v) => n + v.value, 0);

  const poll = (id: string) => env.poll(id);

  it('stores, triggers and marks read every one of 1,000 messages delivered while polling, exactly once', async () => {
    const user = dovecotUser('e2e');
    const c = await connectorFor(user);
    await fetcher.supervisor.actor(c.id)?.settled();
    const box = await mailboxAs(user);
    try {
      for (let round = 0; round < 10; round++) {
        // Delivery and polling overlap: half a round's mail lands while the poll runs.
        const deliveries = (async () => {
          for (let i = 0; i < 100; i++) await box.append('INBOX', testMail(`bulk-${round}-${i}`));
        })();
        await poll(c.id);
        await deliveries;
      }
      const unseen = async () => {
        const status = await box.status('INBOX', { unseen: true });
        assert.ok(status, 'STATUS INBOX answered');
        return status.unseen;
      };
      for (let i = 0; i < 10 && (await unseen()); i++) await poll(c.id);
      assert.equal(await unseen(), 0, 'all marked read');
    } finally {
      await box.logout();
    }
    await eventually(() => events.filter((e) => e.connectorId === c.id).length >= 1000, 30_000, '1,000 events');
    await new Promise((r) => setTimeout(r, 300));
    const mine = events.filter((e) => e.connectorId === c.id);
    assert.equal(mine.length, 1000);
    assert.equal(new Set(mine.map((e) => e.subject)).size, 1000, 'each message once');
    assert.equal(new Set(mine.map((e) => e.eventId)).size, 1000);
    assert.ok(mine.every((e) => e.workflowId === 'wf-e2e' && e.connectorName === c.name));
    const stored = await storage.store.list({ scope: TEST_SCOPE, connectorId: c.id, pageSize: 500, pageToken: '' });
    assert.equal(stored.items.length, 500);
    assert.ok(stored.nextPageToken);
  });

  it('push: an email appended between polls is stored and triggered within seconds, on the kept connection; deleting the connector closes it', async () => {
    const user = dovecotUser('e2e-push');
    const c = await connectorFor(user, { pollIntervalSeconds: 3600 });
    await eventually(() => fetcher.supervisor.actor(c.id)?.status().push === true, 5_000, 'the connection kept in IDLE');
    const logins = dovecotLoginAddresses(user.username).length;
    const lookups = await credentialLookups();
    assert.ok(lookups > 0, 'the first run looked the credentials up');
    const box = await mailboxAs(user);
    const latencies: number[] = [];
    try {
      for (let i = 0; i < 5; i++) {
        const appended = Date.now();
        await box.append('INBOX', testMail(`push-${i}-${user.username}`));
        await eventually(() => events.filter((e) => e.connectorId === c.id).length === i + 1, 10_000, `event ${i + 1}`);
        latencies.push(Date.now() - appended);
      }
    } finally {
      await box.logout();
    }
    // The simulated clock never moved: every run was started by the server's announcement.
    assert.ok(Math.max(...latencies) < 2_000, `append → event ${latencies.join(', ')} ms`);
    assert.equal(dovecotLoginAddresses(user.username).length, logins + 1, 'the test\'s own login only: the runs used the kept connection');
    assert.equal(await credentialLookups(), lookups, 'and its credentials: no look-up at the config service');
    await config.registry.delete(TEST_SCOPE, c.id, false, TEST_ACTOR);
    await eventually(() => fetcher.supervisor.actor(c.id) === undefined, 5_000, 'actor stopped');
    await eventually(() => !dovecotWho().includes(user.username), 5_000, 'no connection left at the server');
  });

  it('parks a connector with a wrong password in AUTH_FAILED, visible through the API and its log', async () => {
    const user = dovecotUser('e2e-auth');
    const c = await connectorFor({ ...user, password: 'wrong-password' });
    await fetcher.supervisor.actor(c.id)?.settled();
    for (let i = 0; i < 12 * 60 && fetcher.supervisor.actor(c.id)?.state !== 'AUTH_FAILED'; i++) await poll(c.id);
    assert.equal(fetcher.supervisor.actor(c.id)?.state, 'AUTH_FAILED');
    await eventually(async () => (await storage.log.list(TEST_SCOPE, c.id, 'ERROR', 10, '')).entries.some((e) => e.code === 'AUTH_FAILED_PARKED'), 10_000, 'log entry');
    // The fix: a new password (new revision) wakes it up and it succeeds.
    await config.registry.update(TEST_SCOPE, c.id, { password: new Secret(user.password) }, TEST_ACTOR);
    await eventually(() => fetcher.supervisor.actor(c.id)?.state !== 'AUTH_FAILED', 5_000, 'config change applied');
    await fetcher.supervisor.actor(c.id)?.settled();
    env.clock.increment(0);
    await fetcher.supervisor.actor(c.id)?.settled();
    await eventually(() => fetcher.supervisor.actor(c.id)?.status().lastSuccessAt !== null, 10_000, 'a successful poll');
  });

  it('POP3: stores each UIDL once across fetcher restarts, never deletes, and honours reprocess', async () => {
    const user = dovecotUser('e2e-pop');
    const box = await mailboxAs(user);
    await box.append('INBOX', testMail('pop-1'));
    await box.append('INBOX', testMail('pop-2'));
    const pop = async (reprocess: boolean) => {
      const c = await connectorFor(user, { name: `pop-${reprocess}-${user.username}`, protocol: 'POP3', port: DOVECOT.pop3s, reprocess });
      await fetcher.supervisor.actor(c.id)?.settled();
      return c;
    };
    const off = await pop(false);
    const eventsOf = (id: string) => events.filter((e) => e.connectorId === id);
    await eventually(() => eventsOf(off.id).length === 2, 10_000, 'two POP3 events');
    // Nothing new on later polls: the UIDLs in storage are the durable "read" state, the
    // only one POP3 needs, so a restarted fetcher (which keeps nothing else) behaves alike.
    await poll(off.id);
    await poll(off.id);
    // The same message presented again under a new UIDL (appended again: new UID).
    await box.append('INBOX', testMail('pop-1'));
    await poll(off.id);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(eventsOf(off.id).length, 2, 'reprocess off: the known Message-ID + content is not triggered again');
    const on = await pop(true);
    await eventually(() => eventsOf(on.id).length === 3, 10_000, 'reprocess on: all three presentations');
    const status = await box.status('INBOX', { messages: true });
    assert.ok(status, 'STATUS INBOX answered');
    assert.equal(status.messages, 3, 'POP3 never deletes');
    await box.logout();
  });

  it('a connector with a proxy fetches through it: the proxy password from the config service, the mailbox seeing the proxy', async () => {
    const proxy = await TestProxy.start({ kind: 'socks5', user: 'fetcher', password: 'e2e-proxy-pw', localAddress: '127.0.0.2' });
    try {
      const user = dovecotUser('e2e-proxy');
      const box = await mailboxAs(user);
      try {
        await box.append('INBOX', testMail(`proxied-${user.username}`));
      } finally {
        await box.logout();
      }
      const c = await connectorFor(user, { proxyUrl: proxy.url, proxyPassword: new Secret('e2e-proxy-pw'), push: false });
      await fetcher.supervisor.actor(c.id)?.settled();
      await eventually(() => events.filter((e) => e.connectorId === c.id).length === 1, 10_000, 'the proxied email');
      assert.deepEqual(proxy.tunnels, [`${DOVECOT.host}:${DOVECOT.imaps}`]);
      await expectLastLoginFrom(user.username, '127.0.0.2', 'the mailbox saw the fetcher\'s source address');
    } finally {
      await proxy.close();
    }
  });

  it('TestConnection and ListFolders through the config service', async () => {
    const user = dovecotUser('e2e-probe');
    const box = await mailboxAs(user);
    await box.mailboxCreate('INBOX/Incidents');
    await box.logout();
    const { connector } = await config.registry.create(TEST_SCOPE, {
      name: `probe-${user.username}`,
      protocol: 'IMAP',
      host: DOVECOT.host,
      port: DOVECOT.imap,
      security: 'TLS',
      trustedCaPem: DOVECOT.caPem(),
      username: user.username,
      password: new Secret(user.password),
      workflowId: 'wf',
      folder: 'Inbox/Incidents',
      enabled: false,
    }, TEST_ACTOR);
    const rpc = connect(ConnectorServiceClient, config.address, adminAuthFrom(dir));
    const res = await call(rpc.testConnection, rpc, { target: { $case: 'ref', value: connector.id }, overrides: undefined });
    assert.equal(res.ok, true, JSON.stringify(res.steps));
    assert.deepEqual(res.steps.map((s) => s.name), ['TCP', 'GREETING', 'STARTTLS', 'LOGIN', 'FOLDER']);
    const bad = await call(rpc.testConnection, rpc, {
      target: { $case: 'spec', value: { protocol: Protocol.IMAP, host: DOVECOT.host, port: DOVECOT.imaps, security: Security.SSL, username: user.username, password: 'nope', strategy: Strategy.MARK_READ } },
      overrides: undefined,
    });
    assert.equal(bad.ok, false);
    assert.equal(bad.steps.at(-1)?.name, 'TLS', 'no trusted CA given: the certificate is refused first');
    const folders = await call(rpc.listFolders, rpc, { target: { $case: 'ref', value: connector.id } });
    assert.deepEqual(folders.folders, ['INBOX', 'INBOX/Incidents']);
    rpc.close();
    assert.doesNotMatch(log.text, new RegExp(user.password));
  });
});
