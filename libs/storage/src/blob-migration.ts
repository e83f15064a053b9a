import { createHash } from 'node:crypto';
import { IsNull, MoreThan, type DataSource } from 'typeorm';
import type { Gate } from '@postbote/db';
import { InternalError, PreconditionError, ValidationError } from '@postbote/errors';
import type { Logger } from '@postbote/logging';
import type { BlobStore } from './blob-store';
import { ChunkEntity, EmailEntity, type EmailRow } from './entities';
import { IncomingEmail, type IncomingLimits } from './incoming-email';

/** What one call may do: emails per call, how many at once, and when it stops starting new ones. */
export const MIGRATION_TUNING = Object.freeze({
  maxEmailsPerCall: 10_000,
  /** Emails moved at once: each holds one email in memory (or a scratch file) and two requests to the store. */
  parallel: 4,
  /** A call stops starting emails after this long, well inside the CLI's deadline for it. */
  callMs: 20_000,
});

/** An email that stays in the database, and why (a stable code). */
export interface MigrationFailure {
  readonly emailId: string;
  readonly reason: 'BYTES_MISMATCH' | 'CHUNK_MISSING' | 'READBACK_MISMATCH';
  readonly message: string;
}

export interface MigrationBatch {
  migratedEmails: number;
  migratedBytes: number;
  readonly failures: MigrationFailure[];
  nextAfterEmailId: string;
  done: boolean;
}

type Outcome = { readonly moved: number } | MigrationFailure | 'gone';

/**
 * Moves raw mail kept as chunks into the object store, online (decision 0030). Per email:
 * its chunks are read and hashed against the SHA-256 stored with it, written as its object,
 * read back and hashed again; then one transaction makes the row name the object — only if
 * it still names none — and deletes its chunks. Until that commit, the email is read from
 * its chunks; a download that was reading them when they went continues from the object
 * (EmailStore.readRaw). A crash anywhere leaves the email on its chunks (and at most an
 * object no row names, which the next run overwrites or the orphan sweep removes).
 * Resumable: the state is the rows themselves, walked in id order from a cursor.
 */
export class BlobMigration {
  constructor(
    private readonly ds: DataSource,
    private readonly gate: Gate,
    private readonly blobs: BlobStore | undefined,
    private readonly incoming: IncomingLimits,
    private readonly logger: Logger,
    private readonly now: () => Date,
  ) {}

  /** Emails (and bytes) still kept as chunks. */
  async remaining(): Promise<{ emails: number; bytes: number }> {
    const [row] = await this.gate(() => this.ds.query('SELECT COUNT(*) AS n, COALESCE(SUM(size), 0) AS bytes FROM emails WHERE blob_key IS NULL') as Promise<Array<{ n: unknown; bytes: unknown }>>);
    return { emails: Number(row?.n ?? 0), bytes: Number(row?.bytes ?? 0) };
  }

