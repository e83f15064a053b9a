import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { Secret } from '@postbote/crypto';
import type { Security } from '@postbote/connector-model';
import { MailboxError, type IncomingMessage, type ServerAccess, type StoreOutcome } from '@postbote/mailbox';
import { DOVECOT, GREENMAIL, TestProxy, dovecotLoginAddresses, dovecotUser, expectLastLoginFrom, eventually, recordedResumption, scriptedServer, seedInbox, smtpDeliver, testMail, type MailUser } from '@postbote/testing';
import { pollPop3, type Pop3RunSettings } from './poll-pop3';
import { testPop3 } from './pop3-probe';
import { openPop3 } from './pop3-session';
import { quit, uidl } from './pop3-commands';

const PORTS: Record<Security, number> = { SSL: DOVECOT.pop3s, TLS: DOVECOT.pop3, NONE: DOVECOT.pop3 };
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function access(user: MailUser, over: Partial<ServerAccess> = {}): ServerAccess {
  const security = over.security ?? 'SSL';
  return { host: DOVECOT.host, port: PORTS[security], security, trustedCaPem: DOVECOT.caPem(), username: user.username, login: { kind: 'PASSWORD', password: new Secret(user.password) }, connectTimeoutMs: 5_000, ...over };
}

const settings = (over: Partial<Pop3RunSettings> = {}): Pop3RunSettings => ({ batchSize: 50, fetchTimeoutMs: 20_000, maxMessageBytes: 50 * 1024 * 1024, ...over });

/** Storage stand-in: remembers UIDLs it "stored" (what the real storage's dedupe keys do). */
function sink() {
  const stored = new Map<string, Buffer>();
  const logs: string[] = [];
  return {
    stored,
    logs,
    known: async (uidls: string[]) => new Set(uidls.filter((u) => stored.has(u))),
    put: async (m: IncomingMessage) => {
      const parts: Buffer[] = [];
      if (m.content instanceof Uint8Array) parts.push(Buffer.from(m.content));
      else for await (const p of m.content) parts.push(Buffer.from(p));
      if (m.source.kind !== 'POP3') throw new Error('not pop3');
      stored.set(m.source.uidl, Buffer.concat(parts));
      return { outcome: Promise.resolve<StoreOutcome>({ kind: 'stored' }) };
    },
    log: (_level: string, code: string) => void logs.push(code),
  };
}

/** The server's own copy, as IMAP BODY[] returns it: what POP3 must reproduce. */
const seed = (user: MailUser, messages: Buffer[]) => seedInbox(user, messages);

const run = (a: ServerAccess, s: Pop3RunSettings, k: ReturnType<typeof sink>) => pollPop3(a, s, { oversize: new Set() }, k.known, k, k.log, new AbortController().signal);

