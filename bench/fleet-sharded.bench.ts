// The scaled-out fleet (issue #28): N connectors on MariaDB + Kafka with every service a
// process of its own (config, storage, trigger, and F fetchers sharing the connectors
// through a Kafka consumer group), half polled at a long interval and half pushed (IMAP
// IDLE), against a Dovecot of the bench's own that hibernates idle sessions (bench-dovecot.ts).
// Measures the cold start (until every connector is owned exactly once, until every one has
// run, the login rate on the way), then a steady window (per fetcher CPU, RSS, sockets; the
// other services' and Dovecot's CPU; logins/s; how late polls start, from the fetchers'
// lateness histogram), then a fetcher's kill -9 (until its connectors are owned and have run
// again).
//   npx tsx bench/fleet-sharded.bench.ts [--connectors 2000] [--fetchers 3] [--interval 300] [--window 300] [--start-rate 6]
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { call, connect } from '@postbote/grpc-runtime';
import { ConnectorServiceClient, FetcherServiceClient, Protocol, Security, Strategy, type FetcherInstance } from '@postbote/proto';
import { DOVECOT_PASSWORD, REPO_ROOT, TEST_KAFKA_BROKERS, adminAuthFrom, freePort, mariaDbTestDatabase, tempDir } from '@postbote/testing';
import { BENCH_DOVECOT, benchDovecotDown, benchDovecotPids, benchDovecotUp, benchMailboxes } from './bench-dovecot';
import { benchArgs, cpuSeconds, fmt, memoryMiB, procTimes, table } from './harness';

const args = benchArgs();
const N = Number(args.get('connectors') ?? 2_000);
const FETCHERS = Number(args.get('fetchers') ?? 3);
const INTERVAL = Number(args.get('interval') ?? 300);
const WINDOW = Number(args.get('window') ?? INTERVAL);
// Every connector logs into the one lab Dovecot, which takes ~250 logins/s here on its own
// (bench/login-probe.ts) and shares the two cores with the fleet: 3 × 30/s leaves it room. Against
// many mail servers the product's default (100 per fetcher) is the right rate.
const START_RATE = Number(args.get('start-rate') ?? 30);
/** How long the fleet may take to settle: twice the paced start of every connector, 900 s at least. */
const SETTLE_LIMIT_S = Math.max(900, Math.ceil((2 * N) / (FETCHERS * START_RATE)));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);

interface Service {
  readonly name: string;
  readonly child: ChildProcess;
  readonly address: string;
  readonly metrics?: string;
}

