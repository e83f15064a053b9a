import { TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

// Issue #27: the relay asks for outbox rows neither published nor parked (published_at IS NULL
// AND parked_at IS NULL) on every batch. With an index on each column, SQLite took the parked
// one, where every row that was never parked matches: each batch's "mark published" UPDATE
// and the backlog count read every event kept for retention — 43 ms per batch at 300,000 rows,
// on the all-in-one's event loop. One index over both columns and the id makes those reads as
// long as what is pending. Replaces idx_trigger_outbox_pending (published_at, id), whose every
// use it covers.
export class OutboxWaitingIndex1768262400000 implements MigrationInterface {
  name = 'OutboxWaitingIndex1768262400000';

  async up(q: QueryRunner): Promise<void> {
    await q.createIndex('trigger_outbox', new TableIndex({ name: 'idx_trigger_outbox_waiting', columnNames: ['published_at', 'parked_at', 'id'] }));
    await q.dropIndex('trigger_outbox', 'idx_trigger_outbox_pending');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.createIndex('trigger_outbox', new TableIndex({ name: 'idx_trigger_outbox_pending', columnNames: ['published_at', 'id'] }));
    await q.dropIndex('trigger_outbox', 'idx_trigger_outbox_waiting');
  }
}
