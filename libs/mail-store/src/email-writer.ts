import { randomUUID } from 'node:crypto';
import { In, QueryFailedError, type DataSource, type EntityManager, type EntitySchema } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import type { Gate } from '@postbote/db';
import { OutboxEntity, type OutboxRow } from '@postbote/email-outbox';
import { contentKey, sourceKey, type EmailSource } from './dedupe-keys';
import { buildEmailReceived } from './email-event';
import { ChunkEntity, DedupeEntity, EmailEntity, type ChunkRow, type DedupeRow, type EmailRow } from './entities';
import type { IncomingEmail } from './incoming-email';
import type { ParsedMetadata } from './parse-metadata';

export const CHUNK_BYTES = 1024 * 1024;
/** Emails above this write their chunks before the group's transaction (see writeGroup). */
const LARGE_BYTES = 4 * CHUNK_BYTES;
/** Rows per multi-row INSERT, and bytes of chunk data per statement (MariaDB's packet). */
const ROWS_PER_INSERT = 200;
const CHUNK_BYTES_PER_INSERT = 8 * CHUNK_BYTES;

/** Who stores: one StoreEmails stream's session. */
export interface StoreSessionInfo {
  readonly connectorId: string;
  readonly connectorName: string;
  readonly workflowId: string;
  readonly reprocess: boolean;
}

/** One complete, verified, parsed email ready to commit. */
export interface EmailToCommit {
  readonly session: StoreSessionInfo;
  readonly source: EmailSource;
  readonly occurrence: string;
  readonly receivedAt: Date | undefined;
  readonly sha256: string;
  readonly size: number;
  readonly metadata: ParsedMetadata;
  readonly body: IncomingEmail;
}

export interface StoreResult {
  readonly emailId: string;
  readonly eventId: string;
  readonly duplicate: boolean;
  readonly sha256: string;
  readonly size: number;
}

export interface WriterOptions {
  /** host:port consumers use to download raw mail (goes into each event). */
  readonly publicAddress: () => string;
  readonly now: () => Date;
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
 * transaction with multi-row inserts of chunks, email rows, dedupe keys and outbox rows.
 * Chunks of large emails are written before that transaction (invisible until their
 * email row commits, swept by retention if it never does), so a 50 MB email never means
 * a 50 MB transaction. If a concurrent writer took a key meanwhile (several storage
 * instances on MariaDB), the group is retried one email at a time, each then finding
 * the winner's row: the answer is "duplicate", never an error.
 */
export class EmailWriter {
  constructor(
    private readonly ds: DataSource,
    private readonly gate: Gate,
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

  async #write(items: readonly EmailToCommit[]): Promise<StoreResult[]> {
    const plan = await this.#plan(items);
    const large = plan.flatMap((p) => (p.fresh && p.item.size > LARGE_BYTES ? [{ p, emailId: p.fresh.emailId }] : []));
    const now = this.options.now();
    try {
      const apart = new Map<Planned, number>();
      for (const { p, emailId } of large) apart.set(p, await this.#writeChunksApart(emailId, p.item.body, now));
      await this.gate(() => this.ds.transaction((tx) => this.#commit(tx, plan, apart, now)));
    } catch (err) {
      if (large.length) {
        const ids = large.map((l) => l.emailId);
        await this.gate(() => this.ds.getRepository(ChunkEntity).delete({ emailId: In(ids) })).catch(() => undefined);
      }
      if (err instanceof QueryFailedError && /UNIQUE|Duplicate entry|PRIMARY/i.test(err.message)) throw new KeyConflict();
      throw err;
    }
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
    const known = await this.#lookup(plan);
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
      const ids = { emailId: randomUUID(), eventId: randomUUID() };
      p.fresh = ids;
      p.result = { ...ids, ...base, duplicate: false };
      known.set(pair(connectorId, p.srcKey), ids);
      if (p.ctKey) known.set(pair(connectorId, p.ctKey), ids);
    }
    return plan;
  }

  async #lookup(plan: readonly Planned[]): Promise<Map<string, { emailId: string; eventId: string }>> {
    const byConnector = new Map<string, string[]>();
    for (const p of plan) {
      const keys = byConnector.get(p.item.session.connectorId) ?? [];
      keys.push(p.srcKey);
      if (p.ctKey) keys.push(p.ctKey);
      byConnector.set(p.item.session.connectorId, keys);
    }
    const found = new Map<string, { emailId: string; eventId: string }>();
    for (const [connectorId, keys] of byConnector) {
      const rows = await this.gate(() =>
        this.ds.getRepository(DedupeEntity).find({ select: { keyHash: true, emailId: true, eventId: true }, where: { connectorId, keyHash: In([...new Set(keys)]) } }),
      );
      for (const r of rows) found.set(pair(connectorId, r.keyHash), { emailId: r.emailId, eventId: r.eventId });
    }
    return found;
  }

  /** `apart`: emails whose chunks were written before the transaction, with their chunk count. */
  async #commit(tx: EntityManager, plan: readonly Planned[], apart: ReadonlyMap<Planned, number>, storedAt: Date): Promise<void> {
    await this.#lockOutbox(tx);
    const chunks: ChunkRow[] = [];
    const emails: EmailRow[] = [];
    const strictKeys: DedupeRow[] = [];
    const looseKeys: DedupeRow[] = [];
    const outbox: Array<Omit<OutboxRow, 'id'>> = [];
    let chunkBytes = 0;
    const flushChunks = async () => {
      await insertRows(tx, ChunkEntity, chunks.splice(0));
      chunkBytes = 0;
    };
    for (const p of plan) {
      const { connectorId } = p.item.session;
      if (p.rememberFor) looseKeys.push({ connectorId, keyHash: p.srcKey, kind: 'SOURCE', ...p.rememberFor, createdAt: storedAt });
      if (!p.fresh) continue;
      const { emailId, eventId } = p.fresh;
      let seq = apart.get(p) ?? 0;
      if (!apart.has(p)) {
        for await (const data of p.item.body.read(CHUNK_BYTES)) {
          chunks.push({ emailId, seq: seq++, data, createdAt: storedAt });
          chunkBytes += data.length;
          if (chunkBytes >= CHUNK_BYTES_PER_INSERT || chunks.length >= ROWS_PER_INSERT) await flushChunks();
        }
      }
      emails.push(emailRow(p.item, { emailId, eventId, chunks: seq, storedAt }));
      strictKeys.push({ connectorId, keyHash: p.srcKey, kind: 'SOURCE', emailId, eventId, createdAt: storedAt });
      if (p.ctKey) (p.item.session.reprocess ? looseKeys : strictKeys).push({ connectorId, keyHash: p.ctKey, kind: 'CONTENT', emailId, eventId, createdAt: storedAt });
      const payload = buildEmailReceived(
        {
          eventId,
          emailId,
          connectorId,
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
      );
      outbox.push({ eventId, emailId, connectorId, payload: Buffer.from(payload), createdAt: storedAt, publishedAt: null });
    }
    await flushChunks();
    await insertRows(tx, EmailEntity, emails);
    await insertRows(tx, DedupeEntity, strictKeys);
    await insertRows(tx, DedupeEntity, looseKeys, { ignoreConflicts: true });
    await insertRows(tx, OutboxEntity, outbox);
  }

  /** Chunks of a large email, one statement each, before (and outside) the group's transaction. */
  async #writeChunksApart(emailId: string, body: IncomingEmail, createdAt: Date): Promise<number> {
    let seq = 0;
    for await (const data of body.read(CHUNK_BYTES)) {
      const row = { emailId, seq: seq++, data, createdAt };
      await this.gate(() => this.ds.getRepository(ChunkEntity).insert(row));
    }
    return seq;
  }

