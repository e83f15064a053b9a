import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { Secret } from '@postbote/crypto';
import { MailboxError, type IncomingMessage, type ServerAccess, type StoreOutcome } from '@postbote/mailbox';
import { scriptedServer } from '@postbote/testing';
import { pollPop3, type Pop3RunSettings } from './poll-pop3';

// POP3 against small scripted servers on loopback: what real servers will not do on cue
// (split every byte, stall, answer garbage) and what they may or may not offer (UTF8,
// PIPELINING). Fast tier: no outside server.

const access = (port: number, over: Partial<ServerAccess> = {}): ServerAccess => ({
  host: '127.0.0.1',
  port,
  security: 'NONE',
  trustedCaPem: null,
  username: 'user',
  login: { kind: 'PASSWORD', password: new Secret('pw') },
  connectTimeoutMs: 5_000,
  ...over,
});
const settings = (over: Partial<Pop3RunSettings> = {}): Pop3RunSettings => ({ batchSize: 50, fetchTimeoutMs: 10_000, maxMessageBytes: 50 * 1024 * 1024, ...over });

/** Storage stand-in: the bytes of every message by UIDL. */
function sink() {
  const stored = new Map<string, Buffer>();
  return {
    stored,
    known: async () => new Set<string>(),
    put: async (m: IncomingMessage) => {
      const parts: Buffer[] = [];
      if (m.content instanceof Uint8Array) parts.push(Buffer.from(m.content));
      else for await (const p of m.content) parts.push(Buffer.from(p));
      stored.set(m.source.kind === 'POP3' ? m.source.uidl : '?', Buffer.concat(parts));
      return { outcome: Promise.resolve<StoreOutcome>({ kind: 'stored' }) };
    },
    log: () => undefined,
  };
}
const run = (a: ServerAccess, s: Pop3RunSettings, k: ReturnType<typeof sink>) => pollPop3(a, s, { oversize: new Set() }, k.known, k, k.log, new AbortController().signal);

const message = Buffer.from('Subject: split\r\n\r\n.dot line\r\nbody\r\n', 'latin1');
const stuffed = Buffer.from('Subject: split\r\n\r\n..dot line\r\nbody\r\n.\r\n', 'latin1');

function server(opts: { split?: boolean; delayMs?: number; uidl?: string; garbage?: boolean }) {
  return scriptedServer(async (socket, lines) => {
    const send = async (data: Buffer | string) => {
      const buf = Buffer.isBuffer(data) ? data : Buffer.from(data, 'latin1');
      if (!opts.split) return void socket.write(buf);
      // One byte per write, with pauses: every reply and the terminator arrive in pieces.
      for (const b of buf) {
        socket.write(Buffer.from([b]));
        await new Promise((r) => setImmediate(r));
      }
    };
    await send('+OK ready\r\n');
    for await (const line of lines) {
      if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
      const cmd = line.split(' ')[0]?.toUpperCase();
      if (cmd === 'CAPA') await send('+OK\r\nUSER\r\nUIDL\r\n.\r\n');
      else if (cmd === 'USER' || cmd === 'PASS') await send('+OK\r\n');
      else if (cmd === 'UIDL') await send(opts.uidl ?? (opts.garbage ? '+OK\r\nthis is not a uidl line\r\n.\r\n' : '+OK\r\n1 uid-1\r\n.\r\n'));
      else if (cmd === 'LIST') await send(`+OK\r\n1 ${message.length}\r\n.\r\n`);
      else if (cmd === 'RETR') await send(Buffer.concat([Buffer.from('+OK\r\n'), stuffed]));
      else if (cmd === 'QUIT') await send('+OK bye\r\n');
      else await send('-ERR unknown\r\n');
    }
  });
}

/**
 * A server with `n` messages that advertises `caps`, records every command, and answers
 * RETRs only once three are waiting (or 150 ms passed): a pipelining client gets its
 * answers at once, a one-at-a-time client waits each time.
 */
