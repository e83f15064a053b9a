import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { resolveCreate } from '@postbote/connector-model';
import { Secret } from '@postbote/crypto';
import { MailboxError, type KeptSession, type RunLog, type RunLogLevel } from '@postbote/mailbox';
import { SimulatedClock } from '@postbote/backoff';
import { ConnectorActor, type FetchConnector, type ConnectorPoll, type RunSummary } from './connector-actor';
import { Supervisor } from './supervisor';
import { CapturedLog, createLogger } from '@postbote/logging';
import { fetcherMetrics } from '@postbote/metrics';

const ok: RunSummary = { candidates: 0, stored: 0, duplicates: 0, refused: 0, skippedOversize: 0, postProcessed: 0, more: false };

function connector(revision = 1, over: Record<string, unknown> = {}): FetchConnector {
  const { settings } = resolveCreate({
    name: 'c',
    protocol: 'IMAP',
    host: '127.0.0.1',
    username: 'u',
    password: new Secret('p'),
    workflowId: 'wf',
    pollIntervalSeconds: 60,
    ...over,
  });
  return { id: 'c1', workspace: 'default', revision, settings };
}

const options = { maxAuthFailures: 3, authBackoffMs: 300_000, maxBackoffMs: 900_000 };
/** A supervisor with the test options, a silent process log, the watchdog every 30 s and first runs unpaced unless asked. */
function supervisor(run: ConnectorPoll, logFor: (id: string) => RunLog, clock: SimulatedClock, watchdogIntervals: number, startRate = Infinity): Supervisor {
  return new Supervisor(run, logFor, clock, { ...options, watchdogIntervals, watchdogEveryMs: 30_000, startRate }, createLogger({ service: 't', level: 'silent', destination: new CapturedLog() }));
}

const flush = async () => {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
};

function harness(run: ConnectorPoll) {
  const clock = new SimulatedClock(0);
  const logs: Array<{ level: RunLogLevel; code: string }> = [];
  const actor = new ConnectorActor(connector(), run, (level, code) => void logs.push({ level, code }), clock, options);
  return { clock, logs, actor };
}

