import { In, IsNull, LessThan, Not, type DataSource } from 'typeorm';
import type { Gate } from '@postbote/db';
import { OutboxEntity } from '@postbote/email-outbox';
import type { Logger } from '@postbote/logging';
import type { BlobStore } from './blob-store';
import type { ConnectorLog } from './connector-log';
import { ChunkEntity, DedupeEntity, EmailEntity, LogEntity } from './entities';
import type { StorageConnectors } from './storage-connectors';

const DAY = 86_400_000;
/** The orphan sweep lists this many objects per request, and at most this many requests per run. */
const ORPHAN_PAGE = 1_000;
const ORPHAN_PAGES_PER_RUN = 100;

export interface RetentionOptions {
  /** Emails deleted per batch; each batch is its own short transaction. */
  readonly batchSize: number;
  readonly logRetentionDays: number;
  /** Dedupe keys outlive their email by this many days (see README, retention). */
  readonly dedupeExtraDays: number;
  /** Chunks and objects without an email row older than this are leftovers of failed stores. */
  readonly orphanChunkMinutes: number;
  /** The object store of raw mail (MAIL_BLOBS_URL): purged emails' objects go, and orphans are swept. */
  readonly blobs?: BlobStore | undefined;
}

export interface PurgeReport {
  emails: number;
  connectorsRemoved: number;
  logEntries: number;
  dedupeKeys: number;
  orphanChunks: number;
  /** Objects without an email row (a crash between an object's write and its row's commit). */
  orphanBlobs: number;
}

/**
 * Deletes what retention says must go, in small batches so no statement holds locks
 * for long and stores keep flowing meanwhile. Time comes from the caller (`now`), so
 * tests move the clock instead of waiting days.
 */
export class RetentionJob {
  /** Where the orphan sweep's listing stopped (undefined: at the start). */
  #sweptTo: string | undefined;

  constructor(
    private readonly ds: DataSource,
    private readonly gate: Gate,
    private readonly connectors: StorageConnectors,
    private readonly log: ConnectorLog,
    private readonly logger: Logger,
    private readonly options: RetentionOptions,
  ) {}

  async runOnce(now: Date): Promise<PurgeReport> {
    const report: PurgeReport = { emails: 0, connectorsRemoved: 0, logEntries: 0, dedupeKeys: 0, orphanChunks: 0, orphanBlobs: 0 };
    for (const c of await this.connectors.all()) {
      const dueForRemoval = c.deletedAt !== null && (c.purgeNow || new Date(c.deletedAt).getTime() + c.retentionDays * DAY <= now.getTime());
      const cutoff = dueForRemoval ? new Date(now.getTime() + 1) : new Date(now.getTime() - c.retentionDays * DAY);
      const purged = await this.#purgeEmails(c.connectorId, cutoff);
      report.emails += purged;
      if (dueForRemoval) {
        report.dedupeKeys += await this.#deleteBatched(DedupeEntity, { connectorId: c.connectorId });
        report.logEntries += await this.#deleteBatched(LogEntity, { connectorId: c.connectorId });
        await this.connectors.forget(c.connectorId);
        report.connectorsRemoved++;
        this.logger.info({ connectorId: c.connectorId, emails: purged }, 'deleted connector removed from storage');
        continue;
      }
      if (purged > 0) {
        await this.log.append([
          { workspace: c.workspaceId, connectorId: c.connectorId, time: now, level: 'INFO', code: 'PURGED', message: `retention (${c.retentionDays} days) removed ${purged} email(s)` },
        ]);
      }
      const dedupeCutoff = new Date(now.getTime() - (c.retentionDays + this.options.dedupeExtraDays) * DAY);
      report.dedupeKeys += await this.#deleteBatched(DedupeEntity, { connectorId: c.connectorId, createdAt: LessThan(dedupeCutoff) });
    }
    report.logEntries += await this.#deleteBatched(LogEntity, { time: LessThan(new Date(now.getTime() - this.options.logRetentionDays * DAY)) });
    const orphanAge = new Date(now.getTime() - this.options.orphanChunkMinutes * 60_000);
    report.orphanChunks += await this.#orphanChunks(orphanAge);
    report.orphanBlobs += await this.#orphanBlobs(orphanAge);
    if (report.emails || report.connectorsRemoved || report.logEntries || report.dedupeKeys || report.orphanChunks || report.orphanBlobs) {
      this.logger.info(report, 'retention purge finished');
    }
    return report;
  }

