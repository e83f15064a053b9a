import { randomUUID } from 'node:crypto';
import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';

// The database's own identity, made once with its schema. The trigger service binds the
// position it commits in Kafka to it (see OutboxRelay), so a position written for another
// database — a new one behind an existing namespace, or an older copy restored from a
// backup — is recognised instead of trusted.
export class DatabaseIdentity1764979200000 implements MigrationInterface {
  name = 'DatabaseIdentity1764979200000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'database_identity',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'created_at', type: 'datetime', precision: 3 },
        ],
      }),
    );
    // A plain 'YYYY-MM-DD HH:MM:SS.mmm' string binds the same on both drivers.
    const now = new Date().toISOString().replace('T', ' ').replace('Z', '');
    await q.query('INSERT INTO database_identity (id, created_at) VALUES (?, ?)', [randomUUID(), now]);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('database_identity');
  }
}
