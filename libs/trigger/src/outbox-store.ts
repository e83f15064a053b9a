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

  backlog(): Promise<number> {
    return this.gate(() => this.ds.getRepository(OutboxEntity).count({ where: { publishedAt: IsNull() } }));
  }
}