describe('ConnectorActor', () => {
  it('polls at once, then every interval on the injected clock', async () => {
    const at: number[] = [];
    const { clock, actor } = harness(async () => {
      at.push(clock.now());
      return ok;
    });
    actor.start();
    await flush();
    for (let i = 0; i < 3; i++) {
      clock.increment(60_000);
      await flush();
    }
    assert.deepEqual(at, [0, 60_000, 120_000, 180_000]);
    assert.equal(actor.state, 'IDLE');
  });

  it('backs off growing delays after failures and recovers', async () => {
    let fail = 3;
    const at: number[] = [];
    const { clock, actor, logs } = harness(async () => {
      at.push(clock.now());
      if (fail-- > 0) throw new MailboxError('CONNECTION_FAILED', 'refused');
      return ok;
    });
    actor.start();
    await flush();
    assert.equal(actor.state, 'BACKOFF');
    while (at.length < 4) {
      clock.increment(clock.nextTimerIn() ?? 0);
      await flush();
    }
    const gaps = at.slice(1).map((t, i) => t - at[i]!);
    assert.ok(gaps[0]! >= 60_000 && gaps[1]! > gaps[0]! && gaps[2]! > gaps[1]!, `growing gaps: ${gaps.join(',')}`);
    assert.equal(actor.state, 'IDLE');
    assert.equal(actor.status().consecutiveFailures, 0);
    assert.equal(logs.filter((l) => l.code === 'CONNECTION_FAILED').length, 3);
    assert.equal(logs.filter((l) => l.code === 'RECOVERED').length, 1, 'the recovery is logged once');
  });

  it('writes nothing to the connector log for runs that find nothing (the status shows liveness)', async () => {
    let runs = 0;
    const { clock, actor, logs } = harness(async () => {
      runs++;
      return runs === 3 ? { ...ok, candidates: 1, stored: 1 } : ok;
    });
    actor.start();
    await flush();
    for (let i = 0; i < 5; i++) {
      clock.increment(60_000);
      await flush();
    }
    assert.equal(runs, 6);
    assert.deepEqual(logs.map((l) => `${l.level} ${l.code}`), ['INFO RUN_FINISHED'], 'only the run that stored something');
    assert.ok(actor.status().lastSuccessAt === 300_000);
  });

  it('parks in AUTH_FAILED after repeated login failures: no hot loop, no lockout', async () => {
    let attempts = 0;
    const { clock, actor, logs } = harness(async () => {
      attempts++;
      throw new MailboxError('AUTH_FAILED', 'login refused');
    });
    actor.start();
    await flush();
    // A simulated day: only maxAuthFailures attempts, hours apart.
    for (let t = 0; t < 24 * 60; t++) {
      clock.increment(60_000);
      await flush();
    }
    assert.equal(attempts, 3);
    assert.equal(actor.state, 'AUTH_FAILED');
    assert.ok(logs.some((l) => l.code === 'AUTH_FAILED_PARKED' && l.level === 'ERROR'));
    // Same revision: stays parked. A config change (new revision): tries again at once.
    actor.send({ type: 'CONFIGURE', connector: connector(1) });
    await flush();
    assert.equal(actor.state, 'AUTH_FAILED');
    actor.send({ type: 'CONFIGURE', connector: connector(2) });
    await flush();
    clock.increment(0);
    await flush();
    assert.equal(attempts, 4);
  });

  it('aborts a run in progress on STOP and never polls again', async () => {
    let signalSeen: AbortSignal | undefined;
    let runs = 0;
    const { clock, actor } = harness(
      (_c, signal) =>
        new Promise((_, reject) => {
          runs++;
          signalSeen = signal;
          signal.addEventListener('abort', () => reject(signal.reason));
        }),
    );
    actor.start();
    await flush();
    assert.equal(actor.state, 'POLLING');
    actor.send({ type: 'STOP' });
    await actor.settled();
    assert.equal(signalSeen?.aborted, true);
    assert.equal(actor.state, 'STOPPED');
    clock.increment(3_600_000);
    await flush();
    assert.equal(runs, 1);
  });

  it('runs at once when the kept connection announces mail (push), and closes it on reconfigure and stop', async () => {
    let closed = 0;
    let memory: Parameters<ConnectorPoll>[2] | undefined;
    const at: number[] = [];
    const { clock, actor } = harness(async (_c, _s, m) => {
      memory = m;
      at.push(clock.now());
      m.session ??= { key: 'k', usable: true, access: {} as KeptSession['access'], close: () => void closed++ };
      return ok;
    });
    actor.start();
    await flush();
    clock.increment(5_000);
    memory?.wake?.();
    await flush();
    assert.deepEqual(at, [0, 5_000], 'the wake ran without waiting for the interval');
    clock.increment(60_000);
    await flush();
    assert.deepEqual(at, [0, 5_000, 65_000], 'the interval counts from the pushed run');
    actor.send({ type: 'CONFIGURE', connector: connector(2) });
    await flush();
    assert.equal(closed, 1, 'reconfigure closes the kept connection');
    clock.increment(1);
    await flush();
    assert.equal(at.length, 4, 'the reconfigured connector ran (and kept a new connection)');
    actor.send({ type: 'STOP' });
    await flush();
    assert.equal(closed, 2, 'stop closes the one the reconfigured run kept');
    assert.equal(memory?.session, undefined);
  });

  it('handles commands one at a time, in order (FIFO), never overlapping runs', async () => {
    let inFlight = 0;
    let max = 0;
    const { clock, actor } = harness(async () => {
      inFlight++;
      max = Math.max(max, inFlight);
      await new Promise((r) => setImmediate(r));
      inFlight--;
      return ok;
    });
    actor.start();
    actor.send({ type: 'POLL' });
    actor.send({ type: 'CONFIGURE', connector: connector(2, { pollIntervalSeconds: 10 }) });
    await flush();
    clock.increment(10_000);
    await flush();
    assert.equal(max, 1);
    assert.equal(actor.connector.settings.pollIntervalSeconds, 10);
  });
});

