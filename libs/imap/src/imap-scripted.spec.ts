import { strict as assert } from 'node:assert';
import type { Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { Secret } from '@postbote/crypto';
import { MailboxError, type IncomingMessage, type RunLogLevel, type RunMemory, type ServerAccess, type StoreOutcome } from '@postbote/mailbox';
import { scriptedServer } from '@postbote/testing';
import { pollImap, type ImapRunSettings } from './poll-imap';

// IMAP against scripted servers on loopback: what a real server will not do on cue (stay
// silent, stall mid-FETCH). Fast tier: no outside server.

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
const settings = (over: Partial<ImapRunSettings> = {}): ImapRunSettings => ({ folder: 'INBOX', strategy: 'MARK_READ', moveTo: null, batchSize: 50, reprocess: false, fetchTimeoutMs: 20_000, maxMessageBytes: 50 * 1024 * 1024, push: false, ...over });
const sink = {
  put: async (m: IncomingMessage) => {
    if (!(m.content instanceof Uint8Array)) for await (const _ of m.content) void _;
    return { outcome: Promise.resolve<StoreOutcome>({ kind: 'stored' }) };
  },
};
const run = (a: ServerAccess, s: ImapRunSettings) => pollImap(a, s, { oversize: new Set() }, sink, (_l: RunLogLevel) => undefined, new AbortController().signal);

/**
 * A minimal IMAP server for one mailbox of `exists` messages: enough for a poll to log in,
 * find INBOX and select it. `extra` answers what it chooses to (returns true), e.g. to stall.
 */
function minimalImap(exists: number, extra: (tag: string, c: string, line: string, socket: Socket) => boolean = () => false, onLogout: () => void = () => undefined) {
  return scriptedServer(async (socket, lines) => {
    socket.write('* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n');
    for await (const line of lines) {
      const [tag = '', cmd] = line.split(' ');
      const c = (cmd ?? '').toUpperCase();
      if (extra(tag, c, line, socket)) continue;
      if (c === 'CAPABILITY') socket.write(`* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n${tag} OK\r\n`);
      else if (c === 'LOGIN' || c === 'AUTHENTICATE') socket.write(`${tag} OK logged in\r\n`);
      else if (c === 'NAMESPACE') socket.write(`* NAMESPACE (("" "/")) NIL NIL\r\n${tag} OK\r\n`);
      else if (c === 'LIST') socket.write(`* LIST () "/" INBOX\r\n${tag} OK\r\n`);
      else if (c === 'SELECT' || c === 'EXAMINE') socket.write(`* ${exists} EXISTS\r\n* OK [UIDVALIDITY 7] x\r\n* OK [UIDNEXT ${exists + 1}] x\r\n${tag} OK [READ-WRITE] selected\r\n`);
      else if (c === 'LOGOUT') {
        onLogout();
        socket.end(`* BYE\r\n${tag} OK\r\n`);
      } else socket.write(`${tag} OK\r\n`);
    }
  });
}

describe('IMAP poll against servers that stall', () => {
  const servers: Array<{ close(): Promise<void> }> = [];
  after(async () => Promise.all(servers.map((s) => s.close())));

  it('times out a server that accepts and never greets (connection timeout)', async () => {
    const silent = await scriptedServer(() => undefined);
    servers.push(silent);
    const started = Date.now();
    await assert.rejects(
      run(access(silent.port, { connectTimeoutMs: 1_500 }), settings()),
      (e: unknown) => e instanceof MailboxError && e.failure === 'CONNECT_TIMEOUT' && /1500 ms/.test(e.message),
    );
    assert.ok(Date.now() - started < 10_000);
  });

  it('times out a server that stalls mid-FETCH (fetch timeout)', async () => {
    const staller = await minimalImap(1, (tag, c, line, socket) => {
      if (c === 'UID' && /SEARCH/i.test(line)) socket.write(`* SEARCH 1\r\n${tag} OK\r\n`);
      // UID FETCH: stall, never answer
      return c === 'UID';
    });
    servers.push(staller);
    await assert.rejects(
      run(access(staller.port), settings({ fetchTimeoutMs: 1_500 })),
      (e: unknown) => e instanceof MailboxError && e.failure === 'FETCH_TIMEOUT' && /1500 ms/.test(e.message),
    );
  });

  it('polls instead of pushing when the server offers no IDLE, saying so once', async () => {
    let logouts = 0;
    const noIdle = await minimalImap(0, undefined, () => void logouts++);
    servers.push(noIdle);
    const logs: string[] = [];
    const memory: RunMemory = { oversize: new Set(), wake: () => undefined };
    for (let i = 0; i < 2; i++) await pollImap(access(noIdle.port), settings({ push: true }), memory, sink, (_l: RunLogLevel, code: string) => void logs.push(code), new AbortController().signal);
    assert.equal(memory.session, undefined, 'nothing kept');
    assert.deepEqual(logs.filter((c) => c === 'PUSH_UNAVAILABLE'), ['PUSH_UNAVAILABLE'], 'said once');
    assert.equal(logouts, 2, 'each run logged out');
  });
});

