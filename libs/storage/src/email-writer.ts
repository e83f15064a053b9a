import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { isUniqueViolation, type Gate, type Statement, type TransactionRunner } from '@postbote/db';
import type { MessageSource, ParsedMetadata } from '@postbote/connector-model';
import { emailReceivedToProto } from '@postbote/contract';
import { EmailReceived } from '@postbote/proto';
import { contentKey, sourceKey } from './dedupe-keys';
import type { BlobStore } from './blob-store';
import type { IncomingEmail } from './incoming-email';

export const CHUNK_BYTES = 1024 * 1024;
/** Emails above this have their chunks written ahead of their group (see writeAhead). */
const LARGE_BYTES = 4 * CHUNK_BYTES;
/**
 * Rows per multi-row INSERT, and chunk bytes per statement: mysql2 sends blobs hex-escaped,
 * so 4 MiB of chunks is an 8 MiB statement, safely under MariaDB's default
 * max_allowed_packet of 16 MiB.
 */
const ROWS_PER_INSERT = 200;
const CHUNK_BYTES_PER_INSERT = 4 * CHUNK_BYTES;
/** Chunks of a large email written per transaction ahead of its group's (same bound). */
const CHUNKS_PER_AHEAD = 4;

const EMAIL_COLUMNS = ['id', 'workspace_id', 'connector_id', 'event_id', 'source_kind', 'folder', 'uid_validity', 'uid', 'uidl', 'occurrence', 'message_id', 'sha256', 'size', 'chunk_count', 'blob_key', 'metadata_json', 'subject', 'parse_error', 'received_at', 'stored_at'];
const CHUNK_COLUMNS = ['email_id', 'seq', 'data', 'created_at'];
const DEDUPE_COLUMNS = ['connector_id', 'key_hash', 'kind', 'email_id', 'event_id', 'created_at'];
const OUTBOX_COLUMNS = ['event_id', 'email_id', 'connector_id', 'workspace_id', 'payload', 'created_at', 'published_at'];

/** Who stores: one StoreEmails stream's session. */
export interface StoreSessionInfo {
  readonly connectorId: string;
  /** The connector's workspace (storage's copy of the registry): every row of its emails carries it. */
  readonly workspace: string;
  readonly connectorName: string;
  readonly workflowId: string;
  readonly reprocess: boolean;
}

/** One complete, verified, parsed email ready to commit. */
export interface EmailToCommit {
  readonly session: StoreSessionInfo;
  readonly source: MessageSource;
  readonly occurrence: string;
  readonly receivedAt: Date | undefined;
  readonly sha256: string;
  readonly size: number;
  readonly metadata: ParsedMetadata;
  readonly body: IncomingEmail;
  /** Its bytes, already written by writeAhead (a large email's chunks, or any email's object). */
  readonly ahead?: BytesAhead | undefined;
}

/** An email's bytes written ahead of its group, under the email id it will have if new. */
export interface BytesAhead {
  readonly emailId: string;
  /** Chunks written (0 with an object store). */
  readonly chunks: number;
  /** The object written instead (MAIL_BLOBS_URL). */
  readonly blobKey?: string;
}

export interface StoreResult {
  readonly emailId: string;
  readonly eventId: string;
  readonly duplicate: boolean;
  readonly sha256: string;
  readonly size: number;
  /** Not stored: new, but its workspace is at its stored-bytes quota (why, for the refusal). */
  readonly overQuota?: string;
}

export interface WriterOptions {
  /** host:port consumers use to download raw mail (goes into each event). */
  readonly publicAddress: () => string;
  readonly now: () => Date;
  /** Why `bytes` more may not be stored in a workspace now (its quota), or null. */
  readonly overQuota: (workspace: string, bytes: number) => Promise<string | null>;
  /** Where raw bytes go instead of chunks (MAIL_BLOBS_URL); undefined: chunks. */
  readonly blobs: BlobStore | undefined;
}

/** A unique key was taken by a concurrent writer (another storage instance). */
class KeyConflict extends Error {}

interface Planned {
  readonly item: EmailToCommit;
  readonly srcKey: string;
  /** Message-ID + hash; null without a Message-ID (see docs/decisions/0011). */
  readonly ctKey: string | null;
  result: StoreResult;
  /** New email: its ids. */
  fresh?: { emailId: string; eventId: string };
  /** Already stored under other coordinates: remember these coordinates for it. */
  rememberFor?: { emailId: string; eventId: string };
}

const pair = (connectorId: string, key: string) => `${connectorId}\0${key}`;