describe('Supervisor', () => {
  it('starts, stops and disables actors independently', async () => {
    const clock = new SimulatedClock(0);
    const runs: Record<string, number> = {};
    const sup = supervisor(
      async (c) => {
        runs[c.id] = (runs[c.id] ?? 0) + 1;
        return ok;
      },
      () => () => undefined,
      clock,
      5,
    );
    sup.apply('a', { ...connector(), id: 'a' });
    sup.apply('b', { ...connector(), id: 'b' });
    await flush();
    assert.deepEqual(runs, { a: 1, b: 1 });
    sup.apply('b', null);
    assert.deepEqual(sup.statuses().map((s) => s.connectorId), ['a']);
    const disabled = connector(2, { enabled: false });
    sup.apply('a', { ...disabled, id: 'a' });
    assert.deepEqual(sup.statuses(), []);
    await sup.stop();
  });

  it('paces the first runs of connectors it takes on at the start rate; later runs keep their own intervals', async () => {
    const clock = new SimulatedClock(0);
    const firsts = new Map<string, number>();
    const sup = supervisor(async (c) => (firsts.has(c.id) || firsts.set(c.id, clock.now()), ok), () => () => undefined, clock, 5, 10);
    for (let i = 0; i < 25; i++) sup.apply(`c${i}`, { ...connector(), id: `c${i}` });
    await flush();
    assert.deepEqual([...firsts.values()], Array(10).fill(0), 'a second\'s worth at once, the others wait their turn');
    for (let t = 0; t < 2_400; t += 100) {
      clock.increment(100);
      await flush();
    }
    assert.deepEqual([...firsts.values()], Array.from({ length: 25 }, (_, i) => Math.max(0, i - 9) * 100), 'then ten per second, in the order taken on');
    clock.increment(30_000);
    await flush();
    sup.apply('late', { ...connector(), id: 'late' });
    await flush();
    assert.equal(firsts.get('late'), clock.now(), 'a connector taken on after the burst starts at once');
    await sup.stop();
  });

  it('measures how late a due run starts: a run waiting for its workspace\'s slot is late by that wait', async () => {
    const lateness = async () => (await fetcherMetrics.lateness.get()).values.find((v) => v.metricName === 'postbote_fetcher_poll_lateness_seconds_sum')?.value ?? 0;
    const before = await lateness();
    const clock = new SimulatedClock(0);
    const gates: Array<() => void> = [];
    const sup = supervisor(async () => (await new Promise<void>((resolve) => gates.push(resolve)), ok), () => () => undefined, clock, 5, 1);
    sup.workspaceChanged('one', { suspended: false, maxConcurrentRuns: 1 });
    sup.apply('a', { ...connector(), id: 'a', workspace: 'one' });
    sup.apply('b', { ...connector(), id: 'b', workspace: 'one' });
    await flush();
    clock.increment(1_000); // b's paced first run is due now, and waits for a's slot
    await flush();
    assert.equal(sup.actor('b')?.state, 'WAITING');
    clock.increment(4_000);
    gates.shift()?.();
    await flush();
    assert.equal(sup.actor('b')?.state, 'POLLING');
    assert.equal((await lateness()) - before, 4, 'due at 1 s, started at 5 s');
    gates.shift()?.();
    await sup.stop();
  });

  it('holds a suspended workspace\'s connectors, says so in their log, and runs them again on resume', async () => {
    const clock = new SimulatedClock(0);
    const runs: string[] = [];
    const logs: string[] = [];
    const sup = supervisor(async (c) => (runs.push(c.id), ok), (id) => (_level, code) => void logs.push(`${id} ${code}`), clock, 5);
    const inAcme = (id: string): FetchConnector => ({ ...connector(), id, workspace: 'acme' });
    sup.workspaceChanged('acme', { suspended: true, maxConcurrentRuns: 0 });
    sup.apply('x', inAcme('x'));
    await flush();
    assert.deepEqual(runs, [], 'a suspended workspace polls nothing');
    sup.workspaceChanged('acme', { suspended: false, maxConcurrentRuns: 0 });
    await flush();
    assert.deepEqual(runs, ['x']);
    sup.workspaceChanged('acme', { suspended: true, maxConcurrentRuns: 0 });
    assert.equal(sup.actor('x'), undefined);
    assert.deepEqual(logs, ['x WORKSPACE_RESUMED', 'x WORKSPACE_SUSPENDED']);
    await sup.stop();
  });

  it('runs a workspace\'s connectors at most as many at once as its quota says; the others are WAITING, other workspaces run', async () => {
    const clock = new SimulatedClock(0);
    let running = 0;
    let most = 0;
    const gates: Array<() => void> = [];
    const sup = supervisor(
      async () => {
        most = Math.max(most, ++running);
        await new Promise<void>((resolve) => gates.push(resolve));
        running--;
        return ok;
      },
      () => () => undefined,
      clock,
      5,
    );
    sup.workspaceChanged('slow', { suspended: false, maxConcurrentRuns: 2 });
    for (let i = 0; i < 5; i++) sup.apply(`s${i}`, { ...connector(), id: `s${i}`, workspace: 'slow' });
    sup.apply('other', { ...connector(), id: 'other', workspace: 'fast' });
    await flush();
    assert.deepEqual(sup.runs('slow'), { running: 2, waiting: 3 });
    assert.equal(sup.actor('s4')?.state, 'WAITING');
    assert.equal(sup.actor('other')?.state, 'POLLING', 'another workspace is not queued behind it');
    while (gates.length) {
      gates.shift()?.();
      await flush();
    }
    assert.equal(most, 3, 'two of slow and one of fast at a time');
    assert.deepEqual(sup.runs('slow'), { running: 0, waiting: 0 });
    await sup.stop();
  });

  it('watchdog reports a connector that has not succeeded for several intervals', async () => {
    const clock = new SimulatedClock(0);
    const logs: string[] = [];
    let fail = false;
    const sup = supervisor(
      async () => {
        if (fail) throw new MailboxError('CONNECTION_FAILED', 'down');
        return ok;
      },
      () => (_l, code) => void logs.push(code),
      clock,
      3,
    );
    sup.start();
    sup.apply('a', { ...connector(), id: 'a' });
    await flush();
    fail = true;
    for (let i = 0; i < 40; i++) {
      clock.increment(30_000);
      await flush();
    }
    assert.equal(logs.filter((c) => c === 'WATCHDOG_STALE').length, 1, 'reported once while stale');
    await sup.stop();
  });

  it('watchdog reports and rebuilds a connector that has failed since it started, once per episode', async () => {
    const clock = new SimulatedClock(0);
    const logs: Array<{ code: string; message: string }> = [];
    const runsAt: number[] = [];
    let fail = true;
    const sup = supervisor(
      async () => {
        runsAt.push(clock.now());
        if (fail) throw new MailboxError('CONNECTION_FAILED', 'down');
        return ok;
      },
      () => (_l, code, message) => void logs.push({ code, message }),
      clock,
      3,
    );
    sup.start();
    sup.apply('a', { ...connector(), id: 'a' });
    await flush();
    for (let i = 0; i < 20; i++) {
      clock.increment(30_000);
      await flush();
    }
    const stale = logs.filter((l) => l.code === 'WATCHDOG_STALE');
    assert.equal(stale.length, 1, 'reported once');
    assert.match(stale[0]!.message, /no successful poll since the connector started .* rebuilt/);
    // The rebuilt actor polls at once: a run at the watchdog tick that found it stale.
    const rebuiltAt = runsAt.find((t) => t > 0 && t % 30_000 === 0);
    assert.ok(rebuiltAt !== undefined, `a run right at a watchdog tick (rebuild): ${runsAt.join(',')}`);
    // Once it succeeds, a new episode can be reported again.
    fail = false;
    for (let i = 0; i < 10; i++) {
      clock.increment(60_000);
      await flush();
    }
    fail = true;
    for (let i = 0; i < 20; i++) {
      clock.increment(30_000);
      await flush();
    }
    assert.equal(logs.filter((l) => l.code === 'WATCHDOG_STALE').length, 2, 'a second episode after a success');
    await sup.stop();
  });

  it('replaces a crashed actor after a delay, leaving the others alone', async () => {
    const clock = new SimulatedClock(0);
    const runs: Record<string, number> = {};
    let crashNext = true;
    const sup = supervisor(
      async (c) => {
        runs[c.id] = (runs[c.id] ?? 0) + 1;
        if (c.id === 'a' && runs[c.id] === 1) throw new MailboxError('CONNECTION_FAILED', 'refused');
        return ok;
      },
      (id) => () => {
        // A bug outside the poll (here: the log sink throwing while the failure is
        // reported) crashes the actor itself.
        if (id === 'a' && crashNext) {
          crashNext = false;
          throw new Error('bug');
        }
      },
      clock,
      5,
    );
    sup.apply('a', { ...connector(), id: 'a' });
    sup.apply('b', { ...connector(), id: 'b' });
    await flush();
    assert.deepEqual(runs, { a: 1, b: 1 });
    clock.increment(5_000); // restart delay (jittered, ≤ 1 s for the first restart)
    await flush();
    assert.equal(runs['a'], 2, 'a fresh actor polled again');
    assert.equal(runs['b'], 1, 'b untouched');
    await sup.stop();
  });

  it('watchdog tears down and rebuilds a connector whose run hangs past both timeouts', async () => {
    const clock = new SimulatedClock(0);
    const logs: string[] = [];
    let runs = 0;
    const sup = supervisor(
      (_c, _signal) => {
        runs++;
        // The first run hangs for good, ignoring its signal (the silent-death case).
        return runs === 1 ? new Promise<RunSummary>(() => undefined) : Promise.resolve(ok);
      },
      () => (_l, code) => void logs.push(code),
      clock,
      5,
    );
    sup.start();
    sup.apply('a', { ...connector(), id: 'a' });
    await flush();
    // connect 30 s + fetch 300 s + 60 s slack: the watchdog acts at its next look after that.
    for (let i = 0; i < 15; i++) {
      clock.increment(30_000);
      await flush();
    }
    assert.ok(logs.includes('WATCHDOG_RESTART'));
    assert.equal(runs, 2, 'a rebuilt actor polled');
    assert.equal(sup.statuses()[0]?.state, 'IDLE');
    await sup.stop().catch(() => undefined);
  });
});