  async #purgeEmails(connectorId: string, cutoff: Date): Promise<number> {
    let total = 0;
    for (;;) {
      const done = await this.gate(async () => {
        const rows = await this.ds.getRepository(EmailEntity).find({
          select: { id: true, size: true, workspaceId: true, blobKey: true },
          where: { connectorId, storedAt: LessThan(cutoff) },
          order: { storedAt: 'ASC' },
          take: this.options.batchSize,
        });
        const ids = rows.map((r) => r.id);
        if (ids.length === 0) return rows;
        await this.ds.transaction(async (tx) => {
          // Email rows first: once it is gone the chunks are unreachable, so a crash in
          // between leaves only orphans for the sweeper, never a half-readable email.
          await tx.getRepository(EmailEntity).delete({ id: In(ids) });
          // A connector's emails are all of one workspace; its count goes down with them.
          const bytes = rows.reduce((n, r) => n + r.size, 0);
          await tx.query('UPDATE storage_workspaces SET stored_bytes = stored_bytes - ?, stored_emails = stored_emails - ? WHERE workspace_id = ?', [bytes, rows.length, rows[0]?.workspaceId ?? '']);
          await tx.getRepository(ChunkEntity).delete({ emailId: In(ids) });
          await tx.getRepository(OutboxEntity).delete({ emailId: In(ids), publishedAt: LessThan(cutoff) });
          // A parked event goes with its email: there is nothing left for it to name.
          await tx.getRepository(OutboxEntity).delete({ emailId: In(ids), parkedAt: Not(IsNull()) });
        });
        return rows;
      });
      // Objects after their rows (as chunks are): a failure here leaves orphans for the sweep.
      await this.#deleteBlobs(done.flatMap((r) => (r.blobKey ? [r.blobKey] : [])));
      total += done.length;
      if (done.length < this.options.batchSize) return total;
    }
  }

  async #deleteBlobs(keys: string[]): Promise<void> {
    if (!keys.length || !this.options.blobs) return;
    await this.options.blobs.delete(keys).catch((err: unknown) => {
      this.logger.warn({ err, objects: keys.length }, 'could not delete purged emails\' objects; the orphan sweep retries');
    });
  }

  /**
   * Objects no email row names, older than `olderThan`: listed a page at a time from where the
   * last run stopped (a bucket of millions is walked over many runs, not in one), each page's
   * ids looked up in one query. An object younger than that may belong to a commit in flight.
   */
  async #orphanBlobs(olderThan: Date): Promise<number> {
    const blobs = this.options.blobs;
    if (!blobs) return 0;
    let removed = 0;
    for (let page = 0; page < ORPHAN_PAGES_PER_RUN; page++) {
      const { objects, done } = await blobs.list(this.#sweptTo, ORPHAN_PAGE);
      this.#sweptTo = done ? undefined : objects.at(-1)?.key;
      const old = objects.flatMap((o) => {
        const id = blobs.emailIdOf(o.key);
        return id && o.lastModified < olderThan ? [{ key: o.key, id }] : [];
      });
      if (old.length) {
        const named = await this.gate(() => this.ds.getRepository(EmailEntity).find({ select: { id: true, blobKey: true }, where: { id: In(old.map((o) => o.id)) } }));
        const kept = new Set(named.map((r) => r.blobKey));
        const orphans = old.filter((o) => !kept.has(o.key)).map((o) => o.key);
        if (orphans.length) {
          await blobs.delete(orphans);
          removed += orphans.length;
        }
      }
      if (done) break;
    }
    return removed;
  }

  async #deleteBatched(entity: typeof DedupeEntity | typeof LogEntity, where: Record<string, unknown>): Promise<number> {
    // Deleting by primary keys in pages keeps each statement small on both databases.
    let total = 0;
    for (;;) {
      const n = await this.gate(async () => {
        const repo = this.ds.getRepository(entity);
        const rows = await repo.find({ where, take: this.options.batchSize });
        if (rows.length === 0) return 0;
        await repo.remove(rows as never[]);
        return rows.length;
      });
      total += n;
      if (n < this.options.batchSize) return total;
    }
  }

  async #orphanChunks(olderThan: Date): Promise<number> {
    return this.gate(async () => {
      const rows: Array<{ email_id: string }> = await this.ds
        .getRepository(ChunkEntity)
        .createQueryBuilder('c')
        .select('DISTINCT c.email_id', 'email_id')
        .leftJoin('emails', 'e', 'e.id = c.email_id')
        .where('e.id IS NULL')
        .andWhere('c.created_at < :olderThan', { olderThan })
        .limit(this.options.batchSize)
        .getRawMany();
      if (rows.length === 0) return 0;
      const ids = rows.map((r) => r.email_id);
      await this.ds.getRepository(ChunkEntity).delete({ emailId: In(ids) });
      return ids.length;
    });
  }
}
