import { strict as assert } from 'node:assert';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { InProcessBus, TOPICS } from '@postbote/bus';
import { NotFoundError, InternalError, PreconditionError } from '@postbote/errors';
import { call, connect, fromGrpcError } from '@postbote/grpc-runtime';
import { CapturedLog, createLogger } from '@postbote/logging';
import { ConnectorChanged, ConnectorChanged_Kind, EmailReceived, LogLevel, StorageServiceClient, WorkspaceChanged, WorkspaceChanged_Kind, type SourceCoordinates, type StoredEmail } from '@postbote/proto';
import { AS_FETCHER, TEST_DATABASES, TEST_TOKENS, asRole, eventually, type TestDatabase } from '@postbote/testing';
import { DataSource } from 'typeorm';
import { startStorageService, type RunningStorageService } from './storage-service';
import { storeOne } from '@postbote/service-clients';
import { CORPUS } from './testdata/corpus';
import { downloadRaw, testServiceConfig } from './testdata/storage-service.fixture';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const DAY = 86_400_000;

interface Target {
  readonly connectorId: string;
  /** The connector's workspace (default: `default`). */
  readonly workspace?: string;
  /** What storage knows of the connector (from the connectors topic). */
  readonly known: { readonly name: string; readonly workflowId: string; readonly reprocess: boolean };
  readonly source: SourceCoordinates | undefined;
  readonly occurrence: string;
  readonly announcedSize?: number;
}

interface Extra {
  readonly reprocess?: boolean;
  readonly occurrence?: string;
  readonly announcedSize?: number;
}

function pop3(connectorId: string, uidl: string, extra: Extra = {}): Target {
  return { connectorId, known: { name: 'pop', workflowId: 'wf-pop', reprocess: extra.reprocess ?? false }, source: { source: { $case: 'pop3', value: { uidl } } }, occurrence: extra.occurrence ?? '', announcedSize: extra.announcedSize };
}

function imap(connectorId: string, uid: number, extra: Extra = {}): Target {
  return {
    connectorId,
    known: { name: 'imap', workflowId: 'wf-imap', reprocess: extra.reprocess ?? false },
    source: { source: { $case: 'imap', value: { folder: 'INBOX/Sub', uidValidity: 42, uid } } },
    occurrence: extra.occurrence ?? '',
  };
}

/** Stores one complete email on a stream of its own; a refusal becomes an error naming its code. */
async function store(client: StorageServiceClient, t: Target, bytes: Buffer): Promise<StoredEmail> {
  await knowConnector(t);
  const ack = await storeOne(client, { connectorId: t.connectorId }, { source: t.source!, occurrence: t.occurrence, receivedAt: new Date(), announcedSize: t.announcedSize, content: bytes });
  if ('refused' in ack) throw new Error(`refused ${ack.refused.code}: ${ack.refused.message}`);
  return ack.stored;
}

/** Storage learns connectors from the connectors topic; these tests tell it directly. */
let knowConnector: (t: Target) => Promise<void> = async () => undefined;

function mail(id: string, body = 'hello'): Buffer {
  return Buffer.from(`From: a@example.test\r\nTo: b@example.test\r\nMessage-ID: <${id}@example.test>\r\nDate: Mon, 2 Nov 2026 10:00:00 +0000\r\nSubject: ${id}\r\n\r\n${body}\r\n`, 'latin1');
}