async function main(): Promise<void> {
  await benchDovecotUp(N);
  const db = await mariaDbTestDatabase();
  const dir = tempDir('pb-fleet-');
  const namespace = `fleet${randomBytes(4).toString('hex')}`;
  const addr = async () => `127.0.0.1:${await freePort()}`;
  const common: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'],
    POSTBOTE_DATA_DIR: dir,
    DATABASE_URL: db.config.kind === 'mysql' ? db.config.url : '',
    KAFKA_BROKERS: TEST_KAFKA_BROKERS.join(','),
    KAFKA_NAMESPACE: namespace,
    POSTBOTE_INTERNAL_TOKEN: randomBytes(24).toString('hex'),
    CONFIG_SERVICE_ADDR: await addr(),
    STORAGE_SERVICE_ADDR: await addr(),
    TRIGGER_SERVICE_ADDR: await addr(),
    METRICS_CONNECTOR_LABELS: 'false',
    FETCHER_START_RATE: String(START_RATE),
    LOG_LEVEL: 'warn',
  };
  const services: Service[] = [];
  const launch = async (name: string, app: string, env: NodeJS.ProcessEnv = {}): Promise<Service> => {
    const metrics = await addr();
    const address = env['FETCHER_SERVICE_ADDR'] ?? common[`${app.split('-')[0]?.toUpperCase()}_SERVICE_ADDR`] ?? '';
    const child = spawn(process.execPath, [join(REPO_ROOT, 'dist', 'apps', app, 'main.js')], { env: { ...common, METRICS_ADDR: metrics, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    // The services' warnings (LOG_LEVEL warn), without kafkajs's own chatter about every rebalance.
    const relay = (b: Buffer) => {
      for (const line of b.toString().split('\n')) if (line && !line.includes('"logger":"kafkajs"')) process.stderr.write(`[${name}] ${line.slice(0, 400)}\n`);
    };
    child.stdout?.on('data', relay);
    child.stderr?.on('data', relay);
    const s = { name, child, address, metrics };
    services.push(s);
    return s;
  };
  const ready = async (s: Service) => {
    for (let i = 0; i < 240; i++) {
      const ok = await fetch(`http://${s.metrics}/readyz`).then((r) => r.ok, () => false);
      if (ok) return;
      if (s.child.exitCode !== null) throw new Error(`${s.name} exited with ${s.child.exitCode}`);
      await sleep(250);
    }
    throw new Error(`${s.name} not ready`);
  };
  try {
    const config = await launch('config', 'config-service');
    await ready(config);
    const others = [await launch('storage', 'storage-service'), await launch('trigger', 'trigger-service')];
    for (const s of others) await ready(s);

    // Connectors first, fetchers after: the fetchers' start is a cold start over all of them.
    const api = connect(ConnectorServiceClient, config.address, adminAuthFrom(dir));
    const prefix = `fl${randomBytes(3).toString('hex')}`;
    benchMailboxes(Array.from({ length: N }, (_, i) => `${prefix}-${i}`));
    const t0 = Date.now();
    for (let i = 0; i < N; i += 100) {
      await Promise.all(
        Array.from({ length: Math.min(100, N - i) }, (_, k) =>
          call(api.createConnector, api, {
            spec: {
              name: `fleet-${i + k}`,
              protocol: Protocol.IMAP,
              host: BENCH_DOVECOT.host,
              port: BENCH_DOVECOT.imaps,
              security: Security.SSL,
              trustedCaPem: BENCH_DOVECOT.caPem(),
              username: `${prefix}-${i + k}`,
              password: DOVECOT_PASSWORD,
              workflowId: 'wf',
              strategy: Strategy.MARK_READ,
              pollIntervalSeconds: INTERVAL,
              push: (i + k) % 2 === 0,
            },
          }),
        ),
      );
      if ((i / 100) % 20 === 0) log(`${i + 100} connectors created`);
    }
    api.close();
    const created = (Date.now() - t0) / 1000;
    log(`${N} connectors created in ${fmt(created, 1)} s`);

    // Cold start.
    const logFrom = statSync(BENCH_DOVECOT.log).size;
    const cold0 = Date.now();
    const fetchers: Service[] = [];
    for (let f = 1; f <= FETCHERS; f++) fetchers.push(await launch(`f${f}`, 'fetcher-service', { FETCHER_INSTANCE_ID: `f${f}`, FETCHER_SERVICE_ADDR: await addr() }));
    const cold = await watchOwnership(fetchers, dir, N, cold0);
    const coldLogins = loginsPerSecond(logFrom, prefix, cold0);
    log(`cold start: owned in ${fmt(cold.ownedS, 1)} s, all run in ${fmt(cold.ranS, 1)} s, ${cold.push} in IDLE; logins/s peak ${fmt(coldLogins.peak)}, mean ${fmt(coldLogins.mean)}`);

    // Steady state: one full interval after the cold start, then the window.
    const settle = Math.max(0, cold0 + INTERVAL * 1000 + 10_000 - Date.now());
    log(`settling ${fmt(settle / 1000)} s, then measuring ${WINDOW} s`);
    await sleep(settle);
    const w = await measureWindow(fetchers, others.concat(config), prefix, dir);

    // A fetcher's kill -9.
    const victim = fetchers[1] ?? fetchers[0];
    if (!victim) throw new Error('no fetcher to kill');
    const victimIds = new Set((await ownReport(victim, dir))?.connectors.map((c) => c.connectorId));
    const kill0 = Date.now();
    victim.child.kill('SIGKILL');
    const survivors = fetchers.filter((f) => f !== victim);
    const re = await watchOwnership(survivors, dir, N, kill0, victimIds);
    log(`kill -9 of ${victim.name} (${victimIds.size} connectors): owned again in ${fmt(re.ownedS, 1)} s, all run again in ${fmt(re.ranS, 1)} s`);

    const rows = fetchers.map((f) => {
      const m = w.fetchers.get(f.name);
      return [f.name, `${fmt(m?.cpu ?? NaN, 1)} %`, `${fmt(m?.rss ?? NaN)} MiB`, fmt(m?.sockets ?? NaN), fmt(m?.connectors ?? NaN)];
    });
    process.stdout.write(
      `Fleet: ${fmt(N)} IMAPS connectors (half polled every ${INTERVAL} s, half pushed by IDLE) on MariaDB + Kafka, ${FETCHERS} fetcher processes, FETCHER_START_RATE ${START_RATE}, ${new Date().toISOString()}\n\n` +
        `Created through the API in ${fmt(created, 1)} s.\n\n` +
        `${table(['fetcher', 'CPU (of one core)', 'RSS', 'open sockets', 'connectors'], rows)}\n\n` +
        `${table(['', 'measured'], [
          ['cold start: every connector owned once', `${fmt(cold.ownedS, 1)} s`],
          ['cold start: every connector has run (pushed ones in IDLE)', `${fmt(cold.ranS, 1)} s (${fmt(cold.push)} in IDLE)`],
          ['cold start: logins/s (peak second, mean)', `${fmt(coldLogins.peak)}, ${fmt(coldLogins.mean)} (start rate ${FETCHERS} × ${START_RATE} = ${FETCHERS * START_RATE})`],
          [`steady window (${WINDOW} s): logins/s`, `${fmt(w.logins, 1)} (expected ${fmt(N / 2 / INTERVAL, 1)}: the polled half)`],
          ['steady window: config / storage / trigger CPU', `${fmt(w.services.get('config') ?? NaN, 1)} / ${fmt(w.services.get('storage') ?? NaN, 1)} / ${fmt(w.services.get('trigger') ?? NaN, 1)} % of a core`],
          ['steady window: Dovecot CPU (all processes)', `${fmt(w.dovecot, 1)} % of a core`],
          ['steady window: runs started late (p50 / p99 / max bucket), mean', `${w.lateness.p50} / ${w.lateness.p99} / ${w.lateness.max}, mean ${fmt(w.lateness.mean * 1000, 1)} ms over ${fmt(w.lateness.count)} runs`],
          [`kill -9 of a fetcher (${fmt(victimIds.size)} connectors): owned again`, `${fmt(re.ownedS, 1)} s`],
          ['kill -9: every one of them has run again', `${fmt(re.ranS, 1)} s`],
        ])}\n`,
    );
  } finally {
    for (const s of services) s.child.kill('SIGKILL');
    await db.drop().catch(() => undefined);
    await benchDovecotDown();
  }
}

/** A fetcher's own report (its actors), asked directly: no Kafka lag. */
async function ownReport(f: Service, dir: string): Promise<FetcherInstance | undefined> {
  const client = connect(FetcherServiceClient, f.address, adminAuthFrom(dir));
  try {
    const res = await call(client.listFetchers, client, {}, { deadlineMs: 10_000 });
    return res.instances.find((i) => i.instanceId === f.name);
  } catch {
    return undefined;
  } finally {
    client.close();
  }
}

/**
 * Seconds from `t0` until every connector is owned by exactly one of `fetchers`, and until
 * every one (or every one of `subset`) has run since `t0`; connectors in IDLE at the end.
 */
async function watchOwnership(fetchers: Service[], dir: string, n: number, t0: number, subset?: Set<string>): Promise<{ ownedS: number; ranS: number; push: number }> {
  let ownedS = NaN;
  for (;;) {
    const reports = await Promise.all(fetchers.map((f) => ownReport(f, dir)));
    const owners = new Map<string, number>();
    let ran = 0;
    let push = 0;
    for (const r of reports) {
      for (const c of r?.connectors ?? []) {
        owners.set(c.connectorId, (owners.get(c.connectorId) ?? 0) + 1);
        if ((!subset || subset.has(c.connectorId)) && (c.lastSuccessAt?.getTime() ?? 0) >= t0) ran++;
        if (c.push) push++;
      }
    }
    const now = (Date.now() - t0) / 1000;
    const once = owners.size === n && [...owners.values()].every((k) => k === 1);
    if (once && Number.isNaN(ownedS)) {
      ownedS = now;
      log(`every connector owned once after ${fmt(now, 1)} s`);
    }
    if (once && ran === (subset?.size ?? n)) return { ownedS, ranS: now, push };
    if (now > SETTLE_LIMIT_S) throw new Error(`not settled after ${SETTLE_LIMIT_S} s: ${owners.size} owned (all once after ${fmt(ownedS, 1)} s), ${ran} run`);
    await sleep(500);
  }
}

/** Logins of this run's users per second since `t0` (peak second and mean), from the bench Dovecot's log. */
function loginsPerSecond(from: number, prefix: string, t0: number): { peak: number; mean: number } {
  const text = readFileSync(BENCH_DOVECOT.log).subarray(from).toString('latin1');
  const perSecond = new Map<string, number>();
  for (const l of text.split('\n')) {
    if (!/imap-login: (?:Info: )?Login: user=</.test(l) || !l.includes(`user=<${prefix}`)) continue;
    const second = l.slice(0, 15); // "Dec 06 12:34:56"
    perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
  }
  const total = [...perSecond.values()].reduce((a, b) => a + b, 0);
  return { peak: Math.max(0, ...perSecond.values()), mean: total / Math.max(1, (Date.now() - t0) / 1000) };
}

interface Histogram {
  readonly buckets: Map<number, number>;
  readonly sum: number;
  readonly count: number;
}

async function lateness(metrics: string): Promise<Histogram> {
  const text = await fetch(`http://${metrics}/metrics`).then((r) => r.text());
  const buckets = new Map<number, number>();
  let sum = 0;
  let count = 0;
  for (const l of text.split('\n')) {
    const b = /^postbote_fetcher_poll_lateness_seconds_bucket\{le="([^"]+)"\} (\S+)/.exec(l);
    if (b) buckets.set(b[1] === '+Inf' ? Infinity : Number(b[1]), Number(b[2]));
    if (l.startsWith('postbote_fetcher_poll_lateness_seconds_sum ')) sum = Number(l.split(' ')[1]);
    if (l.startsWith('postbote_fetcher_poll_lateness_seconds_count ')) count = Number(l.split(' ')[1]);
  }
  return { buckets, sum, count };
}

/** The bucket bound a quantile falls in ("≤ 0.05 s"). */
function quantile(h: Histogram, q: number): string {
  const target = q * h.count;
  for (const [le, n] of [...h.buckets].sort((a, b) => a[0] - b[0])) if (n >= target && h.count > 0) return le === Infinity ? '> 300 s' : `≤ ${le} s`;
  return '–';
}

function sockets(pid: number): number {
  let n = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) n++;
    } catch {
      /* closed meanwhile */
    }
  }
  return n;
}

