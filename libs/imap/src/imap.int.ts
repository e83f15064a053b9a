import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { Secret } from '@postbote/crypto';
import type { Security, Strategy } from '@postbote/connector-model';
import { MailboxError, type IncomingMessage, type MessageSink, type RunLogLevel, type RunMemory, type ServerAccess, type StoreOutcome } from '@postbote/mailbox';
import { DOVECOT, TestProxy, cuttingProxy, dovecotKick, dovecotLoginAddresses, expectLastLoginFrom, dovecotUser, eventually, mailboxAs, recordedResumption, scriptedServer, testMail, type MailUser } from '@postbote/testing';
import { pollImap, type ImapRunSettings } from './poll-imap';
import { listImapFolders, testImap } from './imap-probe';

// The protocol tier against the test Dovecot. Storage is a recording stand-in here: the
// subject is what the IMAP side does before and after "stored".

const PORTS: Record<Security, number> = { SSL: DOVECOT.imaps, TLS: DOVECOT.imap, NONE: DOVECOT.imap };

function access(user: MailUser, over: Partial<ServerAccess> = {}): ServerAccess {
  const security = over.security ?? 'SSL';
  return {
    host: DOVECOT.host,
    port: PORTS[security],
    security,
    trustedCaPem: DOVECOT.caPem(),
    username: user.username,
    login: { kind: 'PASSWORD', password: new Secret(user.password) },
    connectTimeoutMs: 5_000,
    ...over,
  };
}

function settings(over: Partial<ImapRunSettings> = {}): ImapRunSettings {
  return { folder: 'INBOX', strategy: 'MARK_READ' as Strategy, moveTo: null, batchSize: 50, reprocess: false, fetchTimeoutMs: 20_000, maxMessageBytes: 50 * 1024 * 1024, push: false, ...over };
}

interface Recorder {
  stored: Array<{ msg: IncomingMessage; bytes: Buffer }>;
  logs: Array<{ level: RunLogLevel; code: string; message: string }>;
  fail: boolean;
}

/** Storage stand-in: takes every message whole; with `fail`, confirms none. */
function recorder(): Recorder & MessageSink & { log: (l: RunLogLevel, c: string, m: string) => void } {
  const r: Recorder = { stored: [], logs: [], fail: false };
  return Object.assign(r, {
    put: async (msg: IncomingMessage) => {
      const parts: Buffer[] = [];
      if (msg.content instanceof Uint8Array) parts.push(Buffer.from(msg.content));
      else for await (const p of msg.content) parts.push(Buffer.from(p));
      if (r.fail) return { outcome: Promise.reject<StoreOutcome>(new MailboxError('STORE_FAILED', 'storage down')) };
      r.stored.push({ msg, bytes: Buffer.concat(parts) });
      return { outcome: Promise.resolve<StoreOutcome>({ kind: 'stored' }) };
    },
    log: (level: RunLogLevel, code: string, message: string) => void r.logs.push({ level, code, message }),
  });
}

async function seed(user: MailUser, folder: string, ids: string[], flags: string[] = []): Promise<void> {
  const c = await mailboxAs(user);
  try {
    if (folder !== 'INBOX') await c.mailboxCreate(folder).catch(() => undefined);
    for (const id of ids) await c.append(folder, testMail(id), flags);
  } finally {
    await c.logout();
  }
}

async function inspect(user: MailUser, folder: string): Promise<Array<{ subject: string; seen: boolean }>> {
  const c = await mailboxAs(user);
  try {
    const box = await c.mailboxOpen(folder, { readOnly: true });
    if (box.exists === 0) return [];
    const out: Array<{ subject: string; seen: boolean }> = [];
    for await (const m of c.fetch('1:*', { envelope: true, flags: true })) out.push({ subject: m.envelope?.subject ?? '', seen: m.flags?.has('\\Seen') ?? false });
    return out;
  } finally {
    await c.logout();
  }
}

const run = (a: ServerAccess, s: ImapRunSettings, r: ReturnType<typeof recorder>, memory: RunMemory = { oversize: new Set() }) =>
  pollImap(a, s, memory, r, r.log, new AbortController().signal);

