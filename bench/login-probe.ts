// How many IMAPS logins per second the bench Dovecot (bench-dovecot.ts) takes on this machine:
// `--concurrency` clients each connecting, logging in, selecting INBOX and logging out in a loop
// for `--seconds`, over 5,000 users. Its ceiling is the cold-start rate a fleet bench can ask of
// that one mail server. `--running` probes the Dovecot already up instead of (re)starting it;
// `--fresh` logs in users whose mailboxes do not exist yet (each first login creates one).
//   npx tsx bench/login-probe.ts --concurrency 100 --seconds 20
import { connect } from 'node:tls';
import { randomBytes } from 'node:crypto';
import { BENCH_DOVECOT, benchDovecotUp, benchMailboxes, readDovecotPassword } from './bench-dovecot';
import { fmt } from './harness';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i++) {
  const name = process.argv[i]?.replace(/^--/, '') ?? '';
  if (name === 'running' || name === 'fresh') args.set(name, 'yes');
  else args.set(name, process.argv[++i] ?? '');
}
const CONCURRENCY = Number(args.get('concurrency') ?? 100);
const SECONDS = Number(args.get('seconds') ?? 20);

/** One session: greeting, LOGIN, SELECT INBOX, LOGOUT; rejects on any other answer or after 30 s. */
function session(user: string, password: string, ca: string): Promise<void> {
  const steps: Array<[RegExp, string | null]> = [
    [/^\* OK/m, `a LOGIN ${user} ${password}\r\n`],
    [/^a (OK|NO|BAD)/m, 'b SELECT INBOX\r\n'],
    [/^b (OK|NO|BAD)/m, 'c LOGOUT\r\n'],
    [/^c (OK|NO|BAD)/m, null],
  ];
  return new Promise((resolve, reject) => {
    const socket = connect({ host: BENCH_DOVECOT.host, port: BENCH_DOVECOT.imaps, ca, servername: 'localhost' });
    let buffer = '';
    socket.setTimeout(30_000, () => socket.destroy(new Error('timeout')));
    socket.on('error', reject);
    socket.on('data', (d: Buffer) => {
      buffer += d.toString('latin1');
      const step = steps[0];
      const m = step?.[0].exec(buffer);
      if (!step || !m) return;
      if (m[1] && m[1] !== 'OK') return socket.destroy(new Error(buffer.trim()));
      steps.shift();
      buffer = '';
      if (step[1]) {
        socket.write(step[1]);
      } else {
        socket.end();
        resolve();
      }
    });
  });
}

async function main(): Promise<void> {
  if (!args.has('running')) await benchDovecotUp(10_000);
  const password = readDovecotPassword();
  const users = Array.from({ length: 5000 }, (_, i) => (args.has('fresh') ? `fresh${randomBytes(3).toString('hex')}-${i}` : `probe${i}`));
  if (!args.has('fresh')) benchMailboxes(users);
  const ca = BENCH_DOVECOT.caPem();
  let done = 0;
  let failed = 0;
  let next = 0;
  const t0 = Date.now();
  const end = t0 + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (Date.now() < end) {
        await session(users[next++ % users.length] ?? '', password, ca).then(
          () => done++,
          () => failed++,
        );
      }
    }),
  );
  const elapsed = (Date.now() - t0) / 1000;
  process.stdout.write(`${CONCURRENCY} clients, ${fmt(elapsed, 1)} s: ${fmt(done / elapsed, 1)} logins/s, ${fmt(failed)} failed\n`);
}

void main();
