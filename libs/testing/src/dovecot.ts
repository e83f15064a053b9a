import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImapFlow } from 'imapflow';

const RUN = join(__dirname, '..', '..', '..', '.cache', 'test-env', 'dovecot');

/** The private Dovecot of scripts/test-env.sh (loopback, high ports, own CA). */
export const DOVECOT = {
  host: '127.0.0.1',
  imap: 21143,
  imaps: 21993,
  pop3: 21110,
  pop3s: 21995,
  caPem: (): string => readFileSync(join(RUN, 'ca.crt'), 'utf8'),
  caFile: join(RUN, 'ca.crt'),
  /**
   * Users' homes (Maildir under each), owned by the mail uid (nobody). They live outside the
   * checkout (a clone in a 0700 folder is out of the mail uid's reach); scripts/test-env.sh
   * writes where.
   */
  get home(): string {
    return readFileSync(join(RUN, 'mail-dir'), 'utf8').trim();
  },
};

export interface MailUser {
  readonly username: string;
  readonly password: string;
}

/** The test Dovecot accepts any user name with this password (see scripts/test-env.sh). */
export const DOVECOT_PASSWORD = 'postbote-test-mailbox-pw';

/** A fresh mailbox: a new user name gets an empty Maildir of its own on first login. */
export function dovecotUser(prefix = 'u'): MailUser {
  return { username: `${prefix}-${randomBytes(5).toString('hex')}`, password: DOVECOT_PASSWORD };
}

/** An IMAP session as the user, for arranging a test's mailbox (append, flags, folders). */
export async function mailboxAs(user: MailUser): Promise<ImapFlow> {
  const client = new ImapFlow({
    host: DOVECOT.host,
    port: DOVECOT.imaps,
    secure: true,
    auth: { user: user.username, pass: user.password },
    tls: { ca: [DOVECOT.caPem()] },
    logger: false,
  });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** The client addresses (`rip=`) Dovecot logged logins of `username` from, oldest first. */
export function dovecotLoginAddresses(username: string): string[] {
  return dovecotLogins(username).map((l) => l.rip);
}

/**
 * Waits until Dovecot's log shows `username`'s latest login from `rip` (Dovecot writes its
 * log line a moment after the login answered); fails naming the address it saw instead.
 */
export async function expectLastLoginFrom(username: string, rip: string, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (dovecotLoginAddresses(username).at(-1) !== rip) {
    if (Date.now() > deadline) throw new Error(`${what}: the last login of ${username} came from ${dovecotLoginAddresses(username).at(-1) ?? 'nowhere'}, not ${rip}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Dovecot's successful logins of `username`, oldest first: client address and SASL mechanism (`method=`). */
export function dovecotLogins(username: string): Array<{ rip: string; method: string }> {
  const out: Array<{ rip: string; method: string }> = [];
  for (const line of readFileSync(join(RUN, 'dovecot.log'), 'latin1').split('\n')) {
    if (!line.includes(`Login: user=<${username}>`)) continue;
    const rip = / rip=([^,\s]+)/.exec(line)?.[1];
    if (rip) out.push({ rip, method: / method=([^,\s]+)/.exec(line)?.[1] ?? '' });
  }
  return out;
}

/** Ends every connection of `username` server-side (`doveadm kick`), as a server restart or an admin would. */
export function dovecotKick(username: string): void {
  execFileSync('doveadm', ['-c', join(RUN, 'dovecot.conf'), 'kick', username], { stdio: 'ignore' });
}

/** Who is connected now (`doveadm who`), as text. */
export function dovecotWho(): string {
  return execFileSync('doveadm', ['-c', join(RUN, 'dovecot.conf'), 'who'], { encoding: 'utf8' });
}

export function testMail(id: string, body = `body of ${id}`): Buffer {
  return Buffer.from(`From: sender@example.test\r\nTo: rcpt@example.test\r\nMessage-ID: <${id}@example.test>\r\nSubject: ${id}\r\nDate: Mon, 2 Nov 2026 10:00:00 +0000\r\n\r\n${body}\r\n`, 'latin1');
}

/**
 * Appends `messages` to the user's INBOX (creating `folders` first) and returns the
 * server's own copies of everything in INBOX, as IMAP BODY[] returns them — what a
 * fetcher must reproduce byte for byte.
 */
export async function seedInbox(user: MailUser, messages: Buffer[], folders: string[] = []): Promise<Buffer[]> {
  const c = await mailboxAs(user);
  try {
    for (const f of folders) await c.mailboxCreate(f).catch(() => undefined);
    for (const m of messages) await c.append('INBOX', m);
    await c.mailboxOpen('INBOX', { readOnly: true });
    const out: Buffer[] = [];
    for await (const m of c.fetch('1:*', { source: true })) if (m.source) out.push(m.source);
    return out;
  } finally {
    await c.logout();
  }
}