  /** Moves up to `maxEmails` emails after `after` (id order); see MigrateBlobsRequest. */
  async run(after: string, maxEmails: number): Promise<MigrationBatch> {
    const blobs = this.#store();
    if (maxEmails > MIGRATION_TUNING.maxEmailsPerCall) throw ValidationError.single('max_emails', 'max', `at most ${MIGRATION_TUNING.maxEmailsPerCall} per call`);
    const rows = await this.gate(() =>
      this.ds.getRepository(EmailEntity).find({
        select: { id: true, workspaceId: true, connectorId: true, size: true, sha256: true, chunkCount: true },
        where: { blobKey: IsNull(), ...(after ? { id: MoreThan(after) } : {}) },
        order: { id: 'ASC' },
        take: maxEmails,
      }),
    );
    const batch: MigrationBatch = { migratedEmails: 0, migratedBytes: 0, failures: [], nextAfterEmailId: after, done: rows.length < maxEmails };
    const stopAt = this.now().getTime() + MIGRATION_TUNING.callMs;
    for (let i = 0; i < rows.length; i += MIGRATION_TUNING.parallel) {
      if (this.now().getTime() >= stopAt) {
        batch.done = false;
        break;
      }
      const window = rows.slice(i, i + MIGRATION_TUNING.parallel);
      const outcomes = await Promise.all(window.map((row) => this.#migrate(blobs, row)));
      for (const outcome of outcomes) {
        if (outcome === 'gone') continue;
        if ('moved' in outcome) {
          batch.migratedEmails++;
          batch.migratedBytes += outcome.moved;
        } else batch.failures.push(outcome);
      }
      batch.nextAfterEmailId = window.at(-1)?.id ?? batch.nextAfterEmailId;
    }
    if (batch.failures.length) this.logger.warn({ failures: batch.failures }, 'emails left on their database chunks: their bytes could not be verified');
    return batch;
  }

  #store(): BlobStore {
    if (!this.blobs) throw new PreconditionError('this storage service has no object store configured (MAIL_BLOBS_URL): there is nowhere to move raw mail to', { reason: 'BLOB_STORE_NOT_CONFIGURED' });
    return this.blobs;
  }

  async #migrate(blobs: BlobStore, row: Pick<EmailRow, 'id' | 'workspaceId' | 'connectorId' | 'size' | 'sha256' | 'chunkCount'>): Promise<Outcome> {
    const failed = (reason: MigrationFailure['reason'], message: string): MigrationFailure => ({ emailId: row.id, reason, message });
    const body = new IncomingEmail(this.incoming);
    try {
      const chunks = this.ds.getRepository(ChunkEntity);
      for (let seq = 0; seq < row.chunkCount; seq++) {
        const chunk = await this.gate(() => chunks.findOneBy({ emailId: row.id, seq }));
        if (!chunk) return (await this.#stillOnChunks(row.id)) ? failed('CHUNK_MISSING', `chunk ${seq} of ${row.chunkCount} is missing`) : 'gone';
        await body.append(Buffer.from(chunk.data));
      }
      const sha256 = body.finish();
      if (body.size !== row.size || sha256 !== row.sha256) return failed('BYTES_MISMATCH', `its chunks hold ${body.size} bytes with SHA-256 ${sha256}; the email has ${row.size} bytes with ${row.sha256}`);
      await body.seal();
      const key = blobs.keyFor(row.workspaceId, row.connectorId, row.id);
      await blobs.put(key, body, row.size, sha256);
      const readBack = await this.#hashOf(blobs, key, row.size);
      if (readBack !== sha256) return failed('READBACK_MISMATCH', `the object ${key} read back ${readBack === undefined ? 'incomplete' : `with SHA-256 ${readBack}`}`);
      if (await this.#nameObject(row.id, key)) return { moved: row.size };
      // Purged meanwhile (or moved by another run, to this same key): an object no row names
      // goes now, not after the sweep's day.
      const named = await this.gate(() => this.ds.getRepository(EmailEntity).findOne({ select: { id: true }, where: { id: row.id } }));
      if (!named) await blobs.delete([key]);
      return 'gone';
    } finally {
      await body.discard();
    }
  }

  /** The object's SHA-256 as the store returns it; undefined when it is missing or not `size` bytes. */
  async #hashOf(blobs: BlobStore, key: string, size: number): Promise<string | undefined> {
    const hash = createHash('sha256');
    try {
      for await (const piece of blobs.get(key, size)) hash.update(piece);
    } catch (err) {
      if (err instanceof InternalError) return undefined;
      throw err;
    }
    return hash.digest('hex');
  }

  /** The row names the object and its chunks go, in one transaction, if the row still names none. */
  async #nameObject(emailId: string, key: string): Promise<boolean> {
    return this.gate(() =>
      this.ds.transaction(async (tx) => {
        const res = await tx.createQueryBuilder().update(EmailEntity).set({ blobKey: key, chunkCount: 0 }).where('id = :id AND blob_key IS NULL', { id: emailId }).execute();
        if (res.affected !== 1) return false;
        await tx.getRepository(ChunkEntity).delete({ emailId });
        return true;
      }),
    );
  }

  async #stillOnChunks(emailId: string): Promise<boolean> {
    const row = await this.gate(() => this.ds.getRepository(EmailEntity).findOne({ select: { id: true, blobKey: true }, where: { id: emailId } }));
    return row !== null && row.blobKey === null;
  }
}