for (const [label, makeDb] of TEST_DATABASES) {
  describe(`storage service on ${label}`, () => {
    let db: TestDatabase;
    let svc: RunningStorageService;
    /** StoreEmails, FindStoredSources and AppendConnectorLog: the fetcher's calls. */
    let client: InstanceType<typeof StorageServiceClient>;
    /** Reads: a person's calls. */
    let reader: InstanceType<typeof StorageServiceClient>;
    let clock = Date.parse('2026-11-01T00:00:00Z');
    const bus = new InProcessBus();
    const log = new CapturedLog();

    const download = (emailId: string) => downloadRaw(reader, emailId);
    const rawDs = async () => {
      const ds = new DataSource(db.config.kind === 'sqlite' ? { type: 'better-sqlite3', database: db.config.file } : { type: 'mysql', url: db.config.url });
      await ds.initialize();
      return ds;
    };
    const count = async (sql: string, params: unknown[] = []) => {
      const ds = await rawDs();
      try {
        const [row] = (await ds.query(sql, params)) as Array<{ n: number | string }>;
        return Number(row?.n ?? 0);
      } finally {
        await ds.destroy();
      }
    };
    const announce = async (connectorId: string, retentionDays: number) => {
      await bus.publish(TOPICS.connectors, [
        {
          key: connectorId,
          headers: {},
          value: ConnectorChanged.encode(
            ConnectorChanged.fromPartial({ eventId: randomUUID(), kind: ConnectorChanged_Kind.UPSERTED, connectorId, connector: { id: connectorId, name: `c-${connectorId.slice(0, 4)}`, workflowId: 'wf-pop', retentionDays } }),
          ).finish(),
        },
      ]);
    };

    before(async () => {
      db = await makeDb();
      svc = await startStorageService(
        testServiceConfig(db.config, { purgeBatchSize: 7 }),
        { bus, tokens: TEST_TOKENS, logger: createLogger({ service: 'storage', level: 'info', destination: log }), now: () => new Date(clock) },
      );
      client = connect(StorageServiceClient, svc.address, AS_FETCHER, { 'grpc.max_receive_message_length': 8 * 1024 * 1024 });
      reader = connect(StorageServiceClient, svc.address, asRole('viewer'), { 'grpc.max_receive_message_length': 8 * 1024 * 1024 });
      const retention = new Map<string, number>();
      knowConnector = async (t) => {
        const existing = (await svc.connectors.all()).find((r) => r.connectorId === t.connectorId);
        retention.set(t.connectorId, existing?.retentionDays ?? 30);
        await svc.connectors.upserted({ id: t.connectorId, workspace: t.workspace ?? 'default', ...t.known, retentionDays: retention.get(t.connectorId) ?? 30 }, new Date(clock));
      };
    });

    after(async () => {
      client.close();
      reader.close();
      await svc.stop();
      await bus.close();
      await db.drop();
    });

    const roundTrips: Array<[string, () => Buffer]> = [
      ['7-bit', () => mail('seven')],
      ['8-bit', () => Buffer.concat([mail('eight').subarray(0, 60), Buffer.from([0xe4, 0xf6, 0xfc, 0xdf, 0x0d, 0x0a, 0x80, 0xff])])],
      ['binary (NUL, lone CR/LF, all byte values)', () => Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(3000)])],
      ['50 MB', () => Buffer.concat([mail('big', ''), randomBytes(50 * 1024 * 1024)])],
    ];
    for (const [name, make] of roundTrips) {
      it(`round-trips ${name} byte for byte`, async () => {
        const bytes = make();
        const connectorId = randomUUID();
        const res = await store(client, pop3(connectorId, `u-${name}`, { announcedSize: bytes.length }), bytes);
        assert.equal(res.duplicate, false);
        assert.equal(res.size, bytes.length);
        assert.equal(res.sha256, sha(bytes));
        const back = await download(res.emailId);
        assert.equal(back.length, bytes.length);
        assert.ok(back.equals(bytes), 'downloaded bytes differ');
      });
    }

    it('keeps one row for a retried store and answers duplicate', async () => {
      const c = randomUUID();
      const first = await store(client, imap(c, 1), mail('dup'));
      const again = await store(client, imap(c, 1), mail('dup'));
      assert.equal(again.duplicate, true);
      assert.equal(again.emailId, first.emailId);
      assert.equal(again.eventId, first.eventId);
      assert.equal(await count('SELECT COUNT(*) AS n FROM emails WHERE connector_id = ?', [c]), 1);
      assert.equal(await count('SELECT COUNT(*) AS n FROM trigger_outbox WHERE connector_id = ?', [c]), 1);
    });

    it('turns 12 concurrent stores of one message into one row and one outbox entry', async () => {
      const c = randomUUID();
      const results = await Promise.all(Array.from({ length: 12 }, () => store(client, imap(c, 7), mail('race', 'x'.repeat(200_000)))));
      assert.equal(new Set(results.map((r) => r.emailId)).size, 1);
      assert.equal(results.filter((r) => !r.duplicate).length, 1);
      assert.equal(await count('SELECT COUNT(*) AS n FROM emails WHERE connector_id = ?', [c]), 1);
      assert.equal(await count('SELECT COUNT(*) AS n FROM trigger_outbox WHERE connector_id = ?', [c]), 1);
      assert.equal(await count('SELECT COUNT(*) AS n FROM email_chunks c LEFT JOIN emails e ON e.id = c.email_id WHERE e.id IS NULL'), 0);
    });

    it('writes a large email\'s chunks once: concurrent, repeated and moved copies leave none behind', async () => {
      const c = randomUUID();
      const big = mail('large-ahead', 'z'.repeat(5 * 1024 * 1024)); // over 4 MiB: chunks written ahead
      const orphans = 'SELECT COUNT(*) AS n FROM email_chunks c LEFT JOIN emails e ON e.id = c.email_id WHERE e.id IS NULL';
      const results = await Promise.all(Array.from({ length: 6 }, () => store(client, imap(c, 9), big)));
      assert.equal(new Set(results.map((r) => r.emailId)).size, 1);
      assert.equal(results.filter((r) => !r.duplicate).length, 1);
      const id = results[0]!.emailId;
      assert.equal(await count('SELECT COUNT(*) AS n FROM email_chunks WHERE email_id = ?', [id]), 6);
      assert.equal(await count(orphans), 0, 'the concurrent copies\' chunks are deleted with their duplicate answer');
      // The same coordinates again: known before any chunk is written; new coordinates: found
      // by content in the group's transaction, which deletes the chunks written ahead.
      assert.equal((await store(client, imap(c, 9), big)).emailId, id);
      assert.equal((await store(client, imap(c, 10), big)).emailId, id);
      assert.equal(await count(orphans), 0);
      assert.equal(await count('SELECT COUNT(*) AS n FROM emails WHERE connector_id = ?', [c]), 1);
      assert.ok((await download(id)).equals(big));
    });

    it('sweeps chunks no email row names once they are a day old, and no others', async () => {
      const c = randomUUID();
      const t0 = Date.parse('2026-11-20T00:00:00Z');
      clock = t0;
      const old = await store(client, pop3(c, 'orphan-old'), mail('orphan-old', 'o'.repeat(5 * 1024 * 1024)));
      clock = t0 + DAY - 60_000;
      const young = await store(client, pop3(c, 'orphan-young'), mail('orphan-young', 'y'.repeat(5 * 1024 * 1024)));
      const kept = await store(client, pop3(c, 'kept'), mail('kept', 'k'.repeat(5 * 1024 * 1024)));
      // What a crash between the chunks written ahead and the group's commit leaves behind.
      const ds = await rawDs();
      try {
        await ds.query('DELETE FROM emails WHERE id IN (?, ?)', [old.emailId, young.emailId]);
      } finally {
        await ds.destroy();
      }
      clock = t0 + DAY + 1000;
      const report = await svc.retention.runOnce(new Date(clock));
      assert.equal(report.orphanChunks, 1);
      assert.equal(await count('SELECT COUNT(*) AS n FROM email_chunks WHERE email_id = ?', [old.emailId]), 0);
      assert.equal(await count('SELECT COUNT(*) AS n FROM email_chunks WHERE email_id = ?', [young.emailId]), 6);
      assert.ok((await download(kept.emailId)).equals(mail('kept', 'k'.repeat(5 * 1024 * 1024))));
      clock = Date.parse('2026-11-01T00:00:00Z');
    });

    it('recognises known content under new coordinates unless reprocess is on', async () => {
      const c = randomUUID();
      const first = await store(client, pop3(c, 'uidl-1'), mail('same'));
      const moved = await store(client, pop3(c, 'uidl-2'), mail('same'));
      assert.equal(moved.duplicate, true);
      assert.equal(moved.emailId, first.emailId);
      const reprocessed = await store(client, pop3(c, 'uidl-3', { reprocess: true }), mail('same'));
      assert.equal(reprocessed.duplicate, false);
      const sameOccurrence = await store(client, pop3(c, 'uidl-3', { reprocess: true }), mail('same'));
      assert.equal(sameOccurrence.duplicate, true, 'a retry of the reprocessing store is still a duplicate');
      const newOccurrence = await store(client, pop3(c, 'uidl-3', { reprocess: true, occurrence: '2' }), mail('same'));
      assert.equal(newOccurrence.duplicate, false);
      assert.equal(await count('SELECT COUNT(*) AS n FROM emails WHERE connector_id = ?', [c]), 3);
    });

    it('stores every malformed message raw, with parse problems noted, without crashing', async () => {
      const c = randomUUID();
      let uid = 100;
      for (const [name, bytes] of Object.entries(CORPUS)) {
        const res = await store(client, imap(c, uid++), bytes);
        assert.equal(res.duplicate, false, name);
        assert.ok((await download(res.emailId)).equals(bytes), `${name}: bytes differ`);
        const meta = await call(reader.getEmail, reader, { emailId: res.emailId });
        assert.equal(meta.sha256, sha(bytes), name);
        assert.equal(meta.eventPublishedAt, undefined, 'no trigger service here: the event waits in the outbox');
        if (['no Date', 'no Message-ID', 'garbage Date', 'no headers at all', 'empty message'].includes(name)) {
          assert.notEqual(meta.parseError, '', `${name} should note a parse problem`);
        }
      }
      // Parse problems never hold back the trigger: every message has its outbox event.
      assert.equal(await count('SELECT COUNT(*) AS n FROM trigger_outbox WHERE connector_id = ?', [c]), Object.keys(CORPUS).length);
      const byName = async (uidOf: number) => {
        const page = await call(reader.listEmails, reader, { connectorId: c, pageSize: 100, pageToken: '', since: undefined, until: undefined, from: '', subject: '', messageId: '' });
        return page.emails.find((e) => e.source?.source?.$case === 'imap' && e.source.source.value.uid === uidOf)!;
      };
      const jp = await byName(100 + Object.keys(CORPUS).indexOf('ISO-2022-JP'));
      assert.equal(jp.subject, 'テスト');
      const many = await byName(100 + Object.keys(CORPUS).indexOf('10,000 headers'));
      assert.equal(many.messageId, '<many@example.test>');
      assert.match((await byName(100 + Object.keys(CORPUS).indexOf('no Message-ID'))).parseError, /no Message-ID header/);
    });

    it('returns parsed metadata: addresses, RFC 2047 subject, previews, attachments', async () => {
      const c = randomUUID();
      const att = randomBytes(40_000);
      const bytes = Buffer.from(
        [
          'From: =?utf-8?q?J=C3=BCrgen_M=C3=BCller?= <juergen@example.test>',
          'To: a@example.test, "B" <b@example.test>',
          'Cc: c@example.test',
          'Reply-To: r@example.test',
          'Subject: =?utf-8?b?w4RyZ2VyIG1pdCBkZXIgUmVjaG51bmc=?=',
          'Message-ID: <meta@example.test>',
          'In-Reply-To: <prev@example.test>',
          'References: <a@example.test> <prev@example.test>',
          'Date: Tue, 3 Nov 2026 08:15:00 +0100',
          'MIME-Version: 1.0',
          'Content-Type: multipart/mixed; boundary="b1"',
          '',
          '--b1',
          'Content-Type: text/plain; charset=utf-8',
          '',
          'Hallo, die Rechnung anbei.',
          '--b1',
          'Content-Type: application/pdf; name="rechnung.pdf"',
          'Content-Disposition: attachment; filename="rechnung.pdf"',
          'Content-Transfer-Encoding: base64',
          '',
          att.toString('base64').replace(/.{76}/g, '$&\r\n'),
          '--b1--',
          '',
        ].join('\r\n'),
        'latin1',
      );
      const res = await store(client, imap(c, 1), bytes);
      const m = await call(reader.getEmail, reader, { emailId: res.emailId });
      assert.deepEqual(m.from, { name: 'Jürgen Müller', address: 'juergen@example.test' });
      assert.deepEqual(m.to.map((a) => a.address), ['a@example.test', 'b@example.test']);
      assert.deepEqual(m.cc.map((a) => a.address), ['c@example.test']);
      assert.deepEqual(m.replyTo.map((a) => a.address), ['r@example.test']);
      assert.equal(m.subject, 'Ärger mit der Rechnung');
      assert.equal(m.messageId, '<meta@example.test>');
      assert.equal(m.inReplyTo, '<prev@example.test>');
      assert.deepEqual(m.references, ['<a@example.test>', '<prev@example.test>']);
      assert.equal(m.date?.toISOString(), '2026-11-03T07:15:00.000Z');
      assert.match(m.textPreview, /Rechnung anbei/);
      assert.deepEqual(m.attachments, [{ fileName: 'rechnung.pdf', contentType: 'application/pdf', size: att.length, sha256: sha(att) }]);
      assert.equal(m.parseError, '');
      assert.deepEqual(m.source, { source: { $case: 'imap', value: { folder: 'INBOX/Sub', uidValidity: 42, uid: 1 } } });
    });

    it('refuses an email shorter than its server announced, or without coordinates, and stores nothing', async () => {
      const c = randomUUID();
      await assert.rejects(store(client, pop3(c, 'short', { announcedSize: 999 }), mail('short')), /refused SIZE_MISMATCH: the mail server announced 999 bytes/);
      assert.equal(await count('SELECT COUNT(*) AS n FROM emails WHERE connector_id = ?', [c]), 0);
      await assert.rejects(store(client, { ...pop3(c, 'x'), source: { source: undefined } }, mail('x')), /refused INVALID_SOURCE: begin\.source/);
    });

    it('lists by connector and time range with a cursor', async () => {
      const c = randomUUID();
      const start = clock;
      for (let i = 0; i < 5; i++) {
        clock = start + i * 1000;
        await store(client, imap(c, 1000 + i), mail(`list-${i}`));
      }
      clock = start;
      const seen: string[] = [];
      let token = '';
      do {
        const page = await call(reader.listEmails, reader, { connectorId: c, pageSize: 2, pageToken: token, since: undefined, until: undefined, from: '', subject: '', messageId: '' });
        seen.push(...page.emails.map((e) => e.subject));
        token = page.nextPageToken;
      } while (token);
      assert.deepEqual(seen, ['list-4', 'list-3', 'list-2', 'list-1', 'list-0']);
      const ranged = await call(reader.listEmails, reader, { connectorId: c, pageSize: 10, pageToken: '', since: new Date(start + 1000), until: new Date(start + 3000), from: '', subject: '', messageId: '' });
      assert.deepEqual(ranged.emails.map((e) => e.subject), ['list-2', 'list-1']);
    });

    it('searches stored emails by sender, subject and Message-ID, ignoring case, with % and _ taken literally', async () => {
      const c = randomUUID();
      const sent = (from: string, subject: string, id: string) =>
        Buffer.from(`From: ${from}\r\nTo: b@example.test\r\nMessage-ID: <${id}@example.test>\r\nSubject: ${subject}\r\n\r\nhello\r\n`, 'utf8');
      await store(client, imap(c, 1), sent('"Billing Dept" <billing@acme.test>', 'Invoice 4711', 'inv-4711'));
      await store(client, imap(c, 2), sent('alerts@monitor.test', 'Disk 100% full_now', 'alert-1'));
      await store(client, imap(c, 3), sent('alerts@monitor.test', 'Störung behoben', 'alert-2'));
      // The address appears in the To: of none; "acme" only in the sender of the first.
      const find = async (q: { from?: string; subject?: string; messageId?: string }) =>
        (await call(reader.listEmails, reader, { connectorId: c, pageSize: 10, pageToken: '', since: undefined, until: undefined, from: q.from ?? '', subject: q.subject ?? '', messageId: q.messageId ?? '' })).emails.map((e) => e.subject).sort();
      assert.deepEqual(await find({ from: 'ACME' }), ['Invoice 4711']);
      assert.deepEqual(await find({ from: 'billing dept' }), ['Invoice 4711'], 'the sender\'s name');
      assert.deepEqual(await find({ from: 'example.test' }), [], 'a recipient is not the sender');
      assert.deepEqual(await find({ from: 'alerts@' }), ['Disk 100% full_now', 'Störung behoben']);
      assert.deepEqual(await find({ subject: 'invoice' }), ['Invoice 4711']);
      assert.deepEqual(await find({ subject: '100%' }), ['Disk 100% full_now']);
      assert.deepEqual(await find({ subject: '%' }), ['Disk 100% full_now'], '% is a character, not a wildcard');
      assert.deepEqual(await find({ subject: 'l_n' }), ['Disk 100% full_now']);
      assert.deepEqual(await find({ subject: 'f_l' }), [], '_ is a character, not a wildcard');
      assert.deepEqual(await find({ messageId: '<alert-2@example.test>' }), ['Störung behoben']);
      assert.deepEqual(await find({ messageId: 'alert-2@example.test' }), ['Störung behoben'], 'without the angle brackets');
      assert.deepEqual(await find({ messageId: 'alert' }), [], 'a Message-ID is matched whole');
      assert.deepEqual(await find({ from: 'alerts', subject: 'disk' }), ['Disk 100% full_now'], 'terms combine');
      await assert.rejects(call(reader.listEmails, reader, { connectorId: c, pageSize: 10, pageToken: '', since: undefined, until: undefined, from: 'a\u0007b', subject: '', messageId: '' }), /from: must not contain control characters/);
    });

    it('refuses to hand out bytes that fail their SHA-256', async () => {
      const c = randomUUID();
      const res = await store(client, pop3(c, 'tamper'), mail('tamper'));
      const ds = await rawDs();
      await ds.query('UPDATE email_chunks SET data = ? WHERE email_id = ?', [Buffer.from('tampered'), res.emailId]);
      await ds.destroy();
      await assert.rejects(download(res.emailId), InternalError);
      await assert.rejects(download(randomUUID()), NotFoundError);
    });

    it('purges exactly the expired emails in batches while stores continue, and keeps dedupe history', async () => {
      const c = randomUUID();
      await announce(c, 2);
      await eventually(async () => (await count('SELECT COUNT(*) AS n FROM storage_connectors WHERE connector_id = ?', [c])) === 1, 5000, 'connector known');
      const t0 = Date.parse('2026-11-10T00:00:00Z');
      clock = t0;
      for (let i = 0; i < 23; i++) await store(client, pop3(c, `old-${i}`), mail(`old-${i}`));
      clock = t0 + 2 * DAY - 1000;
      for (let i = 0; i < 5; i++) await store(client, pop3(c, `young-${i}`), mail(`young-${i}`));
      clock = t0 + 2 * DAY + 1000;
      const [report] = await Promise.all([
        svc.retention.runOnce(new Date(clock)),
        (async () => {
          for (let i = 0; i < 10; i++) await store(client, pop3(c, `new-${i}`), mail(`new-${i}`));
        })(),
      ]);
      assert.equal(report.emails, 23);
      assert.equal(await count('SELECT COUNT(*) AS n FROM emails WHERE connector_id = ?', [c]), 15);
      assert.equal(await count("SELECT COUNT(*) AS n FROM emails WHERE connector_id = ? AND subject LIKE 'old-%'", [c]), 0);
      // The purged emails are still known: the server still has them, they must not trigger again.
      const again = await store(client, pop3(c, 'old-3'), mail('old-3'));
      assert.equal(again.duplicate, true);
      const entries = await call(reader.listConnectorLog, reader, { connectorId: c, minLevel: LogLevel.INFO, pageSize: 10, pageToken: '' });
      assert.match(entries.entries[0]!.message, /removed 23 email/);
      assert.equal(entries.entries[0]!.code, 'PURGED');
      clock = Date.parse('2026-11-01T00:00:00Z');
    });

    it('deletes a deleted connector\'s emails at once when asked', async () => {
      const c = randomUUID();
      await announce(c, 30);
      for (let i = 0; i < 3; i++) await store(client, pop3(c, `d-${i}`), mail(`d-${i}`));
      await bus.publish(TOPICS.connectors, [
        { key: c, headers: {}, value: ConnectorChanged.encode(ConnectorChanged.fromPartial({ eventId: randomUUID(), kind: ConnectorChanged_Kind.DELETED, connectorId: c, purgeEmailsNow: true })).finish() },
      ]);
      await eventually(async () => (await count('SELECT COUNT(*) AS n FROM storage_connectors WHERE connector_id = ? AND deleted_at IS NOT NULL', [c])) === 1, 5000, 'deletion seen');
      await svc.retention.runOnce(new Date(clock));
      assert.equal(await count('SELECT COUNT(*) AS n FROM emails WHERE connector_id = ?', [c]), 0);
      assert.equal(await count('SELECT COUNT(*) AS n FROM email_dedupe WHERE connector_id = ?', [c]), 0);
      assert.equal(await count('SELECT COUNT(*) AS n FROM storage_connectors WHERE connector_id = ?', [c]), 0);
    });

    it('pages the connector log newest first with a level filter', async () => {
      const c = randomUUID();
      await knowConnector(pop3(c, 'x'));
      const levels = [LogLevel.DEBUG, LogLevel.INFO, LogLevel.WARN, LogLevel.ERROR];
      await call(client.appendConnectorLog, client, {
        entries: Array.from({ length: 20 }, (_, i) => ({ id: '', connectorId: c, time: new Date(clock + i), level: levels[i % 4]!, code: 'RUN_FINISHED', message: `entry ${i}` })),
      });
      const all: string[] = [];
      let token = '';
      do {
        const page = await call(reader.listConnectorLog, reader, { connectorId: c, minLevel: LogLevel.WARN, pageSize: 3, pageToken: token });
        all.push(...page.entries.map((e) => e.message));
        assert.ok(page.entries.every((e) => e.level === LogLevel.WARN || e.level === LogLevel.ERROR));
        token = page.nextPageToken;
      } while (token);
      assert.deepEqual(all, [19, 18, 15, 14, 11, 10, 7, 6, 3, 2].map((i) => `entry ${i}`));
      await assert.rejects(
        call(client.appendConnectorLog, client, { entries: [{ id: '', connectorId: c, time: new Date(), level: LogLevel.INFO, code: 'bad code', message: '' }] }),
        /entries\[0\]\.code/,
      );
    });

    it('files log entries written before the connector\'s event arrived under its workspace once it does', async () => {
      const c = randomUUID();
      await call(client.appendConnectorLog, client, { entries: [{ id: '', connectorId: c, time: new Date(clock), level: LogLevel.ERROR, code: 'STORE_FAILED', message: 'first words' }] });
      const mine = connect(StorageServiceClient, svc.address, asRole('viewer', 'early'));
      try {
        const list = () => call(mine.listConnectorLog, mine, { connectorId: c, minLevel: LogLevel.DEBUG, pageSize: 10, pageToken: '' });
        assert.equal((await list()).entries.length, 0, 'nobody\'s yet');
        await knowConnector({ ...pop3(c, 'x'), workspace: 'early' });
        assert.deepEqual((await list()).entries.map((e) => e.message), ['first words']);
      } finally {
        mine.close();
      }
    });

    it('shows a workspace only its own: another\'s email, bytes, list, count and log answer as for ids that do not exist', async () => {
      const a = randomUUID();
      const b = randomUUID();
      const inA = await store(client, { ...pop3(a, 'iso'), workspace: 'acme' }, mail('iso-a'));
      const inB = await store(client, { ...pop3(b, 'iso'), workspace: 'globex' }, mail('iso-b'));
      await call(client.appendConnectorLog, client, { entries: [a, b].map((connectorId) => ({ id: '', connectorId, time: new Date(clock), level: LogLevel.INFO, code: 'RUN_FINISHED', message: connectorId })) });
      const asA = connect(StorageServiceClient, svc.address, asRole('viewer', 'acme'));
      const ingestA = connect(StorageServiceClient, svc.address, asRole('ingest', 'acme'));
      try {
        const outcome = (p: Promise<unknown>) => p.then(() => 'answered', (e: unknown) => (e instanceof Error ? `${(e as { code?: string }).code}: ${e.message.replace(/[0-9a-f-]{36}/g, 'ID')}` : String(e)));
        const missing = randomUUID();
        for (const client of [asA, ingestA]) {
          assert.equal(await outcome(call(client.getEmail, client, { emailId: inA.emailId })), 'answered');
          assert.equal(await outcome(call(client.getEmail, client, { emailId: inB.emailId })), await outcome(call(client.getEmail, client, { emailId: missing })));
        }
        assert.match(await outcome(call(asA.getEmail, asA, { emailId: inB.emailId })), /^NOT_FOUND/);
        const downloadAs = (c: StorageServiceClient, emailId: string) =>
          new Promise<void>((resolve, reject) => {
            const s = c.downloadRawEmail({ emailId });
            s.on('data', () => undefined);
            s.on('error', (e) => reject(fromGrpcError(e as Parameters<typeof fromGrpcError>[0])));
            s.on('end', () => resolve());
          });
        assert.equal(await outcome(downloadAs(asA, inB.emailId)), await outcome(downloadAs(asA, missing)));
        const list = (connectorId: string) => call(asA.listEmails, asA, { connectorId, pageSize: 10, pageToken: '', since: undefined, until: undefined, from: '', subject: '', messageId: '' });
        assert.equal((await list(a)).emails.length, 1);
        assert.deepEqual(await list(b), await list(missing));
        const count = (connectorId: string) => call(asA.countEmails, asA, { connectorId, since: [new Date(0)] });
        assert.deepEqual(await count(b), await count(missing));
        const logOf = (connectorId: string) => call(asA.listConnectorLog, asA, { connectorId, minLevel: LogLevel.DEBUG, pageSize: 10, pageToken: '' });
        assert.equal((await logOf(a)).entries.length, 1);
        assert.deepEqual(await logOf(b), await logOf(missing));
        assert.equal((await call(reader.getEmail, reader, { emailId: inA.emailId }).catch((e: unknown) => e)) instanceof NotFoundError, true, 'default\'s viewer sees neither');
      } finally {
        asA.close();
        ingestA.close();
      }
    });

    it('holds a workspace to its stored-bytes quota: new mail beyond it is refused and stays on its server; duplicates still answer; purges free room', async () => {
      const a = randomUUID();
      const usage = connect(StorageServiceClient, svc.address, asRole('viewer', 'full'));
      try {
        const first = await store(client, { ...pop3(a, 'q1'), workspace: 'full' }, mail('q1'));
        await bus.publish(TOPICS.workspaces, [
          { key: 'full', value: WorkspaceChanged.encode(WorkspaceChanged.fromPartial({ eventId: randomUUID(), kind: WorkspaceChanged_Kind.UPSERTED, workspaceId: 'full', workspace: { id: 'full', quotas: { maxStoredBytes: first.size + 10 } } })).finish(), headers: {} },
        ]);
        await eventually(async () => (await call(usage.getWorkspaceUsage, usage, {})).maxStoredBytes === first.size + 10, 5_000, 'the quota reached storage');
        assert.deepEqual({ ...(await call(usage.getWorkspaceUsage, usage, {})) }, { storedBytes: first.size, storedEmails: 1, maxStoredBytes: first.size + 10 });
        clock += 2_000; // past the one-second reading
        await assert.rejects(store(client, { ...pop3(a, 'q2'), workspace: 'full' }, mail('q2')), /refused QUOTA_EXCEEDED: workspace full has stored \d+ of its \d+ bytes; this email stays on its mail server/);
        assert.equal(await count('SELECT COUNT(*) AS n FROM emails WHERE connector_id = ?', [a]), 1, 'nothing of it stored');
        assert.equal((await store(client, { ...pop3(a, 'q1'), workspace: 'full' }, mail('q1'))).duplicate, true, 'a re-fetch of what is stored still answers duplicate');
        await svc.connectors.upserted({ id: a, workspace: 'full', name: 'pop', workflowId: 'wf-pop', reprocess: false, retentionDays: 1 }, new Date(clock));
        clock += 2 * DAY;
        await svc.retention.runOnce(new Date(clock));
        assert.equal(await count('SELECT COUNT(*) AS n FROM emails WHERE connector_id = ?', [a]), 0, 'purged');
        assert.equal((await call(usage.getWorkspaceUsage, usage, {})).storedBytes, 0, 'retention gave the room back');
        clock += 2_000;
        assert.equal((await store(client, { ...pop3(a, 'q2'), workspace: 'full' }, mail('q2'))).duplicate, false);
      } finally {
        usage.close();
      }
    });

    it('stores only for connectors the registry announced, with the registry\'s name and workflow', async () => {
      const stranger = randomUUID();
      const refused = await storeOne(client, { connectorId: stranger }, { source: { source: { $case: 'pop3', value: { uidl: 'x' } } }, occurrence: '', receivedAt: new Date(), content: mail('forged') }).catch((e: unknown) => e);
      assert.ok(refused instanceof PreconditionError, String(refused));
      assert.equal(refused.reason, 'CONNECTOR_UNKNOWN');
      assert.equal(await count('SELECT COUNT(*) AS n FROM emails WHERE connector_id = ?', [stranger]), 0);

      const c = randomUUID();
      await svc.connectors.upserted({ id: c, workspace: 'default', name: 'Billing', workflowId: 'wf-from-registry', reprocess: false, retentionDays: 30 }, new Date(clock));
      const stored = await storeOne(client, { connectorId: c }, { source: { source: { $case: 'pop3', value: { uidl: 'y' } } }, occurrence: '', receivedAt: new Date(), content: mail('registry') });
      assert.ok('stored' in stored);
      const ds = await rawDs();
      try {
        const [row] = (await ds.query('SELECT payload FROM trigger_outbox WHERE connector_id = ?', [c])) as Array<{ payload: Buffer }>;
        const event = EmailReceived.decode(row!.payload);
        assert.equal(event.workflowId, 'wf-from-registry');
        assert.equal(event.connectorName, 'Billing');
      } finally {
        await ds.destroy();
      }

      await bus.publish(TOPICS.connectors, [
        { key: c, headers: {}, value: ConnectorChanged.encode(ConnectorChanged.fromPartial({ eventId: randomUUID(), kind: ConnectorChanged_Kind.DELETED, connectorId: c })).finish() },
      ]);
      await eventually(async () => (await count('SELECT COUNT(*) AS n FROM storage_connectors WHERE connector_id = ? AND deleted_at IS NOT NULL', [c])) === 1, 5000, 'deletion seen');
      const afterDelete = await storeOne(client, { connectorId: c }, { source: { source: { $case: 'pop3', value: { uidl: 'z' } } }, occurrence: '', receivedAt: new Date(), content: mail('late') }).catch((e: unknown) => e);
      assert.ok(afterDelete instanceof PreconditionError && afterDelete.reason === 'CONNECTOR_DELETED');
    });

    it('dates connector log entries by its own clock when the caller\'s time is far off', async () => {
      const c = randomUUID();
      await knowConnector(pop3(c, 'x'));
      await call(client.appendConnectorLog, client, {
        entries: [
          { id: '', connectorId: c, time: new Date('2269-01-01T00:00:00Z'), level: LogLevel.INFO, code: 'FORGED', message: 'from the future' },
          { id: '', connectorId: c, time: new Date(clock - 2000), level: LogLevel.INFO, code: 'RECENT', message: 'two seconds ago' },
        ],
      });
      const page = await call(reader.listConnectorLog, reader, { connectorId: c, minLevel: LogLevel.DEBUG, pageSize: 10, pageToken: '' });
      const time = (code: string) => page.entries.find((e) => e.code === code)!.time!.getTime();
      assert.equal(time('FORGED'), clock);
      assert.equal(time('RECENT'), clock - 2000);
    });
  });
}