  // The trigger relay publishes outbox rows in id order and remembers the last id it
  // published. On MariaDB, AUTO_INCREMENT hands out ids at insert time, so two concurrent
  // transactions could commit ids out of order and the relay would step over the later
  // committer for good. Holding this row lock from before the insert until commit makes
  // commit order equal id order. (SQLite: the gate already runs one transaction at a time.)
  async #lockOutbox(tx: EntityManager): Promise<void> {
    if (this.ds.options.type === 'mysql' || this.ds.options.type === 'mariadb') {
      await tx.query('SELECT id FROM trigger_outbox_lock WHERE id = 1 FOR UPDATE');
    }
  }
}

async function insertRows<T extends object>(tx: EntityManager, entity: EntitySchema<T>, rows: ReadonlyArray<Partial<T>>, opts: { ignoreConflicts?: boolean } = {}): Promise<void> {
  for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
    const qb = tx.createQueryBuilder().insert().into(entity).values(rows.slice(i, i + ROWS_PER_INSERT) as QueryDeepPartialEntity<T>[]);
    await (opts.ignoreConflicts ? qb.orIgnore() : qb).execute();
  }
}

function emailRow(item: EmailToCommit, x: { emailId: string; eventId: string; chunks: number; storedAt: Date }): EmailRow {
  const s = item.source;
  const m = item.metadata;
  return {
    id: x.emailId,
    connectorId: item.session.connectorId,
    eventId: x.eventId,
    sourceKind: s.kind,
    folder: s.kind === 'IMAP' ? s.folder : null,
    uidValidity: s.kind === 'IMAP' ? s.uidValidity : null,
    uid: s.kind === 'IMAP' ? s.uid : null,
    uidl: s.kind === 'POP3' ? s.uidl : null,
    occurrence: item.occurrence,
    messageId: m.messageId.slice(0, 998),
    sha256: item.sha256,
    size: item.size,
    chunkCount: x.chunks,
    metadataJson: JSON.stringify(m),
    subject: m.subject.slice(0, 998),
    parseError: m.problems.length ? m.problems.join('; ') : null,
    receivedAt: item.receivedAt ?? x.storedAt,
    storedAt: x.storedAt,
  };
}