describe('POP3 poll against Dovecot', () => {
  for (const security of ['SSL', 'TLS', 'NONE'] as const) {
    it(`fetches with security ${security} and never deletes`, async () => {
      const user = dovecotUser('p3');
      const onServer = await seed(user, [testMail('a'), testMail('b')]);
      const k = sink();
      const res = await run(access(user, { security }), settings(), k);
      assert.equal(res.stored, 2);
      assert.deepEqual([...k.stored.values()].map(sha), onServer.map(sha));
      assert.equal((await seed(user, [])).length, 2, 'the server mailbox is unchanged');
      assert.equal(k.logs.filter((c) => c === 'STARTTLS_AVAILABLE').length, security === 'NONE' ? 1 : 0, 'NONE on a server offering STLS is advised against');
    });
  }

  for (const security of ['SSL', 'TLS'] as const) {
    it(`offers the previous connection's TLS session and the server resumes it (${security})`, async () => {
      const user = dovecotUser('p3resume');
      await seed(user, [testMail('a')]);
      const slot = recordedResumption();
      await run(access(user, { security, tlsResumption: slot }), settings(), sink());
      assert.ok(slot.ticket, 'the server handed out a session');
      await run(access(user, { security, tlsResumption: slot }), settings(), sink());
      assert.deepEqual(slot.handshakes, [false, true], 'a full handshake, then a resumed one');
    });
  }

  it('connects from the configured source address (FETCHER_SOURCE_ADDRESS)', async () => {
    const user = dovecotUser('p3src');
    await seed(user, [testMail('from-127-0-0-3')]);
    const k = sink();
    assert.equal((await run(access(user, { sourceAddress: '127.0.0.3' }), settings(), k)).stored, 1);
    await eventually(() => dovecotLoginAddresses(user.username).includes('127.0.0.3'), 5_000, 'the login from 127.0.0.3 in Dovecot\'s log');
  });

  it('keeps 8-bit bodies, binary-ish bytes and lines starting with "." byte-exact', async () => {
    const user = dovecotUser('p3bytes');
    const eightBit = Buffer.concat([Buffer.from('From: a@example.test\r\nSubject: 8bit\r\nContent-Transfer-Encoding: 8bit\r\n\r\n', 'latin1'), Buffer.from('Grüße ', 'utf8'), Buffer.from([0xe4, 0xf6, 0xfc, 0xff, 0x80, 0x01, 0x7f]), Buffer.from('\r\n')]);
    const dots = Buffer.from('From: a@example.test\r\nSubject: dots\r\n\r\n.leading dot\r\n..two dots\r\n.\r\n. \r\nend\r\n', 'latin1');
    const onServer = await seed(user, [eightBit, dots]);
    const k = sink();
    await run(access(user), settings(), k);
    const got = [...k.stored.values()];
    assert.ok(got[0]!.equals(onServer[0]!), '8-bit body differs');
    assert.ok(got[1]!.equals(onServer[1]!), 'dot-stuffed lines differ');
    assert.ok(got[1]!.equals(dots), 'and equal the original');
  });

  it('takes at most a batch per run, oldest first, and only new UIDLs', async () => {
    const user = dovecotUser('p3batch');
    await seed(user, ['1', '2', '3', '4', '5'].map((i) => testMail(`m${i}`)));
    const k = sink();
    const order: number[] = [];
    for (let i = 0; i < 3; i++) {
      const before = k.stored.size;
      const res = await run(access(user), settings({ batchSize: 2 }), k);
      order.push(k.stored.size - before);
      assert.equal(res.more, i < 2);
    }
    assert.deepEqual(order, [2, 2, 1]);
    assert.deepEqual([...k.stored.values()].map((b) => b.toString().match(/Subject: (\S+)/)?.[1]), ['m1', 'm2', 'm3', 'm4', 'm5']);
    assert.equal((await run(access(user), settings(), k)).candidates, 0);
  });

  it('refuses a wrong password as AUTH_FAILED and a missing STLS before sending credentials', async () => {
    const user = dovecotUser('p3auth');
    await assert.rejects(run(access({ ...user, password: 'wrong' }), settings(), sink()), (e: unknown) => e instanceof MailboxError && e.failure === 'AUTH_FAILED');
    let sawCredentials = false;
    const fake = await scriptedServer(async (socket, lines) => {
      socket.write('+OK fake POP3\r\n');
      for await (const line of lines) {
        if (/^(USER|PASS|AUTH|APOP)/i.test(line)) sawCredentials = true;
        if (/^CAPA/i.test(line)) socket.write('+OK\r\nUSER\r\nUIDL\r\n.\r\n');
        else socket.write('-ERR no\r\n');
      }
    });
    try {
      await assert.rejects(run(access(user, { security: 'TLS', port: fake.port }), settings(), sink()), (e: unknown) => e instanceof MailboxError && e.failure === 'STARTTLS_UNAVAILABLE');
      assert.equal(sawCredentials, false);
    } finally {
      await fake.close();
    }
  });

  it('TestConnection reports TCP, STLS, GREETING, LOGIN, STAT', async () => {
    const user = dovecotUser('p3probe');
    await seed(user, [testMail('x')]);
    const started = Date.now();
    const steps = await testPop3(access(user, { security: 'TLS' }));
    const took = Date.now() - started;
    assert.deepEqual(steps.map((s) => `${s.name}:${s.ok}`), ['TCP:true', 'GREETING:true', 'STLS:true', 'LOGIN:true', 'STAT:true']);
    // Each step's own time: together no more than the whole test took (cumulative times would add up to more).
    assert.ok(steps.reduce((n, s) => n + s.durationMs, 0) <= took, `${steps.map((s) => `${s.name} ${s.durationMs} ms`).join(', ')} within ${took} ms`);
    const sslStarted = Date.now();
    const ssl = await testPop3(access(user, { security: 'SSL' }));
    assert.ok(ssl.reduce((n, s) => n + s.durationMs, 0) <= Date.now() - sslStarted, 'SSL: the steps add up to the whole');
    assert.deepEqual(ssl.map((s) => s.name), ['TCP', 'TLS', 'GREETING', 'LOGIN', 'STAT']);
    // The handshake is timed apart from TCP (on a loaded machine both may round to the same millisecond, so no > 0 here).
    assert.ok(ssl.every((s) => Number.isInteger(s.durationMs) && s.durationMs >= 0));
    assert.match(steps.at(-1)!.detail, /^1 \d+/);
  });
});