function dovecotCpu(): number {
  return benchDovecotPids().reduce((sum, pid, i) => {
    try {
      const t = procTimes(`/proc/${pid}/stat`);
      return sum + t.own + (i === 0 ? t.reaped : 0);
    } catch {
      return sum;
    }
  }, 0);
}

async function measureWindow(fetchers: Service[], services: Service[], prefix: string, dir: string) {
  const pid = (s: Service) => s.child.pid ?? 0;
  const logFrom = statSync(BENCH_DOVECOT.log).size;
  const cpu0 = new Map([...fetchers, ...services].map((s) => [s.name, cpuSeconds(pid(s))]));
  const dove0 = dovecotCpu();
  const late0 = await Promise.all(fetchers.map((f) => lateness(f.metrics ?? '')));
  const w0 = Date.now();
  await sleep(WINDOW * 1000);
  const wall = (Date.now() - w0) / 1000;
  const share = (s: Service) => ((cpuSeconds(pid(s)) - (cpu0.get(s.name) ?? 0)) / wall) * 100;
  const late1 = await Promise.all(fetchers.map((f) => lateness(f.metrics ?? '')));
  const buckets = new Map<number, number>();
  let sum = 0;
  let count = 0;
  late1.forEach((h, i) => {
    sum += h.sum - (late0[i]?.sum ?? 0);
    count += h.count - (late0[i]?.count ?? 0);
    for (const [le, n] of h.buckets) buckets.set(le, (buckets.get(le) ?? 0) + n - (late0[i]?.buckets.get(le) ?? 0));
  });
  const h = { buckets, sum, count };
  return {
    fetchers: new Map(
      await Promise.all(
        fetchers.map(async (f) => [f.name, { cpu: share(f), rss: memoryMiB(pid(f)).rss, sockets: sockets(pid(f)), connectors: (await ownReport(f, dir))?.connectors.length ?? NaN }] as const),
      ),
    ),
    services: new Map(services.map((s) => [s.name, share(s)])),
    dovecot: ((dovecotCpu() - dove0) / wall) * 100,
    logins: loginsPerSecond(logFrom, prefix, w0).mean,
    lateness: { p50: quantile(h, 0.5), p99: quantile(h, 0.99), max: quantile(h, 1), mean: count ? sum / count : NaN, count },
  };
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
