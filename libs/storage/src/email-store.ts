import { createHash } from 'node:crypto';
import { In, type DataSource } from 'typeorm';
import type { Scope } from '@postbote/auth';
import type { Gate, TransactionRunner } from '@postbote/db';
import { Wakeup } from '@postbote/backoff';
import { OutboxEntity } from '@postbote/email-outbox';
import { InternalError, NotFoundError, PreconditionError, ValidationError } from '@postbote/errors';
import { sourceKey } from './dedupe-keys';
import { ChunkEntity, DedupeEntity, EmailEntity, type EmailRow } from './entities';
import type { BlobStore } from './blob-store';
import { EmailWriter, type BytesAhead, type EmailToCommit, type StoreResult } from './email-writer';
import { GroupCommitter } from './group-commit';
import type { IncomingEmail, IncomingLimits } from './incoming-email';
import type { ParsedMetadata } from '@postbote/connector-model';
import { ParsePool } from './parse-pool';
import { StorageWorkspaces } from './storage-workspaces';
import { storageMetrics } from '@postbote/metrics';

export { CHUNK_BYTES, type EmailToCommit, type StoreResult, type StoreSessionInfo } from './email-writer';

export interface StoredEmail {
  readonly row: EmailRow;
  readonly metadata: ParsedMetadata;
  /** When its event left the outbox (null: waiting, or no event); read for one email only. */
  readonly eventPublishedAt?: Date | null;
}

export interface EmailStoreOptions {
  /** host:port consumers use to download raw mail (goes into each event). */
  readonly publicAddress: string;
  readonly incoming: IncomingLimits;
  readonly previewChars: number;
  readonly parseTimeoutMs: number;
  /** Worker threads that parse metadata; 0 parses on the event loop. */
  readonly parseWorkers: number;
  /** Most emails and bytes committed in one transaction. */
  readonly groupMaxEmails: number;
  readonly groupMaxBytes: number;
  /** See GroupLimits.lingerMs. */
  readonly groupLingerMs?: number;
  /** Raw bytes in an object store instead of chunks (MAIL_BLOBS_URL). */
  readonly blobs?: BlobStore | undefined;
}

export interface ListQuery {
  readonly scope: Scope;
  readonly connectorId: string;
  readonly since?: Date | undefined;
  readonly until?: Date | undefined;
  readonly pageSize: number;
  readonly pageToken: string;
  /** Search terms ('' or absent: not asked); see ListEmailsRequest. */
  readonly from?: string;
  readonly subject?: string;
  readonly messageId?: string;
}

/** `term` inside a LIKE pattern, its own % and _ taken literally (escaped with !). */
const likeAny = (term: string) => `%${term.replace(/[!%_]/g, (c) => `!${c}`)}%`;

/**
 * Byte-exact, idempotent email storage. Emails arrive complete and verified (see
 * StoreEmails), are parsed for metadata, and are committed in groups: every email that
 * is ready while a commit runs goes into the next one, so a busy store pays one
 * transaction (and one sync) per group, not per email. Every read takes the caller's
 * scope: another workspace's email is not found, by the same one-row query as a missing one.
 */
export class EmailStore {
  readonly #committer: GroupCommitter<EmailToCommit, StoreResult>;
  readonly #parser: ParsePool;
  readonly #writer: EmailWriter;
  /** Notified after each commit that wrote events: wakes a trigger relay in this process. */
  readonly outboxWritten = new Wakeup();
  /** What each workspace has stored against its quota. */
  readonly workspaces: StorageWorkspaces;

  constructor(
    private readonly ds: DataSource,
    private readonly gate: Gate,
    runner: TransactionRunner,
    private readonly options: EmailStoreOptions,
    now: () => Date,
  ) {
    this.workspaces = new StorageWorkspaces(ds, gate, now);
    const writer = new EmailWriter(ds, gate, runner, { publicAddress: () => options.publicAddress, now, overQuota: (w, bytes) => this.workspaces.refusal(w, bytes), blobs: options.blobs });
    this.#writer = writer;
    this.#parser = new ParsePool(options.parseWorkers, { previewChars: options.previewChars, timeoutMs: options.parseTimeoutMs });
    const write = async (items: readonly EmailToCommit[]) => {
      const results = await timedGroup(items, () => writer.writeGroup(items));
      if (results.some((r) => !(r instanceof Error) && !r.duplicate)) this.outboxWritten.notify();
      return results;
    };
    this.#committer = new GroupCommitter(write, (e) => e.size, { maxItems: options.groupMaxEmails, maxWeight: options.groupMaxBytes, lingerMs: options.groupLingerMs ?? 0 });
  }

