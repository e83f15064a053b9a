// Detection latency: a message appended to a mailbox → its workflow-start event. 20
// mailboxes receive 10 messages each at random moments; p50/p99 of the 200 latencies.
// Polling (push off) at a 10 s interval: target p99 ≤ interval + 1 s. Push (IMAP IDLE, on by
// default) with the same interval: target p99 ≤ 1 s. `raw` is the floor push is measured
// against (issue #27): an IDLE client of our own per mailbox that fetches each announced
// message — append → the fetched message, no Postbote at all.
// `--server greenmail` uses the test GreenMail's IMAP (plaintext, any login) instead of the
// test Dovecot: Dovecot announces a new message to IDLE clients ~0.5 s after it arrives (it
// gathers changes for half a second), GreenMail within milliseconds, so only there is
// Postbote's own share of the push path the figure.
//   npx tsx bench/latency.bench.ts [--interval 10] [--mailboxes 20] [--per-mailbox 10] [--modes raw,poll,push]
//                                  [--server dovecot|greenmail] [--backend embedded|mariadb-kafka]
import { randomBytes } from 'node:crypto';
import { connect } from '@postbote/grpc-runtime';
import { ImapFlow, type ImapFlowOptions } from 'imapflow';
import { Protocol, Security, Strategy, TriggerServiceClient, type ConnectorSpec, type EmailReceived } from '@postbote/proto';
import { DOVECOT, DOVECOT_PASSWORD, GREENMAIL, TEST_KAFKA_BROKERS, adminAuthFrom, dovecotUser, mariaDbTestDatabase } from '@postbote/testing';
import { benchArgs, createConnector, dovecotSpec, fmt, percentile, startPostbote, table } from './harness';

const args = benchArgs();
const INTERVAL = Number(args.get('interval') ?? 10);
const MAILBOXES = Number(args.get('mailboxes') ?? 20);
const PER = Number(args.get('per-mailbox') ?? 10);
type Mode = 'raw' | 'poll' | 'push';
const MODES = (args.get('modes') ?? 'raw,poll,push').split(',') as Mode[];
const BACKEND = args.get('backend') ?? 'embedded';
if (BACKEND !== 'embedded' && BACKEND !== 'mariadb-kafka') throw new Error(`unknown backend ${BACKEND} (embedded, mariadb-kafka)`);

/** The mail server under test: how the bench's own clients reach it, and a connector for it. */
interface Server {
  readonly name: string;
  user(): string;
  client(user: string): ImapFlowOptions;
  spec(name: string, user: string, over: Partial<ConnectorSpec>): ConnectorSpec;
}
const SERVERS: Record<string, Server> = {
  dovecot: {
    name: 'Dovecot (IMAPS)',
    user: () => dovecotUser('lat').username,
    client: (user) => ({ host: DOVECOT.host, port: DOVECOT.imaps, secure: true, auth: { user, pass: DOVECOT_PASSWORD }, tls: { ca: [DOVECOT.caPem()] }, logger: false }),
    spec: (name, user, over) => dovecotSpec(name, 'IMAP', user, over),
  },
  greenmail: {
    name: 'GreenMail (IMAP, plaintext on loopback)',
    user: () => `lat-${randomBytes(5).toString('hex')}@greenmail.test`,
    client: (user) => ({ host: GREENMAIL.host, port: GREENMAIL.imap, secure: false, auth: { user, pass: 'any' }, logger: false }),
    spec: (name, user, over) => ({
      name,
      protocol: Protocol.IMAP,
      host: GREENMAIL.host,
      port: GREENMAIL.imap,
      security: Security.NONE,
      username: user,
      password: 'any',
      workflowId: `wf-${name}`,
      strategy: Strategy.MARK_READ,
      ...over,
    }),
  },
};
const SERVER = SERVERS[args.get('server') ?? 'dovecot'];
if (!SERVER) throw new Error(`unknown server ${args.get('server')} (${Object.keys(SERVERS).join(', ')})`);
const server: Server = SERVER;

async function main(): Promise<void> {
  const rows: string[][] = [];
  for (const mode of MODES) rows.push(mode === 'raw' ? await measureRaw() : await measure(mode));
  process.stdout.write(
    `Detection latency (append → event), ${server.name}, Postbote on ${BACKEND}, ${MAILBOXES} mailboxes × ${PER} messages, interval ${INTERVAL} s, ${new Date().toISOString()}\n\n` +
      `${table(['mode', 'interval', 'events', 'p50', 'p90', 'p99', 'max', 'target p99'], rows)}\n`,
  );
}

