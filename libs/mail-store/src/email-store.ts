import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { In, QueryFailedError, type DataSource, type EntityManager } from 'typeorm';
import type { Gate } from '@postbote/db';
import { OutboxEntity } from '@postbote/email-outbox';
import { InternalError, NotFoundError, ValidationError } from '@postbote/errors';
import type { Logger } from '@postbote/logging';
import { contentKey, sourceKey, type EmailSource } from './dedupe-keys';
import { ChunkEntity, DedupeEntity, EmailEntity, type DedupeRow, type EmailRow } from './entities';
import { parseMetadata, type ParsedMetadata } from './parse-metadata';
import { buildEmailReceived } from './email-event';
import { rechunk, spool } from './spool';

export const CHUNK_BYTES = 1024 * 1024;

export interface StoreRequest {
  readonly connectorId: string;
  readonly connectorName: string;
  readonly workflowId: string;
  readonly source: EmailSource;
  readonly size?: number | undefined;
  readonly reprocess: boolean;
  readonly occurrence: string;
  readonly receivedAt?: Date | undefined;
}

export interface StoreResult {
  readonly emailId: string;
  readonly eventId: string;
  readonly duplicate: boolean;
  readonly sha256: string;
  readonly size: number;
}

export interface StoredEmail {
  readonly row: EmailRow;
  readonly metadata: ParsedMetadata;
}

export interface EmailStoreOptions {
  /** host:port consumers use to download raw mail (goes into each event). */
  readonly publicAddress: string;
  readonly spoolDir: string;
  readonly maxMessageBytes: number;
  readonly previewChars: number;
  readonly parseTimeoutMs: number;
}

export interface ListQuery {
  readonly connectorId: string;
  readonly since?: Date | undefined;
  readonly until?: Date | undefined;
  readonly pageSize: number;
  readonly pageToken: string;
}

class Duplicate extends Error {}

/**
 * Byte-exact, idempotent email storage. A store spools the upload to disk (hash and
 * size), parses metadata from the spool, writes the raw bytes as 1 MiB chunk rows, then
 * commits the email row, its dedupe keys and the trigger outbox row in one short
 * transaction. Chunks written before that commit are invisible until it happens and are
 * swept if it never does, so a 50 MB message never means a 50 MB transaction.
 */
export class EmailStore {
  constructor(
    private readonly ds: DataSource,
    private readonly gate: Gate,
    private readonly options: EmailStoreOptions,
    private readonly logger: Logger,
    private readonly now: () => Date,
  ) {}