describe('IMAP poll against Dovecot', () => {
  for (const security of ['SSL', 'TLS', 'NONE'] as const) {
    it(`fetches byte-exact with security ${security}${security === 'NONE' ? ', advising STARTTLS at every run' : ''}`, async () => {
      const user = dovecotUser('sec');
      await seed(user, 'INBOX', ['m1']);
      const r = recorder();
      const res = await run(access(user, { security }), settings(), r);
      assert.equal(res.stored, 1);
      const advice = r.logs.filter((l) => l.code === 'STARTTLS_AVAILABLE');
      assert.equal(advice.length, security === 'NONE' ? 1 : 0);
      if (security === 'NONE') assert.match(advice[0]!.message, /offers STARTTLS.*security NONE.*set security to TLS/);
      assert.ok(r.stored[0]!.bytes.equals(testMail('m1')), 'bytes as appended');
      assert.equal(r.stored[0]!.msg.source.kind, 'IMAP');
    });
  }

  it('refuses a server certificate it cannot verify (TLS failure logged, not a crash)', async () => {
    const user = dovecotUser('tls');
    await assert.rejects(run(access(user, { trustedCaPem: null }), settings(), recorder()), (e: unknown) => e instanceof MailboxError && e.failure === 'TLS_FAILED');
  });

  it('fails cleanly when SSL is chosen for a plaintext port (wrong mode)', async () => {
    const user = dovecotUser('mode');
    await assert.rejects(run(access(user, { security: 'SSL', port: DOVECOT.imap, connectTimeoutMs: 3_000 }), settings(), recorder()), MailboxError);
  });

  it('never logs in in clear when TLS is required but the server offers no STARTTLS', async () => {
    let sawLogin = false;
    const fake = await scriptedServer(async (socket, lines) => {
      socket.write('* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] fake ready\r\n');
      for await (const line of lines) {
        const [tag, cmd] = line.split(' ');
        if (/LOGIN|AUTHENTICATE/i.test(cmd ?? '')) sawLogin = true;
        if (/CAPABILITY/i.test(cmd ?? '')) socket.write(`* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n${tag} OK done\r\n`);
        else socket.write(`${tag} BAD no\r\n`);
      }
    });
    try {
      await assert.rejects(
        run(access(dovecotUser('nostls'), { security: 'TLS', port: fake.port }), settings(), recorder()),
        (e: unknown) => e instanceof MailboxError && e.failure === 'STARTTLS_UNAVAILABLE',
      );
      assert.equal(sawLogin, false, 'credentials must not be sent in clear');
    } finally {
      await fake.close();
    }
  });

  for (const security of ['SSL', 'TLS'] as const) {
    it(`connects from the configured source address (FETCHER_SOURCE_ADDRESS), security ${security}`, async () => {
      const user = dovecotUser('src');
      await seed(user, 'INBOX', ['from-127-0-0-2']);
      const r = recorder();
      const res = await run(access(user, { security, sourceAddress: '127.0.0.2' }), settings(), r);
      assert.equal(res.stored, 1);
      await eventually(() => dovecotLoginAddresses(user.username).includes('127.0.0.2'), 5_000, 'the login from 127.0.0.2 in Dovecot\'s log');
      assert.deepEqual(dovecotLoginAddresses(user.username).filter((a) => a !== '127.0.0.1'), ['127.0.0.2'], 'the poll, and only it, came from 127.0.0.2 (seeding is 127.0.0.1)');
    });
  }

  it('MARK_READ: stores unseen mail, then sets \\Seen; seen mail is not new', async () => {
    const user = dovecotUser('mr');
    await seed(user, 'INBOX', ['old'], ['\\Seen']);
    await seed(user, 'INBOX', ['new1', 'new2']);
    const r = recorder();
    const res = await run(access(user), settings(), r);
    assert.deepEqual(r.stored.map((s) => s.bytes.toString().match(/Subject: (\S+)/)?.[1]), ['new1', 'new2']);
    assert.equal(res.postProcessed, 2);
    assert.deepEqual(await inspect(user, 'INBOX'), [
      { subject: 'old', seen: true },
      { subject: 'new1', seen: true },
      { subject: 'new2', seen: true },
    ]);
    assert.equal((await run(access(user), settings(), recorder())).stored, 0);
  });

  it('DELETE: every message is new; after storing it is expunged, others flagged \\Deleted stay', async () => {
    const user = dovecotUser('del');
    await seed(user, 'INBOX', ['seen-too'], ['\\Seen']);
    await seed(user, 'INBOX', ['keep'], ['\\Deleted']);
    await seed(user, 'INBOX', ['fresh']);
    const r = recorder();
    await run(access(user), settings({ strategy: 'DELETE' }), r);
    assert.deepEqual(r.stored.map((s) => s.bytes.toString().match(/Subject: (\S+)/)?.[1]), ['seen-too', 'fresh']);
    assert.deepEqual((await inspect(user, 'INBOX')).map((m) => m.subject), ['keep']);
  });

  it('MOVE: moves each stored message to the target folder', async () => {
    const user = dovecotUser('mv');
    await seed(user, 'INBOX/Done', []);
    await seed(user, 'INBOX', ['a', 'b']);
    await run(access(user), settings({ strategy: 'MOVE', moveTo: 'Inbox/Done' }), recorder());
    assert.deepEqual(await inspect(user, 'INBOX'), []);
    assert.deepEqual((await inspect(user, 'INBOX/Done')).map((m) => m.subject), ['a', 'b']);
  });

  it('watches a subfolder written Inbox/Sub', async () => {
    const user = dovecotUser('sub');
    await seed(user, 'INBOX/Sub', ['in-sub']);
    await seed(user, 'INBOX', ['in-inbox']);
    const r = recorder();
    await run(access(user), settings({ folder: 'Inbox/Sub' }), r);
    assert.equal(r.stored.length, 1);
    assert.deepEqual(r.stored[0]!.msg.source, { kind: 'IMAP', folder: 'Inbox/Sub', uidValidity: (r.stored[0]!.msg.source as { uidValidity: number }).uidValidity, uid: 1 });
  });

  it('takes at most a batch per run, oldest first; the rest come next run', async () => {
    const user = dovecotUser('batch');
    await seed(user, 'INBOX', ['b1', 'b2', 'b3', 'b4', 'b5']);
    const seen: string[][] = [];
    for (let i = 0; i < 3; i++) {
      const r = recorder();
      const res = await run(access(user), settings({ batchSize: 2 }), r);
      seen.push(r.stored.map((s) => s.bytes.toString().match(/Subject: (\S+)/)![1]!));
      assert.equal(res.more, i < 2);
    }
    assert.deepEqual(seen, [['b1', 'b2'], ['b3', 'b4'], ['b5']]);
  });

  it('lists sizes a slice at a time (100, then 500) between fetches: a batch across slices, the oversized skipped, the rest next run', async () => {
    const user = dovecotUser('slices');
    const ids = Array.from({ length: 1_100 }, (_, i) => `s${String(i).padStart(4, '0')}`);
    const c = await mailboxAs(user);
    try {
      for (const [i, id] of ids.entries()) await c.append('INBOX', testMail(id, i === 650 ? 'x'.repeat(5_000) : `body of ${id}`));
    } finally {
      await c.logout();
    }
    const subjects = (r: Recorder) => r.stored.map((s) => s.bytes.toString().match(/Subject: (\S+)/)![1]!);
    const first = recorder();
    const res1 = await run(access(user), settings({ batchSize: 800, maxMessageBytes: 2_000 }), first);
    // 800 taken from the first three slices (the one in the third over the cap skipped), in order.
    assert.deepEqual(subjects(first), ids.slice(0, 801).filter((_, i) => i !== 650));
    assert.equal(res1.skippedOversize, 1);
    assert.equal(res1.more, true);
    assert.equal(first.logs.filter((l) => l.code === 'SIZE_CAP_SKIPPED').length, 1);
    const second = recorder();
    const res2 = await run(access(user), settings({ batchSize: 800, maxMessageBytes: 2_000 }), second);
    assert.deepEqual(subjects(second), ids.slice(801));
    assert.equal(res2.more, false);
  });

  it('reprocess: a message marked unread again gets a new occurrence; off, occurrence stays empty', async () => {
    const user = dovecotUser('rep');
    await seed(user, 'INBOX', ['again']);
    const first = recorder();
    await run(access(user), settings({ reprocess: true }), first);
    const c = await mailboxAs(user);
    await c.mailboxOpen('INBOX');
    await c.messageFlagsRemove('1', ['\\Seen'], { uid: true });
    await c.logout();
    const second = recorder();
    await run(access(user), settings({ reprocess: true }), second);
    assert.equal(second.stored.length, 1);
    assert.notEqual(second.stored[0]!.msg.occurrence, first.stored[0]!.msg.occurrence);
    assert.match(first.stored[0]!.msg.occurrence, /^modseq:\d+$/);
    const c2 = await mailboxAs(user);
    await c2.mailboxOpen('INBOX');
    await c2.messageFlagsRemove('1', ['\\Seen'], { uid: true });
    await c2.logout();
    const off = recorder();
    await run(access(user), settings({ reprocess: false }), off);
    assert.equal(off.stored[0]!.msg.occurrence, '');
  });

  it('logs a UIDVALIDITY change and keeps fetching', async () => {
    const user = dovecotUser('uidv');
    await seed(user, 'INBOX/Box', ['one']);
    const memory: RunMemory = { oversize: new Set() };
    await run(access(user), settings({ folder: 'INBOX/Box' }), recorder(), memory);
    const c = await mailboxAs(user);
    await c.mailboxDelete('INBOX/Box');
    await c.mailboxCreate('INBOX/Box');
    await c.append('INBOX/Box', testMail('one'));
    await c.logout();
    const r = recorder();
    await run(access(user), settings({ folder: 'INBOX/Box' }), r, memory);
    assert.ok(r.logs.some((l) => l.code === 'UIDVALIDITY_CHANGED'));
    assert.equal(r.stored.length, 1, 'the recreated message is offered again (storage dedupes it by content)');
  });

  it('skips a message over the size cap, logs it once, and leaves it untouched', async () => {
    const user = dovecotUser('cap');
    await seed(user, 'INBOX', ['small1']);
    const c = await mailboxAs(user);
    await c.append('INBOX', testMail('huge', 'x'.repeat(20_000)));
    await c.logout();
    await seed(user, 'INBOX', ['small2']);
    const memory: RunMemory = { oversize: new Set() };
    const r = recorder();
    const res = await run(access(user), settings({ maxMessageBytes: 10_000 }), r, memory);
    assert.equal(res.skippedOversize, 1);
    assert.deepEqual(r.stored.map((s) => s.bytes.toString().match(/Subject: (\S+)/)?.[1]), ['small1', 'small2']);
    assert.equal(r.logs.filter((l) => l.code === 'SIZE_CAP_SKIPPED').length, 1);
    const again = recorder();
    await run(access(user), settings({ maxMessageBytes: 10_000 }), again, memory);
    assert.equal(again.logs.filter((l) => l.code === 'SIZE_CAP_SKIPPED').length, 0, 'logged once');
    assert.deepEqual((await inspect(user, 'INBOX')).map((m) => `${m.subject}:${m.seen}`), ['small1:true', 'huge:false', 'small2:true']);
  });

  it('touches nothing on the server when storing fails', async () => {
    const user = dovecotUser('nostore');
    await seed(user, 'INBOX', ['x']);
    const r = recorder();
    r.fail = true;
    await assert.rejects(run(access(user), settings({ strategy: 'DELETE' }), r));
    assert.deepEqual(await inspect(user, 'INBOX'), [{ subject: 'x', seen: false }]);
  });

  for (const security of ['SSL', 'TLS'] as const) {
    it(`offers the previous connection's TLS session and the server resumes it (${security})`, async () => {
      const user = dovecotUser('resume');
      await seed(user, 'INBOX', ['first']);
      const slot = recordedResumption();
      await run(access(user, { security, tlsResumption: slot }), settings(), recorder());
      assert.ok(slot.ticket, 'the server handed out a session');
      await run(access(user, { security, tlsResumption: slot }), settings(), recorder());
      assert.deepEqual(slot.handshakes, [false, true], 'a full handshake, then a resumed one');
    });
  }

  it('reports a wrong password as AUTH_FAILED (not retryable)', async () => {
    const user = dovecotUser('auth');
    await assert.rejects(run(access({ ...user, password: 'wrong' }), settings(), recorder()), (e: unknown) => e instanceof MailboxError && e.failure === 'AUTH_FAILED' && !e.retryable);
  });

  it('names the folders that exist when the watched one is missing', async () => {
    const user = dovecotUser('nof');
    await seed(user, 'INBOX/Real', []);
    await assert.rejects(run(access(user), settings({ folder: 'INBOX/Missing' }), recorder()), (e: unknown) => {
      assert.ok(e instanceof MailboxError && e.failure === 'FOLDER_NOT_FOUND');
      assert.match(e.message, /"INBOX\/Missing" does not exist; the mailbox has: INBOX, INBOX\/Real/);
      return true;
    });
  });

  it('lists the folders once: later polls select the kept path straight away, and a folder gone from it is listed afresh', async () => {
    const user = dovecotUser('paths');
    await seed(user, 'INBOX/Work', ['w1']);
    await seed(user, 'Done', []);
    const relay = await cuttingProxy(DOVECOT.imap);
    const memory: RunMemory = { oversize: new Set() };
    const r = recorder();
    const viaRelay = access(user, { security: 'NONE', port: relay.port });
    const s = settings({ folder: 'Inbox/Work', strategy: 'MOVE', moveTo: 'Done' });
    // Full listings (LIST "" "*"); imapflow also lists a single path to tell a missing folder after a NO.
    const lists = (from: number) => (relay.sent().slice(from).match(/ LIST "" "\*"/g) ?? []).length;
    try {
      assert.equal((await run(viaRelay, s, r, memory)).stored, 1);
      assert.equal(lists(0), 1, 'the first run lists');
      let mark = relay.sent().length;
      await seed(user, 'INBOX/Work', ['w2']);
      assert.equal((await run(viaRelay, s, r, memory)).stored, 1);
      assert.doesNotMatch(relay.sent().slice(mark), / LIST | LSUB /, 'the second run lists nothing');
      assert.match(relay.sent().slice(mark), /SELECT "?INBOX\/Work/);
      assert.deepEqual((await inspect(user, 'Done')).length, 2, 'moved to the kept target path');
      // The folder is deleted and made again under another case of INBOX's child: the kept
      // path answers NO, the run lists again and finds it.
      const c = await mailboxAs(user);
      await c.mailboxDelete('INBOX/Work');
      await c.mailboxCreate('INBOX/work');
      await c.append('INBOX/work', testMail('w3'));
      await c.logout();
      mark = relay.sent().length;
      assert.equal((await run(viaRelay, settings({ folder: 'Inbox/Work', strategy: 'MOVE', moveTo: 'Done' }), r, memory).catch((e: unknown) => e)) instanceof MailboxError, true, 'Inbox/Work is gone (names other than INBOX compare exactly)');
      assert.equal(lists(mark), 1, 'listed afresh after the NO');
      const recreated = settings({ folder: 'Inbox/work', strategy: 'MOVE', moveTo: 'Done' });
      assert.equal((await run(viaRelay, recreated, r, memory)).stored, 1);
      assert.ok(r.stored.at(-1)!.bytes.equals(testMail('w3')));
    } finally {
      await relay.close();
    }
  });

  it('never lists the folders of a connector on INBOX (any case) without a move target: its first run goes from login to SELECT', async () => {
    const user = dovecotUser('inbox');
    await seed(user, 'INBOX', ['i1']);
    const relay = await cuttingProxy(DOVECOT.imap);
    const r = recorder();
    try {
      const result = await run(access(user, { security: 'NONE', port: relay.port }), settings({ folder: 'Inbox' }), r, { oversize: new Set() });
      assert.equal(result.stored, 1);
      assert.ok(r.stored[0]!.bytes.equals(testMail('i1')));
      assert.doesNotMatch(relay.sent(), / LIST | LSUB /, 'nothing listed');
      assert.match(relay.sent(), / SELECT "?INBOX"?\r\n/);
    } finally {
      await relay.close();
    }
  });

  it('TestConnection reports each step; ListFolders uses "/" notation', async () => {
    const user = dovecotUser('probe');
    await seed(user, 'INBOX/A', []);
    const started = Date.now();
    const steps = await testImap(access(user, { security: 'TLS' }), 'Inbox/A');
    const took = Date.now() - started;
    assert.deepEqual(steps.map((s) => `${s.name}:${s.ok}`), ['TCP:true', 'GREETING:true', 'STARTTLS:true', 'LOGIN:true', 'FOLDER:true']);
    // Each step's own time: together no more than the whole test took (cumulative times would add up to more).
    assert.ok(steps.reduce((n, s) => n + s.durationMs, 0) <= took, `${steps.map((s) => `${s.name} ${s.durationMs} ms`).join(', ')} within ${took} ms`);
    const sslStarted = Date.now();
    const ssl = await testImap(access(user, { security: 'SSL' }), null);
    assert.ok(ssl.reduce((n, s) => n + s.durationMs, 0) <= Date.now() - sslStarted, 'SSL: the steps add up to the whole');
    assert.deepEqual(ssl.map((s) => s.name), ['TCP', 'TLS', 'GREETING', 'LOGIN']);
    // The handshake is timed apart from TCP (on a loaded machine both may round to the same millisecond, so no > 0 here).
    assert.ok(ssl.every((s) => Number.isInteger(s.durationMs) && s.durationMs >= 0));
    const bad = await testImap(access({ ...user, password: 'nope' }), null);
    assert.equal(bad.at(-1)!.name, 'LOGIN');
    assert.equal(bad.at(-1)!.ok, false);
    assert.doesNotMatch(JSON.stringify(bad), new RegExp(user.password));
    assert.deepEqual(await listImapFolders(access(user)), ['INBOX', 'INBOX/A']);
  });
});

describe('IMAP through a per-connector proxy', () => {
  for (const kind of ['socks5', 'http'] as const) {
    it(`fetches and marks read through a ${kind} proxy with a password; the server sees the proxy's address`, async () => {
      const proxy = await TestProxy.start({ kind, user: 'fetcher', password: 'proxy-Secret-2', localAddress: '127.0.0.2' });
      try {
        const user = dovecotUser(`improxy-${kind}`);
        await seed(user, 'INBOX', ['via-proxy']);
        const res = await run(access(user, { proxy: { url: proxy.url, password: new Secret('proxy-Secret-2') } }), settings(), recorder());
        assert.equal(res.stored, 1);
        assert.equal(res.postProcessed, 1);
        assert.deepEqual(proxy.tunnels, [`127.0.0.1:${DOVECOT.imaps}`]);
        await expectLastLoginFrom(user.username, '127.0.0.2', 'the mailbox saw the proxy, not the fetcher');
        await assert.rejects(run(access(user, { proxy: { url: proxy.url, password: new Secret('wrong') } }), settings(), recorder()), (e: unknown) => e instanceof MailboxError && e.retryable);
        assert.equal(proxy.refused, 1);
      } finally {
        await proxy.close();
      }
    });
  }
});

describe('IMAP push (IDLE) against Dovecot', () => {
  const logins = (user: MailUser) => dovecotLoginAddresses(user.username).length;

  it('keeps the connection in IDLE after a run, wakes within a second of new mail, and runs on the same connection', async () => {
    const user = dovecotUser('idle');
    await seed(user, 'INBOX', ['first']);
    let wakes = 0;
    const memory: RunMemory = { oversize: new Set(), wake: () => void wakes++ };
    const r = recorder();
    try {
      assert.equal((await run(access(user), settings({ push: true }), r, memory)).stored, 1);
      assert.ok(memory.session, 'the connection is kept');
      await eventually(() => logins(user) === 2, 5_000, 'the seeding login and the run\'s');
      await new Promise((res) => setTimeout(res, 300)); // the session is in IDLE by now
      const appended = Date.now();
      await seed(user, 'INBOX', ['pushed']);
      await eventually(() => wakes === 1, 5_000, 'woken by the new message');
      const latency = Date.now() - appended;
      assert.ok(latency < 1_000, `woken ${latency} ms after the append`);
      const before = logins(user);
      const second = await run(access(user), settings({ push: true }), r, memory);
      assert.equal(second.stored, 1);
      assert.equal(r.stored.at(-1)!.msg.source.kind === 'IMAP' && r.stored.at(-1)!.bytes.equals(testMail('pushed')), true);
      await new Promise((res) => setTimeout(res, 200));
      assert.equal(logins(user), before, 'no new login: the run used the kept connection');
      assert.deepEqual((await inspect(user, 'INBOX')).map((m) => m.seen), [true, true]);
    } finally {
      memory.session?.close();
    }
  });

  it('a run woken by new mail lists what arrived with its text in one command: no LIST, SELECT, SEARCH or size listing', async () => {
    const t = await woken('idle-rt');
    try {
      const mark = t.relay.sent().length;
      await seed(t.user, 'INBOX', ['pushed']);
      await eventually(() => t.wakes() === 1, 5_000, 'woken by the new message');
      assert.equal((await run(t.via, settings({ push: true }), t.r, t.memory)).stored, 1);
      const commands = sentSince(t.relay, mark);
      assert.deepEqual(
        commands.map((l) => l.split(' ').slice(1, 3).join(' ')).filter((c) => !c.startsWith('IDLE')),
        ['', 'FETCH 2:*', 'UID STORE'],
        `commands of the woken run: ${commands.join(' | ')}`,
      );
      assert.equal(commands[0], 'DONE', 'the listing follows the end of the IDLE');
      assert.match(commands[1]!, /UID FLAGS RFC822\.SIZE BODY\.PEEK\[\]<0\.262144>/);
      assert.ok(t.r.stored.at(-1)!.bytes.equals(testMail('pushed')));
      assert.deepEqual((await inspect(t.user, 'INBOX')).map((m) => m.seen), [true, true]);
    } finally {
      await t.close();
    }
  });

  it('starts the next run at once for mail that arrived while a run held the connection', async () => {
    const user = dovecotUser('idle-busy');
    await seed(user, 'INBOX', ['a']);
    let wakes = 0;
    const memory: RunMemory = { oversize: new Set(), wake: () => void wakes++ };
    const r = recorder();
    const slow = Object.assign(Object.create(r) as typeof r, {
      put: async (msg: IncomingMessage) => {
        await seed(user, 'INBOX', ['during']); // delivered while this run holds the connection
        await new Promise((res) => setTimeout(res, 300));
        return r.put(msg);
      },
    });
    try {
      await run(access(user), settings({ push: true }), slow, memory);
      await eventually(() => wakes === 1, 5_000, 'woken right after the run');
      // It came after the run's listing but before the connection was released: the woken
      // run lists the UIDs above what the last run handled, not just what came since.
      const next = await run(access(user), settings({ push: true }), r, memory);
      assert.equal(next.stored, 1);
      assert.ok(r.stored.at(-1)!.bytes.equals(testMail('during')));
    } finally {
      memory.session?.close();
    }
  });

  it('with reprocess and MARK_READ, a message marked unread again wakes the connector; without reprocess it does not', async () => {
    for (const reprocess of [true, false]) {
      const user = dovecotUser(`idle-unseen-${reprocess}`);
      await seed(user, 'INBOX', ['read-me']);
      let wakes = 0;
      const memory: RunMemory = { oversize: new Set(), wake: () => void wakes++ };
      const r = recorder();
      try {
        await run(access(user), settings({ push: true, reprocess }), r, memory);
        await new Promise((res) => setTimeout(res, 300)); // the session is in IDLE by now
        const c = await mailboxAs(user);
        try {
          await c.mailboxOpen('INBOX');
          const marked = Date.now();
          await c.messageFlagsRemove('1', ['\\Seen'], { uid: true });
          if (reprocess) {
            await eventually(() => wakes === 1, 5_000, 'woken by the flag change');
            assert.ok(Date.now() - marked < 1_000, 'within a second');
            const again = await run(access(user), settings({ push: true, reprocess }), r, memory);
            assert.equal(again.stored, 1, 'the message is processed again');
            assert.notEqual(r.stored[1]!.msg.occurrence, r.stored[0]!.msg.occurrence);
          } else {
            // Dovecot reports changes in order: when the append's EXISTS has woken the
            // connector, the earlier flag change would have done so before it.
            await c.append('INBOX', testMail('later'));
            await eventually(() => wakes >= 1, 5_000, 'woken by the new message');
            await new Promise((res) => setTimeout(res, 100));
            assert.equal(wakes, 1, 'the flag change did not wake it');
          }
        } finally {
          await c.logout();
        }
      } finally {
        memory.session?.close();
      }
    }
  });

  /** A user with one message, polled once; the memory holds what the run kept. */
  async function firstRun(prefix: string, push: boolean) {
    const user = dovecotUser(prefix);
    await seed(user, 'INBOX', [`${prefix}-1`]);
    const memory: RunMemory = { oversize: new Set(), wake: () => undefined };
    const r = recorder();
    await run(access(user), settings({ push }), r, memory);
    return { user, memory, r };
  }

  it('closes the kept connection when the session is dropped, and a push run after that logs in again', async () => {
    const { user, memory, r } = await firstRun('idle-close', true);
    const session = memory.session;
    assert.ok(session);
    session.close();
    memory.session = undefined;
    const before = logins(user);
    await run(access(user), settings({ push: true }), r, memory);
    await eventually(() => logins(user) === before + 1, 5_000, 'a new login');
    (memory.session as RunMemory['session'])?.close();
  });

  it('notices a kept connection the server ends, and the next run logs in again', async () => {
    const { user, memory, r } = await firstRun('idle-kick', true);
    assert.ok(memory.session);
    await new Promise((res) => setTimeout(res, 200));
    dovecotKick(user.username);
    await eventually(() => memory.session === undefined, 5_000, 'the session dropped');
    const before = logins(user);
    await seed(user, 'INBOX', ['k2']);
    const next = await run(access(user), settings({ push: true }), r, memory);
    assert.equal(next.stored, 1);
    await eventually(() => logins(user) === before + 2, 5_000, 'the seeding login and a new run login');
    (memory.session as RunMemory['session'])?.close();
  });

  it('without push, logs out after every run as before', async () => {
    const { memory } = await firstRun('no-push', false);
    assert.equal(memory.session, undefined);
  });
});

/** A push connector's first run through a plaintext recording relay; the session then waits in IDLE. */
async function woken(prefix: string, over: Partial<ImapRunSettings> = {}) {
  const user = dovecotUser(prefix);
  await seed(user, 'INBOX', [`${prefix}-first`]);
  const relay = await cuttingProxy(DOVECOT.imap);
  let wakes = 0;
  const memory: RunMemory = { oversize: new Set(), wake: () => void wakes++ };
  const r = recorder();
  const via = access(user, { security: 'NONE', port: relay.port });
  assert.equal((await run(via, settings({ push: true, ...over }), r, memory)).stored, 1);
  await new Promise((res) => setTimeout(res, 300)); // in IDLE by now
  return {
    user,
    relay,
    memory,
    r,
    via,
    wakes: () => wakes,
    close: async () => {
      memory.session?.close();
      await relay.close();
    },
  };
}

/** The commands sent through the relay since `mark`, one per line (IMAP literals aside). */
function sentSince(relay: { sent(): string }, mark: number): string[] {
  return relay
    .sent()
    .slice(mark)
    .split('\r\n')
    .filter((l) => l !== '');
}

const verbs = (commands: string[]) => commands.map((l) => l.split(' ').slice(1, 3).join(' ')).filter((c) => c !== '' && !c.startsWith('IDLE'));

describe('IMAP push: a woken run lists only what arrived (decision 0035)', () => {
  it('more messages than the window: the rest listed by UID, all stored byte-exact in order; one too large for the prefetch fetched whole', async () => {
    const t = await woken('tail-many');
    try {
      const ids = Array.from({ length: 20 }, (_, i) => `many-${i}`);
      const big = 'x'.repeat(300 * 1024); // above the 256 KiB prefetch
      const c = await mailboxAs(t.user);
      try {
        for (const id of ids) await c.append('INBOX', id === 'many-18' ? testMail(id, big) : testMail(id));
      } finally {
        await c.logout();
      }
      await eventually(() => t.wakes() >= 1, 5_000, 'woken');
      const mark = t.relay.sent().length;
      const res = await run(t.via, settings({ push: true }), t.r, t.memory);
      assert.equal(res.stored, 20);
      assert.equal(res.more, false);
      const stored = t.r.stored.slice(1);
      assert.deepEqual(stored.map((m) => (m.msg.source.kind === 'IMAP' ? m.msg.source.uid : 0)), Array.from({ length: 20 }, (_, i) => i + 2), 'in UID order');
      stored.forEach((m, i) => assert.ok(m.bytes.equals(ids[i] === 'many-18' ? testMail(ids[i]!, big) : testMail(ids[i]!)), `message ${i} byte-exact`));
      const commands = verbs(sentSince(t.relay, mark));
      assert.deepEqual(commands.slice(0, 2), ['FETCH 6:*', 'UID FETCH'], `the window (sequence 6 to 21), then UIDs 2 to 5: ${commands.join(' | ')}`);
      assert.ok(commands.includes('UID STORE') && !commands.includes('UID SEARCH'));
      assert.deepEqual((await inspect(t.user, 'INBOX')).map((m) => m.seen), Array(21).fill(true));
    } finally {
      await t.close();
    }
  });

  it('skips a new message over the size cap without storing it, saying so once; one arriving already read is no work', async () => {
    const t = await woken('tail-skip', { maxMessageBytes: 4_000 });
    try {
      const c = await mailboxAs(t.user);
      try {
        await c.append('INBOX', testMail('small'));
        await c.append('INBOX', testMail('too-big', 'y'.repeat(8_000)));
        await c.append('INBOX', testMail('read-already'), ['\\Seen']);
      } finally {
        await c.logout();
      }
      await eventually(() => t.wakes() >= 1, 5_000, 'woken');
      const res = await run(t.via, settings({ push: true, maxMessageBytes: 4_000 }), t.r, t.memory);
      assert.deepEqual([res.stored, res.skippedOversize, res.candidates], [1, 1, 2], 'small stored; too-big skipped; read-already no candidate');
      assert.equal(t.r.logs.filter((l) => l.code === 'SIZE_CAP_SKIPPED').length, 1);
      assert.deepEqual((await inspect(t.user, 'INBOX')).map((m) => [m.subject, m.seen]), [['tail-skip-first', true], ['small', true], ['too-big', false], ['read-already', true]]);
      await seed(t.user, 'INBOX', ['next']);
      await eventually(() => t.wakes() >= 2, 5_000, 'woken again');
      const again = await run(t.via, settings({ push: true, maxMessageBytes: 4_000 }), t.r, t.memory);
      assert.deepEqual([again.stored, again.skippedOversize], [1, 0], 'the next woken run lists only the newer message');
      assert.equal(t.r.logs.filter((l) => l.code === 'SIZE_CAP_SKIPPED').length, 1, 'said once');
    } finally {
      await t.close();
    }
  });

  it('DELETE: each woken run stores what arrived and expunges it; the folder\'s numbering shifts and nothing is missed', async () => {
    const t = await woken('tail-delete', { strategy: 'DELETE' });
    try {
      const del = settings({ push: true, strategy: 'DELETE' });
      for (const batch of [['d1', 'd2'], ['d3']]) {
        const woke = t.wakes();
        await seed(t.user, 'INBOX', batch);
        await eventually(() => t.wakes() > woke, 5_000, 'woken');
        const mark = t.relay.sent().length;
        const res = await run(t.via, del, t.r, t.memory);
        assert.equal(res.stored, batch.length);
        assert.ok(!verbs(sentSince(t.relay, mark)).includes('UID SEARCH'));
        await new Promise((res) => setTimeout(res, 300));
      }
      assert.deepEqual(t.r.stored.slice(1).map((m) => m.bytes.toString().match(/Subject: (\S+)/)![1]), ['d1', 'd2', 'd3']);
      assert.deepEqual(await inspect(t.user, 'INBOX'), []);
    } finally {
      await t.close();
    }
  });

  it('the interval\'s run on the kept connection (nothing announced) searches the whole folder', async () => {
    const t = await woken('tail-interval');
    try {
      // Marked unread by someone else, without reprocess: only a search finds it again.
      const c = await mailboxAs(t.user);
      try {
        await c.mailboxOpen('INBOX');
        await c.messageFlagsRemove('1', ['\\Seen'], { uid: true });
      } finally {
        await c.logout();
      }
      await new Promise((res) => setTimeout(res, 700)); // Dovecot's announcement delay
      assert.equal(t.wakes(), 0);
      const mark = t.relay.sent().length;
      const res = await run(t.via, settings({ push: true }), t.r, t.memory);
      assert.equal(res.candidates, 1);
      assert.ok(verbs(sentSince(t.relay, mark)).includes('UID SEARCH'));
      assert.deepEqual((await inspect(t.user, 'INBOX')).map((m) => m.seen), [true], 'read again');
    } finally {
      await t.close();
    }
  });

  it('after a run that left work behind (a refused message), the next woken run searches and tries it again', async () => {
    const t = await woken('tail-refused');
    try {
      const refusing = Object.assign(Object.create(t.r) as typeof t.r, {
        put: async () => ({ outcome: Promise.resolve<StoreOutcome>({ kind: 'refused', code: 'QUOTA', message: 'full' }) }),
      });
      await seed(t.user, 'INBOX', ['refused']);
      await eventually(() => t.wakes() === 1, 5_000, 'woken');
      assert.equal((await run(t.via, settings({ push: true }), refusing, t.memory)).refused, 1);
      await new Promise((res) => setTimeout(res, 300));
      await seed(t.user, 'INBOX', ['later']);
      await eventually(() => t.wakes() === 2, 5_000, 'woken again');
      const mark = t.relay.sent().length;
      const res = await run(t.via, settings({ push: true }), t.r, t.memory);
      assert.equal(res.stored, 2, 'the refused one and the new one');
      assert.ok(verbs(sentSince(t.relay, mark)).includes('UID SEARCH'));
    } finally {
      await t.close();
    }
  });
});
