// Metrics, health and readiness as an operator scrapes them: `postbote start` with
// METRICS_ADDR, one IMAPS connector on the test Dovecot, a known delivery, then the values.
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { call, connect } from '@postbote/grpc-runtime';
import { ConnectorServiceClient, Protocol, Security, Strategy } from '@postbote/proto';
import { CLI, DOVECOT, adminAuthFrom, dovecotUser, eventually, freePort, launch, mailboxAs, serviceAddresses, startAllInOne, tempDir, testMail, type Proc } from '@postbote/testing';

/** The value of one series in exposition text (labels as written by prom-client, in declaration order). */
function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('metrics, health and readiness over HTTP (all-in-one)', () => {
  const dataDir = tempDir('pb-metrics-');
  const user = dovecotUser('metrics');
  const mails = [1, 2, 3].map((i) => testMail(`metrics-${i}-${user.username}`, `Geheimer Inhalt ${i}`));
  let proc: Proc;
  let addresses: Awaited<ReturnType<typeof serviceAddresses>>;
  let base: string;
  let config: InstanceType<typeof ConnectorServiceClient>;
  let connectorId = '';

  before(async () => {
    base = `http://127.0.0.1:${await freePort()}`;
    addresses = await serviceAddresses();
    proc = await startAllInOne({ POSTBOTE_DATA_DIR: dataDir, ...addresses, METRICS_ADDR: base.slice('http://'.length), LOG_LEVEL: 'info' });
    await eventually(() => proc.out().includes('metrics, health and readiness over HTTP'), 10_000, 'metrics endpoint');
    config = connect(ConnectorServiceClient, addresses.CONFIG_SERVICE_ADDR, adminAuthFrom(dataDir));
  });

  after(async () => {
    config?.close();
    if (proc && proc.child.exitCode === null) proc.child.kill('SIGKILL');
  });

  const scrape = async () => {
    const res = await fetch(`${base}/metrics`);
    assert.equal(res.status, 200);
    return res.text();
  };

  it('answers /healthz and /readyz with each dependency checked', async () => {
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    const ready = await fetch(`${base}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { ready: true, checks: { 'config: database': 'ok', 'storage: database': 'ok', 'trigger: database': 'ok' } });
  });

  it('counts a known run: fetched, stored, bytes, published, the connector and the API call', async () => {
    const box = await mailboxAs(user);
    try {
      for (const m of mails) await box.append('INBOX', m);
    } finally {
      await box.logout();
    }
    const res = await call(config.createConnector, config, {
      spec: {
        name: 'Metrics',
        protocol: Protocol.IMAP,
        host: DOVECOT.host,
        port: DOVECOT.imaps,
        security: Security.SSL,
        trustedCaPem: DOVECOT.caPem(),
        username: user.username,
        password: user.password,
        workflowId: 'wf-metrics',
        strategy: Strategy.MARK_READ,
      },
    });
    connectorId = res.connector?.id ?? '';
    let text = '';
    await eventually(async () => {
      text = await scrape();
      // The fetcher counts a run when it ends (after post-processing), which may be after the
      // events were published: wait for both.
      return (
        value(text, 'postbote_trigger_events_published_total{workspace="default"}') === 3 &&
        value(text, 'postbote_outbox_pending') === 0 &&
        value(text, 'postbote_fetcher_emails_total{workspace="default",protocol="IMAP",result="stored"}') === 3
      );
    }, 30_000, 'three events published and the run counted');

    assert.equal(value(text, 'postbote_fetcher_emails_total{workspace="default",protocol="IMAP",result="stored"}'), 3);
    assert.equal(value(text, 'postbote_storage_emails_total{workspace="default",result="stored"}'), 3);
    assert.equal(value(text, 'postbote_storage_bytes_total{workspace="default"}'), mails.reduce((n, m) => n + m.length, 0));
    assert.ok((value(text, 'postbote_fetcher_runs_total{workspace="default",protocol="IMAP",outcome="ok"}') ?? 0) >= 1);
    assert.ok((value(text, 'postbote_fetcher_run_duration_seconds_count{protocol="IMAP"}') ?? 0) >= 1);
    assert.ok((value(text, 'postbote_storage_commit_duration_seconds_count') ?? 0) >= 1);
    assert.equal(value(text, 'postbote_outbox_oldest_age_seconds'), 0);
    const states = ['IDLE', 'WAITING', 'POLLING', 'BACKOFF', 'AUTH_FAILED', 'STOPPED'].map((s) => value(text, `postbote_fetcher_connectors{state="${s}"}`) ?? 0);
    assert.equal(states.reduce((a, b) => a + b, 0), 1, 'one connector on this fetcher');
    const lastSuccess = value(text, `postbote_connector_last_success_timestamp_seconds{connector="${connectorId}"}`) ?? 0;
    assert.ok(Math.abs(Date.now() / 1000 - lastSuccess) < 60, `last success ${lastSuccess}`);
    assert.equal(value(text, `postbote_connector_backlog{connector="${connectorId}"}`), 0);
    assert.equal(value(text, 'postbote_grpc_requests_total{method="/postbote.v1.ConnectorService/CreateConnector",code="OK"}'), 1);
    assert.ok((value(text, 'postbote_grpc_request_duration_seconds_count{method="/postbote.v1.ConnectorService/CreateConnector"}') ?? 0) >= 1);
  });

  it('a polled connector\'s next run resumes its TLS session with the mail server (counted)', async () => {
    const polled = dovecotUser('metrics-resume');
    await call(config.createConnector, config, {
      spec: { name: 'Resumed', protocol: Protocol.IMAP, host: DOVECOT.host, port: DOVECOT.imaps, security: Security.SSL, trustedCaPem: DOVECOT.caPem(), username: polled.username, password: polled.password, workflowId: 'wf-resume', strategy: Strategy.MARK_READ, push: false, pollIntervalSeconds: 10 },
    });
    await eventually(async () => (value(await scrape(), 'postbote_fetcher_tls_handshakes_total{resumed="yes"}') ?? 0) >= 1, 40_000, 'a second poll resumed its session');
    assert.ok((value(await scrape(), 'postbote_fetcher_tls_handshakes_total{resumed="no"}') ?? 0) >= 1, 'the first poll ran a full handshake');
  });

  it('counts refused API calls by status code', async () => {
    await assert.rejects(call(config.getConnector, config, { ref: 'no-such-connector' }));
    const text = await scrape();
    const refused = text.split('\n').filter((l) => l.startsWith('postbote_grpc_requests_total{method="/postbote.v1.ConnectorService/GetConnector"'));
    assert.equal(refused.length, 1, refused.join('\n'));
    assert.doesNotMatch(refused[0] ?? '', /code="OK"/);
  });

  it('counts a mailbox refusing the login in the folder picker as the mailbox\'s refusal, not the caller\'s', async () => {
    const spec = { protocol: Protocol.IMAP, host: DOVECOT.host, port: DOVECOT.imaps, security: Security.SSL, trustedCaPem: DOVECOT.caPem(), username: user.username, password: 'not-the-password' };
    await assert.rejects(call(config.listFolders, config, { target: { $case: 'spec', value: spec } }), (err: unknown) => {
      const e = err as { code?: string; reason?: string };
      return e.code === 'FAILED_PRECONDITION' && e.reason === 'MAILBOX_AUTH_FAILED';
    });
    const text = await scrape();
    assert.equal(value(text, 'postbote_grpc_requests_total{method="/postbote.v1.ConnectorService/ListFolders",code="FAILED_PRECONDITION"}'), 1);
    assert.equal(value(text, 'postbote_grpc_requests_total{method="/postbote.v1.ConnectorService/ListFolders",code="UNAUTHENTICATED"}'), undefined);
  });

  it('never exports an email, an address or a secret', async () => {
    const text = await scrape();
    for (const secret of ['Geheimer Inhalt', 'metrics-1-', user.password, 'sender@example.test', user.username]) assert.ok(!text.includes(secret), `metrics contain "${secret}"`);
  });

  it('refuses to start with metrics beyond loopback and no token, naming the variable', async () => {
    const port = await freePort();
    const bad = launch(CLI, ['start'], { POSTBOTE_DATA_DIR: tempDir('pb-metrics-bad-'), ...(await serviceAddresses()), METRICS_ADDR: `0.0.0.0:${port}` });
    assert.equal(await bad.exited, 2);
    assert.match(bad.err(), /METRICS_ADDR: 0\.0\.0\.0:\d+ is reachable beyond this host: set METRICS_TOKEN/);
    const short = launch(CLI, ['start'], { POSTBOTE_DATA_DIR: tempDir('pb-metrics-bad-'), ...(await serviceAddresses()), METRICS_ADDR: `0.0.0.0:${port}`, METRICS_TOKEN: 'short' });
    assert.equal(await short.exited, 2);
    assert.match(short.err(), /METRICS_TOKEN: must be at least 16 characters/);
  });
});
