import { TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

// Issue #26: an event the relay cannot publish (larger than TRIGGER_MAX_EVENT_BYTES) is parked —
// set aside with its reason — so the events behind it go on. Parked rows are neither pending nor
// published; `postbote events retry` puts one back in line.
export class OutboxParking1768003200000 implements MigrationInterface {
  name = 'OutboxParking1768003200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE trigger_outbox ADD COLUMN parked_at datetime(3) NULL');
    await q.query('ALTER TABLE trigger_outbox ADD COLUMN parked_reason varchar(500) NULL');
    await q.createIndex('trigger_outbox', new TableIndex({ name: 'idx_trigger_outbox_parked', columnNames: ['parked_at', 'id'] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropIndex('trigger_outbox', 'idx_trigger_outbox_parked');
    await q.query('ALTER TABLE trigger_outbox DROP COLUMN parked_reason');
    await q.query('ALTER TABLE trigger_outbox DROP COLUMN parked_at');
  }
}
