// Issue #10.1: a transfer that breaks off must never be stored as a complete email, and
// nothing may be marked, deleted or moved that storage did not commit whole. A proxy in
// front of the real Dovecot cuts or stalls the server's stream at byte offsets inside a
// message, over IMAP and POP3, plain and TLS; the fetcher's own sink writes into the real
// storage service. After each broken run the next clean run stores everything once.
import { strict as assert } from 'node:assert';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InProcessBus } from '@postbote/bus';
import { imapPart, resolveCreate, type Security, type Strategy } from '@postbote/connector-model';
import { Secret } from '@postbote/crypto';
import { StorageSink, type FetchConnector } from '@postbote/fetcher';
import { pollImap } from '@postbote/imap';
import { CapturedLog, createLogger } from '@postbote/logging';
import { MailboxError, type RunLog, type ServerAccess } from '@postbote/mailbox';
import { startStorageService, type RunningStorageService } from '@postbote/storage';
import { pollPop3 } from '@postbote/pop3';
import { StorageServiceClient } from '@postbote/proto';
import { call, connect } from '@postbote/grpc-runtime';
import { AS_FETCHER, DOVECOT, TEST_SECURITY, TEST_TOKENS, asRole, cuttingProxy, dovecotUser, mailboxAs, seedInbox, tempDir, type MailUser, type ProxyPlan } from '@postbote/testing';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const quiet: RunLog = () => undefined;

/** A realistic message (about 300 KB by default): text plus a base64 attachment in 76-column lines. */
function bigMail(id: string, attachmentBytes = 220_000): Buffer {
  const att = randomBytes(attachmentBytes).toString('base64').replace(/.{76}/g, '$&\r\n');
  return Buffer.from(
    `From: a@example.test\r\nTo: b@example.test\r\nMessage-ID: <${id}@example.test>\r\nSubject: ${id}\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee attachment\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n${att}\r\n--b--\r\n`,
    'latin1',
  );
}
const smallMail = (id: string) => Buffer.from(`From: a@example.test\r\nMessage-ID: <${id}@example.test>\r\nSubject: ${id}\r\n\r\nsmall\r\n`, 'latin1');

/** Seeds small, big, small; returns the server's copies (IMAP BODY[]) in order. */
async function seed(user: MailUser, tag: string, bigBytes?: number): Promise<Buffer[]> {
  return seedMessages(user, [smallMail(`${tag}-1`), bigMail(`${tag}-2`, bigBytes), smallMail(`${tag}-3`)]);
}

const seedMessages = (user: MailUser, messages: Buffer[]) => seedInbox(user, messages, ['Done']);

/** INBOX as "subject:seen" lines, and the subjects in Done. */
async function serverState(user: MailUser): Promise<{ inbox: string[]; done: string[] }> {
  const c = await mailboxAs(user);
  try {
    const list = async (box: string) => {
      const info = await c.mailboxOpen(box, { readOnly: true });
      if (info.exists === 0) return [];
      const out: string[] = [];
      for await (const m of c.fetch('1:*', { envelope: true, flags: true })) out.push(`${m.envelope?.subject}:${m.flags?.has('\\Seen') ? 'seen' : 'unseen'}`);
      return out;
    };
    return { inbox: await list('INBOX'), done: await list('Done') };
  } finally {
    await c.logout();
  }
}

