// A Dovecot of the fleet benchmark's own, beside the test one: the same binaries, CA and
// password, other ports, and the settings a mail server holding thousands of IDLE sessions
// runs with — idle IMAP sessions hibernated (one small record in a shared process instead of
// one `imap` process each: 5,000 of those would not fit here), one login process holding
// every client's TLS, limits raised to the connector count.
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { REPO_ROOT } from '@postbote/testing';

const TEST_RUN = join(REPO_ROOT, '.cache', 'test-env', 'dovecot');
const RUN = join(REPO_ROOT, '.cache', 'bench-dovecot');
const MAIL = '/var/tmp/postbote-bench-mail';

export const BENCH_DOVECOT = {
  host: '127.0.0.1',
  imaps: 22993,
  log: join(RUN, 'dovecot.log'),
  caPem: (): string => readFileSync(join(TEST_RUN, 'ca.crt'), 'utf8'),
};

function config(capacity: number, mail: string): string {
  return `protocols = imap
listen = 127.0.0.1
instance_name = postbote-bench
base_dir = ${RUN}/run
state_dir = ${RUN}/state
log_path = ${RUN}/dovecot.log
ssl = yes
ssl_cert = <${TEST_RUN}/server.crt
ssl_key = <${TEST_RUN}/server.key
ssl_min_protocol = TLSv1.2
first_valid_uid = 1
mail_location = maildir:~/Maildir
default_process_limit = ${capacity + 500}
default_client_limit = ${capacity * 2 + 1000}
default_login_user = dovenull
default_internal_user = dovecot
# A session in IDLE for this long moves to imap-hibernate and its imap process ends; new
# mail (inotify on the mailbox) or the client's next command brings it back.
imap_hibernate_timeout = 5s
passdb {
  driver = static
  args = password=${readDovecotPassword()}
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=${mail}/%u
}
namespace inbox {
  inbox = yes
  separator = /
}
# One session per imap process at a time, but a process serves up to 1,000 sessions one after
# another (Dovecot's advice for speed: 100..1,000), and 16 wait pre-forked: a fork and exec per
# login capped this machine at ~55 logins/s (imap + master 56 % of the CPU), reuse at ~200/s
# (bench/login-probe.ts). Many sessions per process at once ran into process_limit and inotify limits.
service imap {
  process_limit = ${capacity + 500}
  service_count = 1000
  process_min_avail = 16
  # The hibernate process hands sessions back through this socket (it runs as dovecot).
  unix_listener imap-master {
    user = $default_internal_user
  }
  extra_groups = $default_internal_group
}
service imap-hibernate {
  process_limit = 1
  client_limit = ${capacity + 500}
  unix_listener imap-hibernate {
    mode = 0660
    group = $default_internal_group
  }
}
# One login process holds every client's TLS: 256 MB (the default) runs out near 3,000.
service imap-login {
  service_count = 0
  process_min_avail = 1
  process_limit = 1
  vsz_limit = 4G
  client_limit = ${capacity * 2 + 1000}
  inet_listener imap {
    port = 0
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = ${BENCH_DOVECOT.imaps}
    ssl = yes
  }
}
service auth {
  client_limit = ${capacity * 2 + 1000}
}
service anvil {
  client_limit = ${capacity * 2 + 1000}
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
`;
}

export function readDovecotPassword(): string {
  const text = readFileSync(join(TEST_RUN, 'dovecot.conf'), 'utf8');
  const m = /args = password=(\S+)/.exec(text);
  if (!m?.[1]) throw new Error('start the test environment first (scripts/test-env.sh up): its Dovecot config names the password');
  return m[1];
}

const ping = () =>
  new Promise<boolean>((resolve) => {
    const s = createConnection({ host: BENCH_DOVECOT.host, port: BENCH_DOVECOT.imaps }, () => (s.destroy(), resolve(true)));
    s.on('error', () => resolve(false));
  });

/** Starts the bench Dovecot for `capacity` concurrent sessions (restarts it with this config if it runs). */
export async function benchDovecotUp(capacity: number): Promise<void> {
  await benchDovecotDown();
  mkdirSync(join(RUN, 'run'), { recursive: true });
  mkdirSync(join(RUN, 'state'), { recursive: true });
  mkdirSync(MAIL, { recursive: true });
  execFileSync('chown', ['nobody:nogroup', MAIL]);
  try {
    // Each imap process of the mail uid watches its mailbox (IDLE): 128 instances by default.
    writeFileSync('/proc/sys/fs/inotify/max_user_instances', String(capacity + 1000));
  } catch {
    // Not root: IDLE on the sessions beyond the limit falls back to Dovecot's own 30 s checks.
  }
  writeFileSync(join(RUN, 'dovecot.conf'), config(capacity, MAIL));
  execFileSync('/usr/sbin/dovecot', ['-c', join(RUN, 'dovecot.conf')], { stdio: 'ignore' });
  for (let i = 0; i < 60; i++) {
    if (await ping()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the bench Dovecot did not come up: ${readFileSync(BENCH_DOVECOT.log, 'utf8').slice(-2000)}`);
}

export async function benchDovecotDown(): Promise<void> {
  if (!existsSync(join(RUN, 'dovecot.conf'))) return;
  try {
    execFileSync('/usr/sbin/dovecot', ['-c', join(RUN, 'dovecot.conf'), 'stop'], { stdio: 'ignore' });
  } catch {
    return; // not running
  }
  for (let i = 0; i < 40 && (await ping()); i++) await new Promise((r) => setTimeout(r, 250));
}

/**
 * Creates the users' empty Maildirs, as a mail server's mailboxes exist before a fleet polls
 * them: otherwise the cold start measures Dovecot creating 10,000 mailboxes at first login.
 */
export function benchMailboxes(users: readonly string[]): void {
  const uid = Number(execFileSync('id', ['-u', 'nobody']).toString());
  const gid = Number(execFileSync('id', ['-g', 'nobody']).toString());
  for (const user of users) {
    for (const path of [join(MAIL, user), join(MAIL, user, 'Maildir'), ...['cur', 'new', 'tmp'].map((d) => join(MAIL, user, 'Maildir', d))]) {
      mkdirSync(path, { recursive: true });
      chownSync(path, uid, gid);
    }
  }
}

/** Pids of the bench Dovecot's processes (master and children), for its CPU. */
export function benchDovecotPids(): number[] {
  try {
    const master = Number(readFileSync(join(RUN, 'run', 'master.pid'), 'utf8').trim());
    const out = execFileSync('ps', ['-e', '-o', 'pid=,ppid=']).toString();
    const kids = out.split('\n').map((l) => l.trim().split(/\s+/).map(Number)).filter(([, ppid]) => ppid === master).map(([pid]) => pid ?? 0);
    return [master, ...kids];
  } catch {
    return [];
  }
}
