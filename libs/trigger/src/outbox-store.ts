import { IsNull, LessThanOrEqual, MoreThan, type DataSource } from 'typeorm';
import type { Gate } from '@postbote/db';
import { OutboxEntity, type OutboxRow } from '@postbote/email-outbox';

/** The trigger service's view of the outbox: pending rows in id order, and marking. */
export class OutboxStore {
  constructor(
    private readonly ds: DataSource,
    private readonly gate: Gate,
  ) {}

  /** Pending rows after `afterId`, oldest first. */
  pending(afterId: number, limit: number): Promise<OutboxRow[]> {
    return this.gate(() =>
      this.ds.getRepository(OutboxEntity).find({ where: { publishedAt: IsNull(), id: MoreThan(afterId) }, order: { id: 'ASC' }, take: limit }),
    );
  }

  /** Marks every pending row up to `lastId` published (idempotent). */
  async markPublished(lastId: number, at: Date): Promise<number> {
    if (lastId < 0) return 0;
    const res = await this.gate(() =>
      this.ds.getRepository(OutboxEntity).update({ id: LessThanOrEqual(lastId), publishedAt: IsNull() }, { publishedAt: at }),
    );
    return res.affected ?? 0;
  }

  /** How far publishing is behind: unpublished rows and when the oldest was written. */
  lag(): Promise<{ pending: number; oldest: Date | undefined }> {
    return this.gate(async () => {
      const repo = this.ds.getRepository(OutboxEntity);
      const pending = await repo.count({ where: { publishedAt: IsNull() } });
      const first = pending > 0 ? await repo.findOne({ select: { id: true, createdAt: true }, where: { publishedAt: IsNull() }, order: { id: 'ASC' } }) : null;
      return { pending, oldest: first?.createdAt };
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
      const pendingUpTo = await repo.count({ where: { id: LessThanOrEqual(id), publishedAt: IsNull() } });
      const max = (await repo.createQueryBuilder('o').select('MAX(o.id)', 'max').getRawOne<{ max: number | string | null }>())?.max;
      return { eventId: row?.eventId, pendingUpTo, maxId: max === null || max === undefined ? -1 : Number(max) };
    });
  }
}
