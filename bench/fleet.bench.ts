// Fleet: N quiet connectors (N empty mailboxes, 60 s interval) on one all-in-one, for N of
// 250, 500, 1,000, 2,000: CPU share of one core, RSS, and logins per second, measured over
// a window after every connector has polled once. The cost per connector should stay flat.
// `--push false` (the default before IMAP IDLE) polls with a login per run; `--push true`
// keeps one connection per connector waiting in IDLE. `--messages M` gives the fleet one mailbox
// of M read messages of the bench corpus (MARK_READ connectors: still nothing new) — what a
// quiet poll costs on a mailbox that keeps its mail, against the empty one. The reference, in
// the same run: a raw imapflow client polling such a mailbox back to back (connect, TLS, LOGIN,
// SELECT, SEARCH UNSEEN, LOGOUT) — its CPU per poll says how fast this machine is today.
//   npx tsx bench/fleet.bench.ts [--sizes 250,500,1000,2000] [--window 120] [--push false] [--messages 0] [--profile DIR]
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DOVECOT, DOVECOT_PASSWORD, REPO_ROOT, dovecotUser, mailboxAs } from '@postbote/testing';
import { cloneMaildir, corpusMaildir } from './corpus';
import { benchArgs, cpuSeconds, createConnector, dovecotSpec, fmt, memoryMiB, startPostbote, table } from './harness';
import { summarizeProfiles } from './profile';

const args = benchArgs();
const SIZES = (args.get('sizes') ?? '250,500,1000,2000').split(',').map(Number);
const WINDOW = Number(args.get('window') ?? 120);
const PROFILE = args.get('profile');
const PUSH = (args.get('push') ?? 'false') === 'true';
const MESSAGES = Number(args.get('messages') ?? 0);
const INTERVAL = 60;
const DOVECOT_LOG = join(REPO_ROOT, '.cache', 'test-env', 'dovecot', 'dovecot.log');

/** Logins of users with this prefix that Dovecot logged after byte `from` of its log. */
function loginsSince(from: number, prefix: string): number {
  const text = readFileSync(DOVECOT_LOG).subarray(from).toString('latin1');
  return text.split('\n').filter((l) => /-login: (?:Info: )?Login: user=</.test(l) && l.includes(`user=<${prefix}`)).length;
}

/** The raw client's CPU per quiet poll (ms): 100 polls of `user`'s INBOX after 20 to warm up. */
async function rawPolls(user: string): Promise<number> {
  const poll = async () => {
    const c = await mailboxAs({ username: user, password: DOVECOT_PASSWORD });
    await c.mailboxOpen('INBOX');
    await c.search({ seen: false, deleted: false }, { uid: true });
    await c.logout();
  };
  for (let i = 0; i < 20; i++) await poll();
  const t0 = process.cpuUsage();
  for (let i = 0; i < 100; i++) await poll();
  const used = process.cpuUsage(t0);
  return (used.user + used.system) / 1000 / 100;
}

async function step(n: number): Promise<string[]> {
  const pb = await startPostbote({ LOG_LEVEL: 'warn' }, PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${join(PROFILE, String(n))}`] : []);
  try {
    const pid = pb.proc.child.pid ?? 0;
    const prefix = `fleet${n}x`;
    // Full mailboxes: one, shared by the fleet (n copies of its files would be the bench's cost).
    const shared = MESSAGES > 0 ? dovecotUser(prefix).username : undefined;
    if (shared) cloneMaildir(corpusMaildir(join(REPO_ROOT, '.cache', 'bench'), 42, MESSAGES).dir, DOVECOT.home, shared, 'S');
    const raw = await rawPolls(shared ?? dovecotUser(prefix).username);
    const t0 = Date.now();
    for (let i = 0; i < n; i += 50) {
      await Promise.all(Array.from({ length: Math.min(50, n - i) }, (_, k) => createConnector(pb, dovecotSpec(`f-${i + k}`, 'IMAP', shared ?? dovecotUser(prefix).username, { pollIntervalSeconds: INTERVAL, push: PUSH }))));
    }
    const created = (Date.now() - t0) / 1000;
    // Let every connector poll once (mailbox homes created, TLS sessions warm), then measure.
    await new Promise((r) => setTimeout(r, INTERVAL * 1000 + 5_000));
    const logFrom = statSync(DOVECOT_LOG).size;
    const cpu0 = cpuSeconds(pid);
    const w0 = Date.now();
    await new Promise((r) => setTimeout(r, WINDOW * 1000));
    const wall = (Date.now() - w0) / 1000;
    const cpu = cpuSeconds(pid) - cpu0;
    const mem = memoryMiB(pid);
    const logins = loginsSince(logFrom, prefix);
    // Per poll: the window's CPU over the polls the connectors' interval asks for in it.
    const perPoll = PUSH ? '' : `${fmt((cpu * 1000) / ((n / INTERVAL) * wall), 1)} ms`;
    process.stderr.write(`${n} connectors: ${fmt((cpu / wall) * 100, 1)} % of a core, ${fmt(mem.rss)} MiB, ${fmt(logins / wall, 1)} logins/s, raw client ${fmt(raw, 1)} ms per poll\n`);
    return [fmt(n), `${fmt(created, 1)} s`, `${fmt((cpu / wall) * 100, 1)} %`, `${fmt(((cpu / wall) * 100 * 1000) / n, 2)} %`, perPoll, `${fmt(raw, 1)} ms`, `${fmt(mem.rss)} MiB`, `${fmt((mem.rss * 1024) / n)} KiB`, fmt(logins / wall, 1), PUSH ? '0 (kept)' : fmt(n / INTERVAL, 1)];
  } finally {
    await pb.stop();
  }
}

async function main(): Promise<void> {
  const rows: string[][] = [];
  for (const n of SIZES) rows.push(await step(n));
  process.stdout.write(
    `Quiet fleet on one all-in-one (embedded default, IMAPS, ${INTERVAL} s interval, ${PUSH ? 'push: one connection per connector in IDLE' : 'polling: a login per run'}, ${MESSAGES > 0 ? `a mailbox of ${MESSAGES} read messages` : 'empty mailboxes'}), measured over ${WINDOW} s after a first full interval, ${new Date().toISOString()}\n\n` +
      `${table(['connectors', 'created in', 'CPU (of one core)', 'CPU per 1,000', 'CPU per poll', 'raw client per poll', 'RSS', 'RSS per connector', 'logins/s', 'expected logins/s'], rows)}\n`,
  );
  if (PROFILE) for (const n of SIZES) process.stdout.write(`\n${n} connectors:\n${summarizeProfiles(join(PROFILE, String(n)))}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