  get incomingLimits(): IncomingLimits {
    return this.options.incoming;
  }

  /** Metadata of a complete email; never fails (problems are noted in the result). */
  parse(body: IncomingEmail): Promise<ParsedMetadata> {
    return this.#parser.parse(body);
  }

  /** An email's object, or a large email's chunks, written while it is parsed (see EmailWriter.writeAhead); pass the result to commit. */
  writeAhead(email: Pick<EmailToCommit, 'session' | 'source' | 'occurrence' | 'size' | 'sha256' | 'body'>): Promise<BytesAhead | undefined> {
    return this.#writer.writeAhead(email);
  }

  async close(): Promise<void> {
    await this.#parser.close();
  }

  /** Commits an email (with whatever else is ready); resolves after the commit. */
  commit(email: EmailToCommit): Promise<StoreResult> {
    return this.#committer.submit(email);
  }

  /** The POP3 UIDLs among `uidls` this connector already stored (plain coordinates, no occurrence). */
  async knownPop3(connectorId: string, uidls: readonly string[]): Promise<string[]> {
    const known: string[] = [];
    for (let i = 0; i < uidls.length; i += 500) {
      const slice = uidls.slice(i, i + 500);
      const byKey = new Map(slice.map((u) => [sourceKey({ kind: 'POP3', uidl: u }, ''), u]));
      const rows = await this.gate(() =>
        this.ds.getRepository(DedupeEntity).find({ select: { keyHash: true }, where: { connectorId, keyHash: In([...byKey.keys()]) } }),
      );
      for (const r of rows) known.push(byKey.get(r.keyHash) ?? '');
    }
    return known.filter(Boolean);
  }

  async get(scope: Scope, emailId: string): Promise<StoredEmail> {
    const row = await this.gate(() => this.ds.getRepository(EmailEntity).findOneBy({ id: emailId, ...(scope.every ? {} : { workspaceId: scope.workspace }) }));
    if (!row) throw new NotFoundError(`no stored email "${emailId}" (never stored, or removed by retention)`);
    // The outbox row lives as long as the email (retention removes both together).
    const outbox = row.eventId ? await this.gate(() => this.ds.getRepository(OutboxEntity).findOneBy({ eventId: row.eventId })) : null;
    return { row, metadata: JSON.parse(row.metadataJson) as ParsedMetadata, eventPublishedAt: outbox?.publishedAt ?? null };
  }

  /** Newest first; the page token encodes the last (stored_at, id) seen. */
  async list(q: ListQuery): Promise<{ items: StoredEmail[]; nextPageToken: string }> {
    const size = Math.min(Math.max(q.pageSize || 50, 1), 500);
    const qb = this.ds
      .getRepository(EmailEntity)
      .createQueryBuilder('e')
      .where('e.connector_id = :c', { c: q.connectorId })
      .andWhere(q.scope.every ? '1 = 1' : 'e.workspace_id = :w', { w: q.scope.every ? '' : q.scope.workspace })
      .orderBy('e.stored_at', 'DESC')
      .addOrderBy('e.id', 'DESC')
      .take(size + 1);
    if (q.since) qb.andWhere('e.stored_at >= :since', { since: q.since });
    if (q.until) qb.andWhere('e.stored_at < :until', { until: q.until });
    // LIKE ignores case for ASCII on SQLite and under MariaDB's default collation; the
    // sender is narrowed in the metadata's text and confirmed on the parsed metadata below.
    if (q.subject) qb.andWhere("LOWER(e.subject) LIKE LOWER(:subject) ESCAPE '!'", { subject: likeAny(q.subject) });
    if (q.from) qb.andWhere("LOWER(e.metadata_json) LIKE LOWER(:from) ESCAPE '!'", { from: likeAny(q.from) });
    if (q.messageId) {
      const bare = q.messageId.replace(/^<(.*)>$/, '$1');
      qb.andWhere('e.message_id IN (:...ids)', { ids: [bare, `<${bare}>`] });
    }
    if (q.pageToken) {
      const { at, id } = decodeCursor(q.pageToken);
      qb.andWhere('(e.stored_at < :at OR (e.stored_at = :at AND e.id < :id))', { at, id });
    }
    const rows = await this.gate(() => qb.getMany());
    const page = rows.slice(0, size);
    const last = page.at(-1);
    const from = q.from?.toLowerCase();
    const sentBy = (m: ParsedMetadata) => !from || (m.from !== null && (m.from.address.toLowerCase().includes(from) || m.from.name.toLowerCase().includes(from)));
    return {
      items: page.map((row) => ({ row, metadata: JSON.parse(row.metadataJson) as ParsedMetadata })).filter((e) => sentBy(e.metadata)),
      nextPageToken: rows.length > size && last ? encodeCursor(last.storedAt, last.id) : '',
    };
  }

