// Issue #24: a suspended workspace polls nothing, and one workspace with a thousand queued
// emails and a low quota of runs at once
// cannot delay another's polls. The all-in-one on the real clock and Dovecot: `busy` has 20
// mailboxes with 50 emails each and may run one connector at a time; `calm` has one mailbox,
// polled every 10 s. While busy drains (its connectors taking turns, WAITING in the fleet
// view), calm's connector is created with an email waiting: its first run is due at once, and
// the email must be stored and its workflow event published within calm's interval + 1 s
// — in fact within about a second, not after busy's queue.
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { Secret } from '@postbote/crypto';
import { PLAINTEXT_LOOPBACK, call, connect, fromGrpcError, type ClientAuth } from '@postbote/grpc-runtime';
import { ConnectorServiceClient, ConnectorState, FetcherServiceClient, LogLevel, Protocol, Security, StorageServiceClient, TriggerServiceClient, type EmailReceived } from '@postbote/proto';
import { DOVECOT, dovecotUser, eventually, mailboxAs, runCli, serviceAddresses, startAllInOne, tempDir, testMail, type MailUser, type Proc, type ServiceAddresses } from '@postbote/testing';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const MAILBOXES = 20;
const PER_MAILBOX = 50;
const CALM_INTERVAL_S = 10;