describe('cut and stalled transfers store nothing partial (real Dovecot, real storage)', () => {
  const dir = tempDir('pb-cut-');
  const bus = new InProcessBus();
  let storage: RunningStorageService;
  let client: StorageServiceClient;
  let reader: StorageServiceClient;
  const db = { kind: 'sqlite' as const, file: join(dir, 'postbote.sqlite') };

  before(async () => {
    storage = await startStorageService(
      { address: '127.0.0.1:0', publicAddress: undefined, database: db, spoolDir: join(dir, 'spool'), maxMessageBytes: 100 * 1024 * 1024, purgeIntervalSeconds: 3600, purgeBatchSize: 100, logRetentionDays: 30, dedupeExtraDays: 365, parseWorkers: 1, security: TEST_SECURITY, configAddress: '127.0.0.1:1' },
      { bus, tokens: TEST_TOKENS, logger: createLogger({ service: 'storage', level: 'silent', destination: new CapturedLog() }) },
    );
    client = connect(StorageServiceClient, storage.address, AS_FETCHER);
    reader = connect(StorageServiceClient, storage.address, asRole('viewer'));
  });
  after(async () => {
    client.close();
    reader.close();
    await storage.stop();
    await bus.close();
  });

  function connector(id: string, protocol: 'IMAP' | 'POP3', strategy: Strategy): FetchConnector {
    const { settings } = resolveCreate({
      name: `c-${id.slice(0, 8)}`,
      protocol,
      host: '127.0.0.1',
      username: 'u',
      password: new Secret('p'),
      workflowId: 'wf',
      ...(protocol === 'IMAP' ? { strategy, moveTo: strategy === 'MOVE' ? 'Done' : undefined } : {}),
    });
    return { id, workspace: 'default', revision: 1, settings };
  }

  /** The emails storage holds for a connector, as SHA-256s. */
  async function storedHashes(connectorId: string): Promise<string[]> {
    const page = await call(reader.listEmails, reader, { connectorId, pageSize: 100, pageToken: '', since: undefined, until: undefined, from: '', subject: '', messageId: '' });
    return page.emails.map((e) => e.sha256).sort();
  }

  async function runOnce(protocol: 'IMAP' | 'POP3', user: MailUser, conn: FetchConnector, port: number, security: Security, fetchTimeoutMs: number) {
    const access: ServerAccess = { host: '127.0.0.1', port, security, trustedCaPem: DOVECOT.caPem(), username: user.username, login: { kind: 'PASSWORD', password: new Secret(user.password) }, connectTimeoutMs: 5_000 };
    await storage.connectors.upserted({ id: conn.id, workspace: 'default', name: conn.settings.name, workflowId: conn.settings.workflowId, reprocess: false, retentionDays: 30 }, new Date());
    const sink = new StorageSink({ storage: client, now: () => new Date() }, conn, 60_000);
    const memory = { oversize: new Set<string>() };
    const signal = new AbortController().signal;
    try {
      const s = conn.settings;
      const result =
        protocol === 'IMAP'
          ? await pollImap(access, { ...imapPart(s), batchSize: 50, reprocess: false, fetchTimeoutMs, maxMessageBytes: 50 * 1024 * 1024 }, memory, sink, quiet, signal)
          : await pollPop3(
              access,
              { batchSize: 50, fetchTimeoutMs, maxMessageBytes: 50 * 1024 * 1024 },
              memory,
              async (uidls) => new Set((await call(client.findStoredSources, client, { connectorId: conn.id, pop3Uidls: uidls })).knownPop3Uidls),
              sink,
              quiet,
              signal,
            );
      await sink.close();
      return result;
    } catch (err) {
      sink.cancel();
      throw err;
    }
  }

  async function breakThenRecover(protocol: 'IMAP' | 'POP3', security: Security, strategy: Strategy, plan: (total: number) => ProxyPlan, bigBytes?: number) {
    const port = protocol === 'IMAP' ? (security === 'SSL' ? DOVECOT.imaps : DOVECOT.imap) : security === 'SSL' ? DOVECOT.pop3s : DOVECOT.pop3;
    // Dry run on a twin mailbox to learn how many bytes a whole run moves.
    const twin = dovecotUser('twin');
    await seed(twin, 'twin', bigBytes);
    const counter = await cuttingProxy(port);
    await runOnce(protocol, twin, connector(randomUUID(), protocol, strategy), counter.port, security, 20_000);
    const total = counter.forwarded();
    await counter.close();

    const user = dovecotUser('cut');
    const onServer = await seed(user, 'cut', bigBytes);
    const conn = connector(randomUUID(), protocol, strategy);
    const proxy = await cuttingProxy(port, plan(total));
    const p = plan(total);
    try {
      await assert.rejects(runOnce(protocol, user, conn, proxy.port, security, p.stallAfter ? 2_000 : 20_000), (e: unknown) => {
        assert.ok(e instanceof MailboxError, `a mailbox failure, got ${String(e)}`);
        if (p.stallAfter) assert.equal(e.failure, 'FETCH_TIMEOUT');
        return true;
      });
    } finally {
      await proxy.close();
    }
    // Nothing partial: whatever was stored is one of the server's messages, whole.
    const afterBreak = await storedHashes(conn.id);
    const whole = new Set(onServer.map(sha));
    assert.ok(afterBreak.every((h) => whole.has(h)), 'a stored email differs from every message on the server');
    if (protocol === 'IMAP') {
      // Nothing post-processed that storage did not commit: the big message is untouched.
      const state = await serverState(user);
      assert.ok(state.inbox.includes('cut-2:unseen'), `the cut message must stay unseen in INBOX: ${JSON.stringify(state)}`);
    }
    // The next clean run stores everything exactly once.
    await runOnce(protocol, user, conn, port, security, 20_000);
    assert.deepEqual(await storedHashes(conn.id), [...whole].sort());
    await runOnce(protocol, user, conn, port, security, 20_000);
    assert.deepEqual(await storedHashes(conn.id), [...whole].sort(), 'a further run adds nothing');
    if (protocol === 'IMAP') {
      const state = await serverState(user);
      const expected =
        strategy === 'MARK_READ'
          ? { inbox: ['cut-1:seen', 'cut-2:seen', 'cut-3:seen'], done: [] }
          : strategy === 'DELETE'
            ? { inbox: [], done: [] }
            : { inbox: [], done: ['cut-1:unseen', 'cut-2:unseen', 'cut-3:unseen'] };
      assert.deepEqual(state, expected);
    }
  }

  for (const security of ['NONE', 'SSL'] as const) {
    for (const strategy of ['MARK_READ', 'DELETE', 'MOVE'] as const) {
      for (const at of [0.3, 0.9]) {
        it(`IMAP ${security === 'SSL' ? 'TLS' : 'plain'}, ${strategy}: cut at ${at * 100}% of the transfer`, () => breakThenRecover('IMAP', security, strategy, (t) => ({ cutAfter: Math.floor(t * at) })));
      }
    }
    it(`IMAP ${security === 'SSL' ? 'TLS' : 'plain'}, DELETE: a 3 MB message fetched in pieces, cut at 60%`, () =>
      breakThenRecover('IMAP', security, 'DELETE', (t) => ({ cutAfter: Math.floor(t * 0.6) }), 2_300_000),
    );
    it(`IMAP ${security === 'SSL' ? 'TLS' : 'plain'}: stalled mid-message until the fetch timeout`, () => breakThenRecover('IMAP', security, 'DELETE', (t) => ({ stallAfter: Math.floor(t * 0.5) })));
    for (const at of [0.3, 0.9]) {
      it(`POP3 ${security === 'SSL' ? 'TLS' : 'plain'}: cut at ${at * 100}% of the transfer`, () => breakThenRecover('POP3', security, 'MARK_READ', (t) => ({ cutAfter: Math.floor(t * at) })));
    }
    it(`POP3 ${security === 'SSL' ? 'TLS' : 'plain'}: stalled mid-message until the fetch timeout`, () => breakThenRecover('POP3', security, 'MARK_READ', (t) => ({ stallAfter: Math.floor(t * 0.5) })));
  }

  for (const protocol of ['IMAP', 'POP3'] as const) {
    it(`${protocol}: lines of 70 KB and 1 MB arrive byte-exact and are stored once`, async () => {
      const user = dovecotUser('long');
      const line = (n: number, ch: string) => ch.repeat(n);
      const onServer = await seedMessages(user, [
        Buffer.from(`From: a@example.test\r\nMessage-ID: <l70@example.test>\r\nSubject: l70\r\n\r\n${line(70_000, 'a')}\r\n.${line(100_000, 'b')}\r\n`, 'latin1'),
        Buffer.from(`From: a@example.test\r\nMessage-ID: <l1m@example.test>\r\nSubject: l1m\r\n\r\n${line(1024 * 1024, 'c')}\r\n`, 'latin1'),
      ]);
      const conn = connector(randomUUID(), protocol, 'MARK_READ');
      const port = protocol === 'IMAP' ? DOVECOT.imaps : DOVECOT.pop3s;
      const res = await runOnce(protocol, user, conn, port, 'SSL', 20_000);
      assert.equal(res.stored, 2);
      assert.deepEqual(await storedHashes(conn.id), onServer.map(sha).sort());
      assert.equal((await runOnce(protocol, user, conn, port, 'SSL', 20_000)).stored, 0);
    });
  }
});