  /** Emails of a connector stored since each time, and when the newest was stored. */
  async count(scope: Scope, connectorId: string, since: readonly Date[]): Promise<{ counts: number[]; lastStoredAt: Date | undefined }> {
    const owned = scope.every ? {} : { workspaceId: scope.workspace };
    return this.gate(async () => {
      const repo = this.ds.getRepository(EmailEntity);
      const counts: number[] = [];
      for (const at of since) counts.push(await repo.createQueryBuilder('e').where({ connectorId, ...owned }).andWhere('e.stored_at >= :at', { at }).getCount());
      const newest = await repo.findOne({ select: { id: true, storedAt: true }, where: { connectorId, ...owned }, order: { storedAt: 'DESC' } });
      return { counts, lastStoredAt: newest?.storedAt };
    });
  }

  /**
   * The raw bytes, chunk by chunk or as the object store sends them (one piece in memory at
   * a time). The SHA-256 is checked as the bytes go out; on a mismatch the stream ends with
   * an error instead of pretending the copy is good.
   */
  async *readRaw(scope: Scope, emailId: string): AsyncGenerator<Buffer> {
    const { row } = await this.get(scope, emailId);
    const hash = createHash('sha256');
    for await (const piece of this.#bytes(row)) {
      hash.update(piece);
      yield piece;
    }
    if (hash.digest('hex') !== row.sha256) throw new InternalError(`email ${emailId}: stored bytes fail their SHA-256 check`);
  }

  /** Where an email's bytes are: its object (blob_key), else its chunks. */
  async *#bytes(row: EmailRow): AsyncGenerator<Buffer> {
    if (row.blobKey) {
      const blobs = this.options.blobs;
      if (!blobs) throw new PreconditionError(`email ${row.id} lies in an object store, and this storage service has none configured (MAIL_BLOBS_URL)`, { reason: 'BLOB_STORE_NOT_CONFIGURED' });
      yield* blobs.get(row.blobKey, row.size);
      return;
    }
    const chunks = this.ds.getRepository(ChunkEntity);
    let sent = 0;
    for (let seq = 0; seq < row.chunkCount; seq++) {
      const chunk = await this.gate(() => chunks.findOneBy({ emailId: row.id, seq }));
      if (!chunk) {
        // Moved into the object store while this download read its chunks (BlobMigration):
        // the rest comes from the object.
        const moved = await this.gate(() => this.ds.getRepository(EmailEntity).findOneBy({ id: row.id }));
        if (!moved?.blobKey) throw new InternalError(`email ${row.id} is missing chunk ${seq} of ${row.chunkCount}`);
        yield* skipBytes(this.#bytes(moved), sent);
        return;
      }
      sent += chunk.data.length;
      yield Buffer.from(chunk.data);
    }
  }
}

/** `pieces` without their first `count` bytes. */
async function* skipBytes(pieces: AsyncGenerator<Buffer>, count: number): AsyncGenerator<Buffer> {
  let left = count;
  for await (const piece of pieces) {
    if (left >= piece.length) {
      left -= piece.length;
      continue;
    }
    yield left > 0 ? piece.subarray(left) : piece;
    left = 0;
  }
}

function encodeCursor(at: Date, id: string): string {
  return Buffer.from(`${new Date(at).getTime()}|${id}`, 'utf8').toString('base64url');
}

function decodeCursor(token: string): { at: Date; id: string } {
  const [ms, id] = Buffer.from(token, 'base64url').toString('utf8').split('|');
  if (!ms || !id || !/^\d+$/.test(ms)) throw ValidationError.single('page_token', 'invalid', 'is not a token from a previous page');
  return { at: new Date(Number(ms)), id };
}

/** A group commit, measured (duration and size) whatever its outcome. */
async function timedGroup<T>(items: readonly unknown[], write: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await write();
  } finally {
    storageMetrics.commitSeconds.observe((performance.now() - t0) / 1000);
    storageMetrics.commitEmails.observe(items.length);
  }
}