describe('POP3 through a per-connector proxy', () => {
  for (const kind of ['socks5', 'http'] as const) {
    it(`fetches through a ${kind} proxy with a password (TLS end to end); the server sees the proxy's address`, async () => {
      const proxy = await TestProxy.start({ kind, user: 'fetcher', password: 'proxy-Secret-1', localAddress: '127.0.0.2' });
      try {
        for (const security of ['SSL', 'TLS'] as const) {
          const user = dovecotUser(`p3proxy-${kind}`);
          await seed(user, [testMail('via-proxy')]);
          const res = await run(access(user, { security, proxy: { url: proxy.url, password: new Secret('proxy-Secret-1') } }), settings(), sink());
          assert.equal(res.stored, 1);
          await expectLastLoginFrom(user.username, '127.0.0.2', 'the mailbox saw the proxy, not the fetcher');
        }
        assert.deepEqual(proxy.tunnels, [`127.0.0.1:${DOVECOT.pop3s}`, `127.0.0.1:${DOVECOT.pop3}`]);
        const refused = run(access(dovecotUser('p3proxy'), { proxy: { url: proxy.url, password: new Secret('wrong-proxy-pw') } }), settings(), sink());
        await assert.rejects(refused, (e: unknown) => e instanceof MailboxError && e.failure === 'CONNECTION_FAILED' && e.message.includes(`proxy 127.0.0.1:${proxy.port}`) && !e.message.includes('wrong-proxy-pw'));
        assert.equal(proxy.refused, 1);
      } finally {
        await proxy.close();
      }
    });
  }
});

describe('POP3 poll against GreenMail (a second implementation)', () => {
  it('fetches byte-exact, in order, in batches, without deleting', async () => {
    const address = `gm-${Date.now()}-${Math.random().toString(16).slice(2)}@example.test`;
    const mails = [
      testMail('gm-1'),
      Buffer.concat([Buffer.from('From: a@example.test\r\nSubject: gm-2\r\n\r\n', 'latin1'), Buffer.from([0xe4, 0xf6, 0xfc]), Buffer.from('\r\n.dot\r\n', 'latin1')]),
      testMail('gm-3'),
    ];
    for (const m of mails) await smtpDeliver(address, m);
    const gm = (): ServerAccess => ({
      host: GREENMAIL.host,
      port: GREENMAIL.pop3,
      security: 'NONE',
      trustedCaPem: null,
      username: address,
      login: { kind: 'PASSWORD', password: new Secret('any') },
      connectTimeoutMs: 5_000,
    });
    const k = sink();
    const first = await run(gm(), settings({ batchSize: 2 }), k);
    assert.equal(first.stored, 2);
    assert.equal(first.more, true);
    await run(gm(), settings({ batchSize: 2 }), k);
    const got = [...k.stored.values()];
    assert.equal(got.length, 3);
    // GreenMail adds its own Received/Return-Path headers: compare the bytes after them.
    for (const [i, m] of mails.entries()) assert.ok(got[i]!.subarray(got[i]!.length - m.length).equals(m), `message ${i + 1} differs`);
    const again = await run(gm(), settings(), k);
    assert.equal(again.candidates, 0, 'nothing new');
    const { wire } = await openPop3(gm(), 5_000);
    try {
      assert.deepEqual((await uidl(wire, 5_000)).map((u) => u.uidl), [...k.stored.keys()], 'all three still on the server');
    } finally {
      await quit(wire, 5_000);
      wire.close();
    }
  });
});