describe('fair share between workspaces (all-in-one, Dovecot)', () => {
  const dataDir = tempDir('pb-fairness-');
  let proc: Proc;
  let addrs: ServiceAddresses;
  const asVendor = (workspace: string): ClientAuth => ({ transport: PLAINTEXT_LOOPBACK, identity: { token: new Secret(readFileSync(join(dataDir, 'admin.token'), 'utf8').trim()) }, workspace });
  const imap = (name: string, user: MailUser, extra: Record<string, unknown>) => ({
    spec: { name, protocol: Protocol.IMAP, host: DOVECOT.host, port: DOVECOT.imaps, security: Security.SSL, trustedCaPem: DOVECOT.caPem(), username: user.username, password: user.password, workflowId: `wf-${name}`, ...extra },
  });

  before(async () => {
    addrs = await serviceAddresses();
    proc = await startAllInOne({ POSTBOTE_DATA_DIR: dataDir, ...addrs, LOG_LEVEL: 'warn', CONSOLE_ENABLED: 'false' });
    const env = { POSTBOTE_DATA_DIR: dataDir, ...addrs };
    assert.equal(runCli(env, ['workspaces', 'create', 'busy', '--name', 'Busy', '--max-runs', '1']).code, 0);
    assert.equal(runCli(env, ['workspaces', 'create', 'calm', '--name', 'Calm']).code, 0);
  });

  after(() => {
    if (proc && proc.child.exitCode === null) proc.child.kill('SIGKILL');
  });

  it('stores and triggers calm\'s new email within its interval + 1 s while busy drains 1,000 emails one connector at a time', async (t) => {
    const busyUsers = Array.from({ length: MAILBOXES }, () => dovecotUser('busy'));
    for (const [i, u] of busyUsers.entries()) {
      const box = await mailboxAs(u);
      try {
        for (let n = 0; n < PER_MAILBOX; n++) await box.append('INBOX', testMail(`busy-${i}-${n}-${u.username}`));
      } finally {
        await box.logout();
      }
    }
    const calmUser = dovecotUser('calm');
    const calmBox = await mailboxAs(calmUser);
    await calmBox.append('INBOX', testMail(`calm-${calmUser.username}`));
    await calmBox.logout();
    const calmConfig = connect(ConnectorServiceClient, addrs.CONFIG_SERVICE_ADDR, asVendor('calm'));
    const busyConfig = connect(ConnectorServiceClient, addrs.CONFIG_SERVICE_ADDR, asVendor('busy'));
    const busyFleet = connect(FetcherServiceClient, addrs.FETCHER_SERVICE_ADDR, asVendor('busy'));
    const busyStorage = connect(StorageServiceClient, addrs.STORAGE_SERVICE_ADDR, asVendor('busy'));
    const calmTail = connect(TriggerServiceClient, addrs.TRIGGER_SERVICE_ADDR, asVendor('calm'));
    const events: Array<{ at: number; event: EmailReceived }> = [];
    const tail = calmTail.tailEvents({ connectorId: '' });
    tail.on('data', (event: EmailReceived) => events.push({ at: Date.now(), event }));
    tail.on('error', (err) => {
      if (!/CANCELLED|Cancelled/.test(String(err))) throw fromGrpcError(err as Parameters<typeof fromGrpcError>[0]);
    });
    try {
      const busy: string[] = [];
      for (const [i, u] of busyUsers.entries()) busy.push((await call(busyConfig.createConnector, busyConfig, imap(`busy-${i}`, u, { pollIntervalSeconds: 600, push: false, batchSize: PER_MAILBOX }))).connector!.id);
      // Busy's connectors take turns: at most one runs, the rest wait for its slot.
      let waiting = 0;
      await eventually(async () => {
        const states = (await call(busyFleet.listFetchers, busyFleet, {})).instances.flatMap((f) => f.connectors.map((c) => c.state));
        waiting = Math.max(waiting, states.filter((s) => s === ConnectorState.WAITING).length);
        assert.ok(states.filter((s) => s === ConnectorState.POLLING).length <= 1, 'one busy run at a time');
        return waiting >= 5;
      }, 30_000, 'busy connectors waiting for their workspace\'s run slot');
      const storedBusy = async () => {
        let n = 0;
        for (const id of busy) n += (await call(busyStorage.countEmails, busyStorage, { connectorId: id, since: [new Date(0)] })).counts[0] ?? 0;
        return n;
      };
      // Calm's connector starts while busy still drains; its first run is due at once.
      const created = Date.now();
      const calm = (await call(calmConfig.createConnector, calmConfig, imap('calm', calmUser, { pollIntervalSeconds: CALM_INTERVAL_S, push: false }))).connector!;
      await eventually(() => events.some((e) => e.event.connectorId === calm.id), (CALM_INTERVAL_S + 5) * 1000, 'calm\'s event');
      const latency = (events.find((e) => e.event.connectorId === calm.id)?.at ?? 0) - created;
      const busyAtThatMoment = await storedBusy();
      t.diagnostic(`calm: connector created → event ${latency} ms (interval ${CALM_INTERVAL_S} s); busy had stored ${busyAtThatMoment} of ${MAILBOXES * PER_MAILBOX}, at most ${waiting} of its connectors waiting`);
      assert.ok(busyAtThatMoment < MAILBOXES * PER_MAILBOX, 'calm ran while busy was still draining');
      assert.ok(latency <= (CALM_INTERVAL_S + 1) * 1000, `calm's email took ${latency} ms`);
      assert.ok(events.every((e) => e.event.workspace === 'calm'), 'calm\'s tail shows calm\'s events only');
      await eventually(async () => (await storedBusy()) === MAILBOXES * PER_MAILBOX, 120_000, 'busy drained');
    } finally {
      tail.cancel();
      for (const c of [calmConfig, busyConfig, busyFleet, busyStorage, calmTail]) c.close();
    }
  });
  it('polls nothing in a suspended workspace (its connector log says so), catches up when resumed, and loses its mail within seconds when deleted', async () => {
    const env = { POSTBOTE_DATA_DIR: dataDir, ...addrs };
    assert.equal(runCli(env, ['workspaces', 'create', 'pausing', '--name', 'Pausing']).code, 0);
    const user = dovecotUser('pausing');
    const config = connect(ConnectorServiceClient, addrs.CONFIG_SERVICE_ADDR, asVendor('pausing'));
    const storage = connect(StorageServiceClient, addrs.STORAGE_SERVICE_ADDR, asVendor('pausing'));
    const stored = async (id: string) => (await call(storage.countEmails, storage, { connectorId: id, since: [new Date(0)] })).counts[0] ?? 0;
    try {
      const c = (await call(config.createConnector, config, imap('pushed', user, { pollIntervalSeconds: 600, push: true }))).connector!;
      const box = await mailboxAs(user);
      try {
        await box.append('INBOX', testMail(`before-${user.username}`));
        await eventually(async () => (await stored(c.id)) === 1, 20_000, 'pushed mail stored while active');
        assert.equal(runCli(env, ['workspaces', 'suspend', 'pausing', '--reason', 'contract paused']).code, 0);
        const log = connect(StorageServiceClient, addrs.STORAGE_SERVICE_ADDR, asVendor('pausing'));
        try {
          await eventually(async () => (await call(log.listConnectorLog, log, { connectorId: c.id, minLevel: LogLevel.DEBUG, pageSize: 20, pageToken: '' })).entries.some((e) => e.code === 'WORKSPACE_SUSPENDED'), 20_000, 'the connector\'s log says it is held');
        } finally {
          log.close();
        }
        await box.append('INBOX', testMail(`during-${user.username}`));
        await new Promise((r) => setTimeout(r, 3_000));
        assert.equal(await stored(c.id), 1, 'nothing polled while suspended');
        assert.equal(runCli(env, ['workspaces', 'resume', 'pausing']).code, 0);
        await eventually(async () => (await stored(c.id)) === 2, 20_000, 'the mail that arrived meanwhile, once resumed');
      } finally {
        await box.logout();
      }
      // Deleted: its mail goes within seconds, not at the next hourly purge.
      const deleted = runCli(env, ['workspaces', 'delete', 'pausing', '--yes']);
      assert.equal(deleted.code, 0, deleted.err);
      assert.match(deleted.out, /workspace pausing deleted: 1 connector\(s\).*\n.*its 2 stored email\(s\)/);
      await eventually(async () => (await stored(c.id)) === 0 && (await call(storage.getWorkspaceUsage, storage, {})).storedEmails === 0, 20_000, 'its mail purged');
    } finally {
      config.close();
      storage.close();
    }
  });
});
