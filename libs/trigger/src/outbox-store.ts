import { IsNull, LessThanOrEqual, Not, type DataSource } from 'typeorm';
import type { Scope } from '@postbote/auth';
import type { Gate, TransactionRunner } from '@postbote/db';
import { OutboxEntity, type OutboxRow } from '@postbote/email-outbox';
import { NotFoundError, ValidationError } from '@postbote/errors';

/** What the relay publishes of an outbox row. */
export type PendingRow = Pick<OutboxRow, 'id' | 'eventId' | 'emailId' | 'connectorId' | 'workspaceId' | 'payload'>;

/** Neither published nor set aside: what the relay still has to send. */
const WAITING = { publishedAt: IsNull(), parkedAt: IsNull() };
/** WAITING in plain SQL, on the columns as the storage migrations name them. */
const WAITING_SQL = 'published_at IS NULL AND parked_at IS NULL';

/**
 * The trigger service's view of the outbox: pending rows in id order, marking, and the rows
 * the relay parked (it could not publish them) — which are neither pending nor published,
 * and never count as a gap in what was published up to a position.
 */
export class OutboxStore {
  /**
   * `runner`: where the relay's per-batch write runs — on SQLite a writer thread, so the
   * commit, its disk sync and any wait for the storage writer's lock stay off the event loop.
   */
  constructor(
    private readonly ds: DataSource,
    private readonly gate: Gate,
    private readonly runner: TransactionRunner,
  ) {}

  /**
   * Pending rows after `afterId`, oldest first, with what publishing needs of them. Plain SQL
   * on the waiting index's columns (as markPublished): an idle relay asks four times a second —
   * most of an idle all-in-one's CPU — and the ORM's query building and hydration added about a
   * quarter to each look-up (benchmarks.md, "an idle all-in-one").
   */
  async pending(afterId: number, limit: number): Promise<PendingRow[]> {
    const sql = `SELECT id, event_id, email_id, connector_id, workspace_id, payload FROM trigger_outbox WHERE ${WAITING_SQL} AND id > ? ORDER BY id LIMIT ?`;
    const rows = (await this.gate(() => this.ds.query(sql, [afterId, limit]))) as Array<{ id: number | string; event_id: string; email_id: string; connector_id: string; workspace_id: string; payload: Buffer }>;
    // MariaDB's BIGINT comes as a string (the driver's big-number setting), SQLite's as a number.
    return rows.map((r) => ({ id: Number(r.id), eventId: r.event_id, emailId: r.email_id, connectorId: r.connector_id, workspaceId: r.workspace_id, payload: r.payload }));
  }

  /** Marks every pending row up to `lastId` published (idempotent); parked rows stay parked. */
  async markPublished(lastId: number, at: Date): Promise<number> {
    if (lastId < 0) return 0;
    const sql = `UPDATE trigger_outbox SET published_at = ? WHERE ${WAITING_SQL} AND id <= ?`;
    return this.runner.run([{ sql, params: [this.runner.dialect.datetime(at), lastId] }]);
  }

  /** Sets rows aside with the reason they could not be published. */
  async park(ids: readonly number[], reason: string, at: Date): Promise<void> {
    if (ids.length === 0) return;
    await this.gate(() => this.ds.getRepository(OutboxEntity).createQueryBuilder().update().set({ parkedAt: at, parkedReason: reason.slice(0, 500) }).whereInIds([...ids]).execute());
  }

  /** A workspace's parked rows, oldest first; the page token is the last id seen. */
  async parked(scope: Scope, pageSize: number, pageToken: string): Promise<{ rows: OutboxRow[]; nextPageToken: string }> {
    const size = Math.min(Math.max(pageSize || 100, 1), 500);
    if (pageToken && !/^\d{1,15}$/.test(pageToken)) throw ValidationError.single('page_token', 'invalid', 'is not a token from a previous page');
    const qb = this.ds.getRepository(OutboxEntity).createQueryBuilder('o').where('o.parked_at IS NOT NULL').orderBy('o.id', 'ASC').take(size + 1);
    if (!scope.every) qb.andWhere('o.workspace_id = :w', { w: scope.workspace });
    if (pageToken) qb.andWhere('o.id > :after', { after: Number(pageToken) });
    const rows = await this.gate(() => qb.getMany());
    const page = rows.slice(0, size);
    return { rows: page, nextPageToken: rows.length > size ? String(page.at(-1)?.id ?? '') : '' };
  }

  /**
   * Puts a parked event back in line: the same event under a new outbox id, so it is published
   * after everything waiting now (the relay's position may already be past its old id). On
   * MariaDB the insert takes the outbox's ordering lock, as every store does.
   */
  async retry(scope: Scope, eventId: string): Promise<void> {
    await this.gate(() =>
      this.ds.transaction(async (tx) => {
        const repo = tx.getRepository(OutboxEntity);
        const row = await repo.findOneBy({ eventId, parkedAt: Not(IsNull()), ...(scope.every ? {} : { workspaceId: scope.workspace }) });
        if (!row) throw new NotFoundError(`no parked event "${eventId}"`);
        if (tx.connection.options.type === 'mysql') await tx.query('SELECT id FROM trigger_outbox_lock WHERE id = 1 FOR UPDATE');
        await repo.delete({ id: row.id });
        await repo.insert({ eventId: row.eventId, emailId: row.emailId, connectorId: row.connectorId, workspaceId: row.workspaceId, payload: row.payload, createdAt: row.createdAt, publishedAt: null, parkedAt: null, parkedReason: null });
      }),
    );
  }

  /** How far publishing is behind: unpublished rows and when the oldest was written; and how many are parked. */
  lag(): Promise<{ pending: number; oldest: Date | undefined; parked: number }> {
    return this.gate(async () => {
      const repo = this.ds.getRepository(OutboxEntity);
      const pending = await repo.count({ where: WAITING });
      const first = pending > 0 ? await repo.findOne({ select: { id: true, createdAt: true }, where: WAITING, order: { id: 'ASC' } }) : null;
      const parked = await repo.count({ where: { parkedAt: Not(IsNull()) } });
      return { pending, oldest: first?.createdAt, parked };
    });
  }

  /** The database's identity (made with its schema by the storage service's migrations). */
  async identity(): Promise<string> {
    const rows = (await this.gate(() => this.ds.query('SELECT id FROM database_identity'))) as Array<{ id: string }>;
    const id = rows[0]?.id;
    if (!id) throw new Error('the database has no identity row yet (storage service migrations pending)');
    return id;
  }

  /** What this database knows of outbox row `id`: its event id (if the row is still there), unpublished rows up to it, the highest id. */
  async around(id: number): Promise<{ eventId: string | undefined; pendingUpTo: number; maxId: number }> {
    return this.gate(async () => {
      const repo = this.ds.getRepository(OutboxEntity);
      const row = await repo.findOne({ select: { eventId: true }, where: { id } });
      const pendingUpTo = await repo.count({ where: { ...WAITING, id: LessThanOrEqual(id) } });
      const max = (await repo.createQueryBuilder('o').select('MAX(o.id)', 'max').getRawOne<{ max: number | string | null }>())?.max;
      return { eventId: row?.eventId, pendingUpTo, maxId: max === null || max === undefined ? -1 : Number(max) };
    });
  }
}