function recordingServer(caps: string[], n: number) {
  const commands: string[] = [];
  const retrsWaitingAtFirstAnswer: number[] = [];
  const body = (i: number) => Buffer.from(`Subject: m${i}\r\n\r\nbody ${i}\r\n`, 'latin1');
  const started = scriptedServer(async (socket, lines) => {
    socket.write('+OK ready\r\n');
    let waiting: number[] = [];
    let timer: NodeJS.Timeout | undefined;
    const answer = () => {
      clearTimeout(timer);
      timer = undefined;
      if (retrsWaitingAtFirstAnswer.length === 0) retrsWaitingAtFirstAnswer.push(waiting.length);
      for (const i of waiting) socket.write(Buffer.concat([Buffer.from('+OK\r\n'), body(i), Buffer.from('.\r\n')]));
      waiting = [];
    };
    for await (const line of lines) {
      commands.push(line.split(' ')[0]?.toUpperCase() ?? '');
      const [cmd, arg] = line.split(' ');
      switch (cmd?.toUpperCase()) {
        case 'CAPA':
          socket.write(`+OK\r\n${['USER', 'UIDL', ...caps].join('\r\n')}\r\n.\r\n`);
          break;
        case 'UIDL':
          socket.write(`+OK\r\n${Array.from({ length: n }, (_, i) => `${i + 1} u${i + 1}`).join('\r\n')}\r\n.\r\n`);
          break;
        case 'LIST':
          socket.write(`+OK\r\n${Array.from({ length: n }, (_, i) => `${i + 1} ${body(i + 1).length}`).join('\r\n')}\r\n.\r\n`);
          break;
        case 'RETR':
          waiting.push(Number(arg));
          if (waiting.length >= 3) answer();
          else timer ??= setTimeout(answer, 150);
          break;
        case 'QUIT':
          socket.end('+OK bye\r\n');
          break;
        default:
          socket.write('+OK\r\n');
      }
    }
  });
  return { started, commands, retrsWaitingAtFirstAnswer, body };
}

