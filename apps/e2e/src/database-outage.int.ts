// Issue #10.5: a database outage must say so. Behind a proxy that the test closes (an
// outage of MariaDB as the services see it, without touching the shared server), the
// config service answers UNAVAILABLE with reason DATABASE_UNAVAILABLE, a fetcher's run
// logs CREDENTIALS_UNAVAILABLE naming that cause, and both recover when the database returns.
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { InProcessBus } from '@postbote/bus';
import { resolveCreate } from '@postbote/connector-model';
import { startConfigService, type RunningConfigService } from '@postbote/config';
import { Secret } from '@postbote/crypto';
import { UnavailableError } from '@postbote/errors';
import { connectorPoll } from '@postbote/fetcher';
import { call, connect } from '@postbote/grpc-runtime';
import { CapturedLog, createLogger } from '@postbote/logging';
import { MailboxError } from '@postbote/mailbox';
import { ConnectorServiceClient, CredentialServiceClient, Protocol, StorageServiceClient } from '@postbote/proto';
import { AS_FETCHER, TEST_SECURITY, adminAuthFrom, cuttingProxy, eventually, freePort, healthStatus, mariaDbTestDatabase, tempDir, type CuttingProxy, type TestDatabase } from '@postbote/testing';

describe('a database outage is named as one, and recovered from', () => {
  let db: TestDatabase;
  let proxy: CuttingProxy;
  let proxyPort: number;
  let svc: RunningConfigService;
  let config: ConnectorServiceClient;
  let creds: CredentialServiceClient;
  const bus = new InProcessBus();

  before(async () => {
    db = await mariaDbTestDatabase();
    if (db.config.kind !== 'mysql') throw new Error('MariaDB expected');
    const real = new URL(db.config.url);
    proxyPort = await freePort();
    proxy = await cuttingProxy(Number(real.port || 3306), {}, real.hostname, proxyPort);
    const viaProxy = new URL(db.config.url);
    viaProxy.port = String(proxyPort);
    const dir = tempDir('pb-outage-');
    svc = await startConfigService(
      { address: '127.0.0.1:0', database: { kind: 'mysql', url: viaProxy.toString() }, masterKeys: { kind: 'file', path: `${dir}/master.key` }, security: TEST_SECURITY, adminTokenFile: `${dir}/admin.token` },
      { bus, logger: createLogger({ service: 'config', level: 'silent', destination: new CapturedLog() }) },
    );
    config = connect(ConnectorServiceClient, svc.address, adminAuthFrom(dir));
    creds = connect(CredentialServiceClient, svc.address, AS_FETCHER);
  });
  after(async () => {
    config.close();
    creds.close();
    await svc.stop().catch(() => undefined);
    await proxy.close();
    await bus.close();
    await db.drop();
  });

  it('GetCredentials says UNAVAILABLE / DATABASE_UNAVAILABLE, a fetcher run says CREDENTIALS_UNAVAILABLE with that cause, and both recover', async () => {
    const created = await call(config.createConnector, config, { spec: { name: 'outage', protocol: Protocol.POP3, host: '127.0.0.1', username: 'u', password: 'p', workflowId: 'wf', enabled: false } });
    const id = created.connector!.id;
    const lookup = () => call(creds.getCredentials, creds, { connectorId: id, rejectedAccessToken: '' }, { deadlineMs: 20_000 });
    assert.equal((await lookup()).username, 'u');

    await proxy.close(); // the database goes away
    await assert.rejects(lookup(), (e: unknown) => e instanceof UnavailableError && e.reason === 'DATABASE_UNAVAILABLE');
    // Health follows within a readiness period (5 s), for orchestrators and load balancers.
    await eventually(async () => (await healthStatus(svc.address, 'postbote.v1.ConnectorService')) === 'NOT_SERVING', 15_000, 'health NOT_SERVING');

    const storage = connect(StorageServiceClient, '127.0.0.1:1', AS_FETCHER);
    const run = connectorPoll({ credentials: creds, storage, logFor: () => () => undefined, maxMessageBytes: 1024 * 1024, now: () => new Date() });
    const { settings } = resolveCreate({ name: 'outage', protocol: 'POP3', host: '127.0.0.1', username: 'u', password: new Secret('p'), workflowId: 'wf' });
    await assert.rejects(run({ id, workspace: 'default', revision: 1, settings }, new AbortController().signal, { oversize: new Set() }), (e: unknown) => {
      assert.ok(e instanceof MailboxError && e.failure === 'CREDENTIALS_UNAVAILABLE', String(e));
      assert.match(e.message, /UNAVAILABLE \(DATABASE_UNAVAILABLE\)/);
      return true;
    });
    storage.close();

    proxy = await cuttingProxy(Number(new URL(db.config.kind === 'mysql' ? db.config.url : '').port || 3306), {}, '127.0.0.1', proxyPort); // it returns
    for (let i = 0; ; i++) {
      try {
        assert.equal((await lookup()).username, 'u');
        break;
      } catch (err) {
        if (i > 50) throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    await eventually(async () => (await healthStatus(svc.address, 'postbote.v1.ConnectorService')) === 'SERVING', 15_000, 'health SERVING again');
  });
});