/** Appends PER messages to each mailbox at random moments over the run, noting each append's time by subject. */
async function appendAll(users: readonly string[], appended: Map<string, number>): Promise<void> {
  const span = INTERVAL * PER * 1000;
  await Promise.all(
    users.map(async (u, i) => {
      const times = Array.from({ length: PER }, () => Math.random() * span).sort((a, b) => a - b);
      const start = Date.now();
      for (const [k, t] of times.entries()) {
        await new Promise((r) => setTimeout(r, Math.max(0, start + t - Date.now())));
        // A session per message, as a delivering server would (GreenMail dropped appending
        // sessions that waited between messages); the login is before the noted time.
        const c = new ImapFlow(server.client(u));
        c.on('error', () => undefined);
        await c.connect();
        const subject = `lat-${i}-${k}`;
        // Noted before the append: the message may arrive before APPEND's answer.
        appended.set(subject, Date.now());
        await c.append('INBOX', `From: a@example.test\r\nSubject: ${subject}\r\nMessage-ID: <${subject}@example.test>\r\n\r\nhi\r\n`);
        await c.logout().catch(() => c.close());
      }
    }),
  );
}

/** The floor: per mailbox one IDLE client that, on each EXISTS, fetches the new messages' subjects. */
async function measureRaw(): Promise<string[]> {
  const appended = new Map<string, number>();
  const latencies: number[] = [];
  const users = Array.from({ length: MAILBOXES }, () => server.user());
  const watchers = await Promise.all(
    users.map(async (u) => {
      const c = new ImapFlow(server.client(u));
      c.on('error', () => undefined);
      await c.connect();
      await c.mailboxOpen('INBOX');
      let busy = Promise.resolve();
      c.on('exists', (e: { count: number; prevCount: number }) => {
        busy = busy.then(async () => {
          for await (const m of c.fetch(`${e.prevCount + 1}:${e.count}`, { envelope: true })) {
            const at = appended.get(m.envelope?.subject ?? '');
            if (at !== undefined) latencies.push(Date.now() - at);
          }
          // Back to waiting at once (imapflow's own automatic IDLE starts only after a pause).
          void c.idle().catch(() => undefined);
        }).catch(() => undefined);
      });
      void c.idle().catch(() => undefined);
      return c;
    }),
  );
  try {
    await appendAll(users, appended);
    const deadline = Date.now() + 30_000;
    while (latencies.length < MAILBOXES * PER && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    const s = (p: number) => `${fmt(percentile(latencies, p) / 1000, 3)} s`;
    return ['raw IDLE client', '—', `${latencies.length} of ${MAILBOXES * PER}`, s(50), s(90), s(99), s(100), 'the floor'];
  } finally {
    await Promise.all(watchers.map((c) => c.logout().catch(() => c.close())));
  }
}

async function measure(mode: 'poll' | 'push'): Promise<string[]> {
  const db = BACKEND === 'mariadb-kafka' ? await mariaDbTestDatabase() : undefined;
  const pb = await startPostbote(
    db?.config.kind === 'mysql' ? { DATABASE_URL: db.config.url, KAFKA_BROKERS: TEST_KAFKA_BROKERS.join(','), KAFKA_NAMESPACE: `lat-${randomBytes(4).toString('hex')}` } : {},
  );
  const appended = new Map<string, number>();
  const latencies: number[] = [];
  const tail = connect(TriggerServiceClient, pb.env['TRIGGER_SERVICE_ADDR'] ?? '', adminAuthFrom(pb.env['POSTBOTE_DATA_DIR'] ?? ''));
  const stream = tail.tailEvents({ connectorId: '' });
  stream.on('data', (e: EmailReceived) => {
    const at = appended.get(e.subject);
    if (at !== undefined) latencies.push(Date.now() - at);
  });
  stream.on('error', () => undefined);
  try {
    const users = Array.from({ length: MAILBOXES }, () => server.user());
    await Promise.all(users.map((u, i) => createConnector(pb, server.spec(`lat-${i}`, u, { pollIntervalSeconds: INTERVAL, push: mode === 'push' }))));
    await new Promise((r) => setTimeout(r, 2_000));
    await appendAll(users, appended);
    const deadline = Date.now() + (INTERVAL + 30) * 1000;
    while (latencies.length < MAILBOXES * PER && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    const s = (p: number) => `${fmt(percentile(latencies, p) / 1000, 3)} s`;
    return [mode, `${INTERVAL} s`, `${latencies.length} of ${MAILBOXES * PER}`, s(50), s(90), s(99), s(100), mode === 'push' ? '≤ 1 s' : `≤ ${INTERVAL + 1} s`];
  } finally {
    stream.cancel();
    tail.close();
    await pb.stop();
    await db?.drop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