describe('POP3 poll against scripted servers', () => {
  it('reads replies and the terminator split across packets byte by byte', async () => {
    const fake = await server({ split: true });
    try {
      const k = sink();
      await run(access(fake.port), settings(), k);
      assert.ok(k.stored.get('uid-1')?.equals(message));
    } finally {
      await fake.close();
    }
  });

  it('times out a slow server with FETCH_TIMEOUT', async () => {
    const fake = await server({ delayMs: 3_000 });
    try {
      await assert.rejects(
        run(access(fake.port, { connectTimeoutMs: 10_000 }), settings({ fetchTimeoutMs: 1_000 }), sink()),
        (e: unknown) => e instanceof MailboxError && (e.failure === 'FETCH_TIMEOUT' || e.failure === 'CONNECT_TIMEOUT'),
      );
    } finally {
      await fake.close();
    }
  });

  it('rejects malformed replies and a server without UIDL with clear errors', async () => {
    const garbage = await server({ garbage: true });
    const noUidl = await server({ uidl: '-ERR not supported\r\n' });
    try {
      await assert.rejects(run(access(garbage.port), settings(), sink()), /malformed UIDL line/);
      await assert.rejects(run(access(noUidl.port), settings(), sink()), (e: unknown) => e instanceof MailboxError && e.failure === 'UIDL_UNSUPPORTED');
    } finally {
      await garbage.close();
      await noUidl.close();
    }
  });

  it('says UTF8 before logging in where the server offers it (RFC 6856), and not where it does not', async () => {
    for (const [caps, expected] of [
      [['UTF8 USER'], true],
      [[], false],
    ] as const) {
      const s = recordingServer([...caps], 1);
      const fake = await s.started;
      try {
        await run(access(fake.port), settings(), sink());
        const utf8 = s.commands.indexOf('UTF8');
        assert.equal(utf8 >= 0, expected, `UTF8 sent with CAPA ${JSON.stringify(caps)}: ${s.commands.join(' ')}`);
        if (expected) assert.ok(utf8 < s.commands.indexOf('USER'), 'UTF8 comes before the login');
      } finally {
        await fake.close();
      }
    }
  });

  it('pipelines RETR where the server advertises PIPELINING, and asks one at a time where not', async () => {
    for (const [caps, ahead] of [
      [['PIPELINING'], 3],
      [[], 1],
    ] as const) {
      const s = recordingServer([...caps], 6);
      const fake = await s.started;
      try {
        const k = sink();
        const res = await run(access(fake.port), settings(), k);
        assert.equal(res.stored, 6);
        for (let i = 1; i <= 6; i++) assert.ok(k.stored.get(`u${i}`)?.equals(s.body(i)), `message ${i} byte-exact`);
        assert.equal(s.retrsWaitingAtFirstAnswer[0], ahead, `RETRs on the wire at the first answer with CAPA ${JSON.stringify(caps)}`);
      } finally {
        await fake.close();
      }
    }
  });

  it('logs in with XOAUTH2 where only that is offered, and answers a refusal\'s challenge before reading -ERR', async () => {
    const seen: string[] = [];
    const fake = await scriptedServer(async (socket, lines) => {
      socket.write('+OK ready\r\n');
      let refusing = false;
      for await (const line of lines) {
        seen.push(line);
        const [cmd, mech, payload] = line.split(' ');
        if (refusing) {
          refusing = false;
          socket.write(line === '' ? '-ERR [AUTH] Authentication failed.\r\n' : '-ERR protocol: expected an empty answer\r\n');
        } else if (cmd === 'CAPA') socket.write('+OK\r\nUIDL\r\nSASL PLAIN XOAUTH2\r\n.\r\n');
        else if (cmd === 'AUTH' && mech === 'XOAUTH2') {
          const decoded = Buffer.from(payload ?? '', 'base64').toString('utf8');
          if (decoded === 'user=user\x01auth=Bearer good-token\x01\x01') socket.write('+OK logged in\r\n');
          else {
            refusing = true;
            socket.write(`+ ${Buffer.from('{"status":"401","schemes":"bearer","scope":"mail"}').toString('base64')}\r\n`);
          }
        } else if (cmd === 'UIDL') socket.write('+OK\r\n.\r\n');
        else if (cmd === 'QUIT') socket.write('+OK bye\r\n');
        else socket.write('-ERR unknown\r\n');
      }
    });
    try {
      const oauth = (token: string) => access(fake.port, { login: { kind: 'OAUTH2', accessToken: new Secret(token) } });
      assert.equal((await run(oauth('good-token'), settings(), sink())).stored, 0);
      await assert.rejects(run(oauth('stale-token'), settings(), sink()), (e: unknown) => e instanceof MailboxError && e.failure === 'AUTH_FAILED' && /access token refused: \[AUTH\]/.test(e.message) && !e.message.includes('stale-token'));
      assert.ok(seen.includes(''), 'the challenge was answered with an empty line');
      assert.ok(!seen.some((l) => l.startsWith('USER') || l.startsWith('AUTH PLAIN')), 'no password login tried');
    } finally {
      await fake.close();
    }
  });

  it('refuses an OAuth2 login where the server offers no OAuth2 mechanism, without sending the token', async () => {
    const seen: string[] = [];
    const fake = await scriptedServer(async (socket, lines) => {
      socket.write('+OK ready\r\n');
      for await (const line of lines) {
        seen.push(line);
        socket.write(line === 'CAPA' ? '+OK\r\nUSER\r\nSASL PLAIN\r\n.\r\n' : '+OK\r\n');
      }
    });
    try {
      await assert.rejects(
        run(access(fake.port, { login: { kind: 'OAUTH2', accessToken: new Secret('tok') } }), settings(), sink()),
        (e: unknown) => e instanceof MailboxError && e.failure === 'AUTH_FAILED' && /neither SASL OAUTHBEARER nor XOAUTH2/.test(e.message),
      );
      assert.deepEqual(seen.filter((l) => l !== 'CAPA' && l !== 'QUIT'), []);
    } finally {
      await fake.close();
    }
  });

  it('closes a connection that opens after its run was stopped, without logging in', async () => {
    const seen: string[] = [];
    let closed!: () => void;
    const gone = new Promise<void>((resolve) => (closed = resolve));
    const fake = await scriptedServer(async (socket, lines) => {
      socket.on('close', () => closed());
      socket.write('+OK ready\r\n');
      for await (const line of lines) {
        seen.push(line);
        socket.write(line === 'CAPA' ? '+OK\r\nUSER\r\nUIDL\r\n.\r\n' : '+OK\r\n');
      }
    });
    try {
      const stop = new AbortController();
      const running = pollPop3(access(fake.port), settings(), { oversize: new Set() }, async () => new Set(), sink(), () => undefined, stop.signal);
      // Stopped while the TCP connection is still being opened.
      stop.abort(new Error('connector stopped'));
      await assert.rejects(running, /connector stopped/);
      const closedInTime = await Promise.race([gone.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 5_000))]);
      assert.ok(closedInTime, `the connection stayed open after the stop: ${seen.join(' ')}`);
      assert.ok(!seen.some((l) => l.startsWith('USER') || l.startsWith('PASS')), `no login after the stop: ${seen.join(' ')}`);
    } finally {
      await fake.close();
    }
  });
});