/**
 * Writes a group of emails: dedupe keys looked up in one query per connector, then one
 * transaction with multi-row inserts of chunks, email rows, dedupe keys and outbox rows,
 * as plain SQL through a TransactionRunner (on SQLite a writer thread: the commit's disk
 * sync does not stall the event loop). Columns are the storage migrations' own.
 * A large email's chunks are written ahead, while it is parsed and before its group
 * (writeAhead), so a 50 MB email never means a 50 MB transaction and never holds up the
 * groups of the emails behind it. If a concurrent writer took a key meanwhile (several
 * storage instances on MariaDB), the group is retried one email at a time, each then
 * finding the winner's row: the answer is "duplicate", never an error.
 */
export class EmailWriter {
  constructor(
    private readonly ds: DataSource,
    private readonly gate: Gate,
    private readonly runner: TransactionRunner,
    private readonly options: WriterOptions,
  ) {}

  async writeGroup(items: readonly EmailToCommit[]): Promise<Array<StoreResult | Error>> {
    try {
      return await this.#write(items);
    } catch (err) {
      if (!(err instanceof KeyConflict)) throw err;
      const out: Array<StoreResult | Error> = [];
      for (const item of items) {
        const one = await this.#write([item]).then(
          ([r]) => r ?? new Error('no result'),
          (e: unknown) => (e instanceof Error ? e : new Error(String(e))),
        );
        out.push(one);
      }
      return out;
    }
  }

  /**
   * With an object store: writes every email's object under a new email id, before the row
   * that names it commits (decision 0029) — an email is stored only once its bytes are.
   * Without one: writes a large email's chunks, a few per transaction, under a new email id —
   * unless its coordinates are stored already (a re-fetch), then nothing (undefined).
   * Either is invisible until an email row naming it commits; if the email turns out a
   * duplicate after all, its group's transaction deletes the chunks, or the object is deleted
   * after it commits. After a crash or a failed commit they are orphans, which retention
   * removes once they are a day old (the commit that names them follows within seconds).
   * Emails up to LARGE_BYTES without an object store get none (undefined).
   */
  async writeAhead(email: Pick<EmailToCommit, 'session' | 'source' | 'occurrence' | 'size' | 'sha256' | 'body'>): Promise<BytesAhead | undefined> {
    const blobs = this.options.blobs;
    if (blobs) {
      const emailId = randomUUID();
      const blobKey = blobs.keyFor(email.session.workspace, email.session.connectorId, emailId);
      await blobs.put(blobKey, email.body, email.size, email.sha256);
      return { emailId, chunks: 0, blobKey };
    }
    if (email.size <= LARGE_BYTES) return undefined;
    const { connectorId } = email.session;
    const key = sourceKey(email.source, email.occurrence);
    if ((await this.#lookup([{ connectorId, keys: [key] }])).has(pair(connectorId, key))) return undefined;
    const emailId = randomUUID();
    const d = this.runner.dialect;
    const at = d.datetime(this.options.now());
    let seq = 0;
    let rows: unknown[][] = [];
    for await (const data of email.body.read(CHUNK_BYTES)) {
      rows.push([emailId, seq++, data, at]);
      if (rows.length >= CHUNKS_PER_AHEAD) {
        await this.runner.run([d.insert('email_chunks', CHUNK_COLUMNS, rows)]);
        rows = [];
      }
    }
    if (rows.length) await this.runner.run([d.insert('email_chunks', CHUNK_COLUMNS, rows)]);
    return { emailId, chunks: seq };
  }

  async #write(items: readonly EmailToCommit[]): Promise<StoreResult[]> {
    const plan = await this.#plan(items);
    const { statements, unusedBlobs } = await this.#statements(plan, this.options.now());
    try {
      await this.runner.run(statements);
    } catch (err) {
      // Bytes written ahead stay: a retry uses them, retention removes them otherwise.
      if (isUniqueViolation(err)) throw new KeyConflict();
      throw err;
    }
    // Objects of emails that were duplicates after all: no row names them. Not awaited for
    // the acknowledgement; what fails here the orphan sweep removes a day later.
    if (unusedBlobs.length) this.options.blobs?.delete(unusedBlobs).catch(() => undefined);
    return plan.map((p) => p.result);
  }

  /** Decides per email: new, or a duplicate of what is stored or of an earlier email in this group. */
  async #plan(items: readonly EmailToCommit[]): Promise<Planned[]> {
    const plan: Planned[] = items.map((item) => ({
      item,
      srcKey: sourceKey(item.source, item.occurrence),
      ctKey: item.metadata.messageId ? contentKey(item.metadata.messageId, item.sha256) : null,
      result: { emailId: '', eventId: '', duplicate: false, sha256: item.sha256, size: item.size },
    }));
    const known = await this.#lookup(plan.map((p) => ({ connectorId: p.item.session.connectorId, keys: p.ctKey ? [p.srcKey, p.ctKey] : [p.srcKey] })));
    // Only new emails count against a workspace's quota: a duplicate is answered as one, so
    // the mail server may still post-process what was stored before the limit was reached.
    const adding = new Map<string, number>();
    for (const p of plan) {
      const { connectorId, reprocess } = p.item.session;
      const base = { sha256: p.item.sha256, size: p.item.size };
      const bySource = known.get(pair(connectorId, p.srcKey));
      if (bySource) {
        p.result = { ...bySource, ...base, duplicate: true };
        continue;
      }
      const byContent = !reprocess && p.ctKey ? known.get(pair(connectorId, p.ctKey)) : undefined;
      if (byContent) {
        p.result = { ...byContent, ...base, duplicate: true };
        p.rememberFor = byContent;
        known.set(pair(connectorId, p.srcKey), byContent);
        continue;
      }
      const workspace = p.item.session.workspace;
      const bytes = (adding.get(workspace) ?? 0) + p.item.size;
      const overQuota = await this.options.overQuota(workspace, bytes);
      if (overQuota) {
        p.result = { ...base, emailId: '', eventId: '', duplicate: false, overQuota };
        continue;
      }
      adding.set(workspace, bytes);
      const ids = { emailId: p.item.ahead?.emailId ?? randomUUID(), eventId: randomUUID() };
      p.fresh = ids;
      p.result = { ...ids, ...base, duplicate: false };
      known.set(pair(connectorId, p.srcKey), ids);
      if (p.ctKey) known.set(pair(connectorId, p.ctKey), ids);
    }
    return plan;
  }

  /** Stored dedupe keys among the given ones, by pair(connector, key). */
  async #lookup(wanted: ReadonlyArray<{ connectorId: string; keys: readonly string[] }>): Promise<Map<string, { emailId: string; eventId: string }>> {
    const byConnector = new Map<string, string[]>();
    for (const { connectorId, keys } of wanted) {
      const all = byConnector.get(connectorId) ?? [];
      all.push(...keys);
      byConnector.set(connectorId, all);
    }
    const found = new Map<string, { emailId: string; eventId: string }>();
    for (const [connectorId, keys] of byConnector) {
      // Plain SQL on the table's own columns (as the inserts below): this runs for every group,
      // on the event loop, where the ORM's query building and hydration cost more than the look-up.
      const unique = [...new Set(keys)];
      const sql = `SELECT key_hash, email_id, event_id FROM email_dedupe WHERE connector_id = ? AND key_hash IN (${unique.map(() => '?').join(', ')})`;
      const rows = (await this.gate(() => this.ds.query(sql, [connectorId, ...unique]))) as Array<{ key_hash: string; email_id: string; event_id: string }>;
      for (const r of rows) found.set(pair(connectorId, r.key_hash), { emailId: r.email_id, eventId: r.event_id });
    }
    return found;
  }

  /** The group's transaction, and the objects written ahead that no row will name. */
  async #statements(plan: readonly Planned[], storedAt: Date): Promise<{ statements: Statement[]; unusedBlobs: string[] }> {
    const d = this.runner.dialect;
    const at = d.datetime(storedAt);
    const out: Statement[] = [];
    // The trigger relay publishes outbox rows in id order and remembers the last id it
    // published. On MariaDB, AUTO_INCREMENT hands out ids at insert time, so two concurrent
    // transactions could commit ids out of order and the relay would step over the later
    // committer for good. Holding this row lock from before the insert until commit makes
    // commit order equal id order. (SQLite: one writer at a time anyway.)
    if (d.kind === 'mysql') out.push({ sql: 'SELECT id FROM trigger_outbox_lock WHERE id = 1 FOR UPDATE', params: [] });
    const emails: unknown[][] = [];
    const strictKeys: unknown[][] = [];
    const looseKeys: unknown[][] = [];
    const outbox: unknown[][] = [];
    let chunks: unknown[][] = [];
    let chunkBytes = 0;
    const flushChunks = () => {
      if (chunks.length) out.push(d.insert('email_chunks', CHUNK_COLUMNS, chunks));
      chunks = [];
      chunkBytes = 0;
    };
    const unused: string[] = [];
    const unusedBlobs: string[] = [];
    const stored = new Map<string, { bytes: number; count: number }>();
    for (const p of plan) {
      const { connectorId } = p.item.session;
      if (p.rememberFor) looseKeys.push([connectorId, p.srcKey, 'SOURCE', p.rememberFor.emailId, p.rememberFor.eventId, at]);
      if (!p.fresh) {
        if (p.item.ahead?.blobKey) unusedBlobs.push(p.item.ahead.blobKey);
        else if (p.item.ahead) unused.push(p.item.ahead.emailId);
        continue;
      }
      const { emailId, eventId } = p.fresh;
      // Chunks go in here for every email without chunks ahead: all up to LARGE_BYTES, and a
      // large one only when writeAhead found it stored and it is new after all (its keys
      // purged meanwhile) — rare, and still correct.
      let seq = p.item.ahead?.chunks ?? 0;
      if (!p.item.ahead) {
        for await (const data of p.item.body.read(CHUNK_BYTES)) {
          chunks.push([emailId, seq++, data, at]);
          chunkBytes += data.length;
          if (chunkBytes >= CHUNK_BYTES_PER_INSERT || chunks.length >= ROWS_PER_INSERT) flushChunks();
        }
      }
      emails.push(emailRow(p.item, { emailId, eventId, chunks: seq, blobKey: p.item.ahead?.blobKey ?? null }, at, d.datetime(p.item.receivedAt ?? storedAt)));
      const sum = stored.get(p.item.session.workspace) ?? { bytes: 0, count: 0 };
      stored.set(p.item.session.workspace, { bytes: sum.bytes + p.item.size, count: sum.count + 1 });
      strictKeys.push([connectorId, p.srcKey, 'SOURCE', emailId, eventId, at]);
      if (p.ctKey) (p.item.session.reprocess ? looseKeys : strictKeys).push([connectorId, p.ctKey, 'CONTENT', emailId, eventId, at]);
      const payload = EmailReceived.encode(
        emailReceivedToProto(
        {
          eventId,
          emailId,
          connectorId,
          workspace: p.item.session.workspace,
          connectorName: p.item.session.connectorName,
          workflowId: p.item.session.workflowId,
          source: p.item.source,
          receivedAt: p.item.receivedAt ?? storedAt,
          storedAt,
          sha256: p.item.sha256,
          size: p.item.size,
          storageAddress: this.options.publicAddress(),
          },
          p.item.metadata,
        ),
      ).finish();
      outbox.push([eventId, emailId, connectorId, p.item.session.workspace, Buffer.from(payload), at, null]);
    }
    flushChunks();
    if (unused.length) out.push(this.#deleteChunks(unused));
    // What each workspace has stored moves with its emails, in the same transaction: one
    // upsert, which takes the row's exclusive lock at once. (An INSERT IGNORE followed by
    // an UPDATE took a shared lock first, and two writers of the row — a store and a
    // retention purge — each waited for the other to give up theirs: an InnoDB deadlock.)
    for (const [workspace, { bytes, count }] of stored) {
      const add = d.kind === 'mysql' ? 'ON DUPLICATE KEY UPDATE stored_bytes = stored_bytes + VALUES(stored_bytes), stored_emails = stored_emails + VALUES(stored_emails)' : 'ON CONFLICT (workspace_id) DO UPDATE SET stored_bytes = stored_bytes + excluded.stored_bytes, stored_emails = stored_emails + excluded.stored_emails';
      out.push({ sql: `INSERT INTO storage_workspaces (workspace_id, max_stored_bytes, stored_bytes, stored_emails, updated_at) VALUES (?, 0, ?, ?, ?) ${add}`, params: [workspace, bytes, count, at] });
    }
    const many = (table: string, columns: string[], rows: unknown[][], ignore = false) => {
      for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) out.push(d.insert(table, columns, rows.slice(i, i + ROWS_PER_INSERT), ignore));
    };
    many('emails', EMAIL_COLUMNS, emails);
    many('email_dedupe', DEDUPE_COLUMNS, strictKeys);
    many('email_dedupe', DEDUPE_COLUMNS, looseKeys, true);
    // One statement keeps outbox ids in the group's order (AUTO_INCREMENT, SQLite rowid).
    many('trigger_outbox', OUTBOX_COLUMNS, outbox);
    return { statements: out, unusedBlobs };
  }

  #deleteChunks(emailIds: readonly string[]): Statement {
    return { sql: `DELETE FROM email_chunks WHERE email_id IN (${emailIds.map(() => '?').join(', ')})`, params: emailIds };
  }
}

function emailRow(item: EmailToCommit, x: { emailId: string; eventId: string; chunks: number; blobKey: string | null }, storedAt: unknown, receivedAt: unknown): unknown[] {
  const s = item.source;
  const m = item.metadata;
  return [
    x.emailId,
    item.session.workspace,
    item.session.connectorId,
    x.eventId,
    s.kind,
    s.kind === 'IMAP' ? s.folder : null,
    s.kind === 'IMAP' ? s.uidValidity : null,
    s.kind === 'IMAP' ? s.uid : null,
    s.kind === 'POP3' ? s.uidl : null,
    item.occurrence,
    m.messageId.slice(0, 998),
    item.sha256,
    item.size,
    x.chunks,
    x.blobKey,
    JSON.stringify(m),
    m.subject.slice(0, 998),
    m.problems.length ? m.problems.join('; ') : null,
    receivedAt,
    storedAt,
  ];
}
