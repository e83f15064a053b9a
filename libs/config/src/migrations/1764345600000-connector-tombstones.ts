import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';

// Deletions are remembered so a deletion whose event was lost (crash between commit and
// publish) is republished at the next boot, like upserts are.
export class ConnectorTombstones1764345600000 implements MigrationInterface {
  name = 'ConnectorTombstones1764345600000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'connector_tombstones',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'purge_emails_now', type: 'boolean' },
          { name: 'deleted_at', type: 'datetime', precision: 3 },
        ],
        indices: [{ name: 'idx_connector_tombstones_deleted_at', columnNames: ['deleted_at'] }],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('connector_tombstones');
  }
}