  async store(req: StoreRequest, body: AsyncIterable<Uint8Array>): Promise<StoreResult> {
    validateRequest(req);
    const srcKey = sourceKey(req.source, req.occurrence);
    const known = await this.#dedupe(req.connectorId, srcKey);
    if (known) {
      // Read the upload to its end anyway: the client stream must complete cleanly.
      let size = 0;
      for await (const piece of body) size += piece.length;
      return { emailId: known.emailId, eventId: known.eventId, duplicate: true, sha256: '', size };
    }

    const spooled = await spool(this.options.spoolDir, body, this.options.maxMessageBytes);
    try {
      if (req.size !== undefined && req.size !== spooled.size) {
        throw ValidationError.single('header.size', 'size-mismatch', `announced ${req.size} bytes but received ${spooled.size}: upload incomplete, nothing stored`);
      }
      const metadata = await parseMetadata(createReadStream(spooled.path), {
        previewChars: this.options.previewChars,
        timeoutMs: this.options.parseTimeoutMs,
      });
      const ctKey = contentKey(metadata.messageId, spooled.sha256);
      if (!req.reprocess) {
        const same = await this.#dedupe(req.connectorId, ctKey);
        if (same) {
          await this.#remember(req.connectorId, srcKey, 'SOURCE', same.emailId, same.eventId);
          return { emailId: same.emailId, eventId: same.eventId, duplicate: true, sha256: spooled.sha256, size: spooled.size };
        }
      }

      const emailId = randomUUID();
      const eventId = randomUUID();
      let chunks = 0;
      try {
        for await (const chunk of rechunk(spooled.read(CHUNK_BYTES), CHUNK_BYTES)) {
          const seq = chunks++;
          await this.gate(() => this.ds.getRepository(ChunkEntity).insert({ emailId, seq, data: chunk, createdAt: this.now() }));
        }
        const storedAt = this.now();
        await this.gate(() => this.ds.transaction(async (tx) => {
          await this.#lockOutbox(tx);
          await insertKey(tx, { connectorId: req.connectorId, keyHash: srcKey, kind: 'SOURCE', emailId, eventId, createdAt: storedAt }, false);
          await insertKey(tx, { connectorId: req.connectorId, keyHash: ctKey, kind: 'CONTENT', emailId, eventId, createdAt: storedAt }, req.reprocess);
          await tx.getRepository(EmailEntity).insert(emailRow(req, metadata, { emailId, eventId, sha256: spooled.sha256, size: spooled.size, chunks, storedAt }));
          const payload = buildEmailReceived(
            {
              eventId,
              emailId,
              connectorId: req.connectorId,
              connectorName: req.connectorName,
              workflowId: req.workflowId,
              source: req.source,
              receivedAt: req.receivedAt ?? storedAt,
              storedAt,
              sha256: spooled.sha256,
              size: spooled.size,
              storageAddress: this.options.publicAddress,
            },
            metadata,
          );
          await tx.getRepository(OutboxEntity).insert({ eventId, emailId, connectorId: req.connectorId, payload: Buffer.from(payload), createdAt: storedAt, publishedAt: null });
        }));
        this.logger.info({ connectorId: req.connectorId, emailId, size: spooled.size, parseProblems: metadata.problems.length }, 'email stored');
        return { emailId, eventId, duplicate: false, sha256: spooled.sha256, size: spooled.size };
      } catch (err) {
        await this.gate(() => this.ds.getRepository(ChunkEntity).delete({ emailId })).catch(() => undefined);
        if (!(err instanceof Duplicate)) throw err;
        // A concurrent store of the same message committed first: answer with its result.
        const winner = (await this.#dedupe(req.connectorId, srcKey)) ?? (await this.#dedupe(req.connectorId, ctKey));
        if (!winner) throw new InternalError('dedupe conflict without a winning row', { cause: err });
        await this.#remember(req.connectorId, srcKey, 'SOURCE', winner.emailId, winner.eventId);
        return { emailId: winner.emailId, eventId: winner.eventId, duplicate: true, sha256: spooled.sha256, size: spooled.size };
      }
    } finally {
      await spooled.remove();
    }
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

  async get(emailId: string): Promise<StoredEmail> {
    const row = await this.gate(() => this.ds.getRepository(EmailEntity).findOneBy({ id: emailId }));
    if (!row) throw new NotFoundError(`no stored email "${emailId}" (never stored, or removed by retention)`);
    return { row, metadata: JSON.parse(row.metadataJson) as ParsedMetadata };
  }

  /** Newest first; the page token encodes the last (stored_at, id) seen. */
  async list(q: ListQuery): Promise<{ items: StoredEmail[]; nextPageToken: string }> {
    const size = Math.min(Math.max(q.pageSize || 50, 1), 500);
    const qb = this.ds
      .getRepository(EmailEntity)
      .createQueryBuilder('e')
      .where('e.connector_id = :c', { c: q.connectorId })
      .orderBy('e.stored_at', 'DESC')
      .addOrderBy('e.id', 'DESC')
      .take(size + 1);
    if (q.since) qb.andWhere('e.stored_at >= :since', { since: q.since });
    if (q.until) qb.andWhere('e.stored_at < :until', { until: q.until });
    if (q.pageToken) {
      const { at, id } = decodeCursor(q.pageToken);
      qb.andWhere('(e.stored_at < :at OR (e.stored_at = :at AND e.id < :id))', { at, id });
    }
    const rows = await this.gate(() => qb.getMany());
    const page = rows.slice(0, size);
    const last = page.at(-1);
    return {
      items: page.map((row) => ({ row, metadata: JSON.parse(row.metadataJson) as ParsedMetadata })),
      nextPageToken: rows.length > size && last ? encodeCursor(last.storedAt, last.id) : '',
    };
  }

  /**
   * The raw bytes, chunk by chunk (one chunk in memory at a time). The SHA-256 is checked
   * as the bytes go out; on a mismatch the stream ends with an error instead of
   * pretending the copy is good.
   */
  async *readRaw(emailId: string): AsyncGenerator<Buffer> {
    const { row } = await this.get(emailId);
    const hash = createHash('sha256');
    const chunks = this.ds.getRepository(ChunkEntity);
    for (let seq = 0; seq < row.chunkCount; seq++) {
      const chunk = await this.gate(() => chunks.findOneBy({ emailId, seq }));
      if (!chunk) throw new InternalError(`email ${emailId} is missing chunk ${seq} of ${row.chunkCount}`);
      const data = Buffer.from(chunk.data);
      hash.update(data);
      yield data;
    }
    if (hash.digest('hex') !== row.sha256) throw new InternalError(`email ${emailId}: stored bytes fail their SHA-256 check`);
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

  async #dedupe(connectorId: string, keyHash: string): Promise<{ emailId: string; eventId: string } | null> {
    return this.gate(() => this.ds.getRepository(DedupeEntity).findOne({ where: { connectorId, keyHash }, select: { emailId: true, eventId: true } }));
  }

  async #remember(connectorId: string, keyHash: string, kind: string, emailId: string, eventId: string): Promise<void> {
    await this.gate(() =>
      this.ds.createQueryBuilder().insert().into(DedupeEntity).values({ connectorId, keyHash, kind, emailId, eventId, createdAt: this.now() }).orIgnore().execute(),
    );
  }
}

async function insertKey(tx: EntityManager, row: DedupeRow, ignoreConflict: boolean): Promise<void> {
  const qb = tx.createQueryBuilder().insert().into(DedupeEntity).values(row);
  if (ignoreConflict) {
    await qb.orIgnore().execute();
    return;
  }
  try {
    await qb.execute();
  } catch (err) {
    if (err instanceof QueryFailedError && /UNIQUE|Duplicate entry|PRIMARY/i.test(err.message)) throw new Duplicate();
    throw err;
  }
}

function emailRow(
  req: StoreRequest,
  m: ParsedMetadata,
  x: { emailId: string; eventId: string; sha256: string; size: number; chunks: number; storedAt: Date },
): EmailRow {
  const s = req.source;
  return {
    id: x.emailId,
    connectorId: req.connectorId,
    eventId: x.eventId,
    sourceKind: s.kind,
    folder: s.kind === 'IMAP' ? s.folder : null,
    uidValidity: s.kind === 'IMAP' ? s.uidValidity : null,
    uid: s.kind === 'IMAP' ? s.uid : null,
    uidl: s.kind === 'POP3' ? s.uidl : null,
    occurrence: req.occurrence,
    messageId: m.messageId.slice(0, 998),
    sha256: x.sha256,
    size: x.size,
    chunkCount: x.chunks,
    metadataJson: JSON.stringify(m),
    subject: m.subject.slice(0, 998),
    parseError: m.problems.length ? m.problems.join('; ') : null,
    receivedAt: req.receivedAt ?? x.storedAt,
    storedAt: x.storedAt,
  };
}

function validateRequest(req: StoreRequest): void {
  const v: Array<{ field: string; rule: string; message: string }> = [];
  if (!/^[0-9a-zA-Z-]{1,36}$/.test(req.connectorId)) v.push({ field: 'header.connector_id', rule: 'id', message: 'must be a connector id' });
  if (req.source.kind === 'IMAP') {
    if (!req.source.folder) v.push({ field: 'header.source.imap.folder', rule: 'required', message: 'must not be empty' });
    if (!(req.source.uid > 0)) v.push({ field: 'header.source.imap.uid', rule: 'range', message: 'must be a positive UID' });
    if (!(req.source.uidValidity > 0)) v.push({ field: 'header.source.imap.uid_validity', rule: 'range', message: 'must be positive' });
  } else if (!req.source.uidl || req.source.uidl.length > 255) {
    v.push({ field: 'header.source.pop3.uidl', rule: 'required', message: 'must be 1-255 characters' });
  }
  if (req.workflowId.length > 200) v.push({ field: 'header.workflow_id', rule: 'max-length', message: 'must be at most 200 characters' });
  if (req.occurrence.length > 128) v.push({ field: 'header.occurrence', rule: 'max-length', message: 'must be at most 128 characters' });
  if (v.length) throw new ValidationError(v);
}

function encodeCursor(at: Date, id: string): string {
  return Buffer.from(`${new Date(at).getTime()}|${id}`, 'utf8').toString('base64url');
}

function decodeCursor(token: string): { at: Date; id: string } {
  const [ms, id] = Buffer.from(token, 'base64url').toString('utf8').split('|');
  if (!ms || !id || !/^\d+$/.test(ms)) throw ValidationError.single('page_token', 'invalid', 'is not a token from a previous page');
  return { at: new Date(Number(ms)), id };
}
