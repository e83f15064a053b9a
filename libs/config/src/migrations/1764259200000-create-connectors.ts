import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';

// Written with TypeORM's schema builder so one migration serves SQLite and MariaDB.
export class CreateConnectors1764259200000 implements MigrationInterface {
  name = 'CreateConnectors1764259200000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'connectors',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'name', type: 'varchar', length: '100' },
          { name: 'name_key', type: 'varchar', length: '100', isUnique: true },
          { name: 'protocol', type: 'varchar', length: '8' },
          { name: 'host', type: 'varchar', length: '253' },
          { name: 'port', type: 'int' },
          { name: 'username', type: 'varchar', length: '320' },
          { name: 'password_ciphertext', type: 'text' },
          { name: 'password_key_id', type: 'varchar', length: '64' },
          { name: 'security', type: 'varchar', length: '8' },
          { name: 'connect_timeout_ms', type: 'int' },
          { name: 'fetch_timeout_ms', type: 'int' },
          { name: 'poll_interval_seconds', type: 'int' },
          { name: 'batch_size', type: 'int' },
          { name: 'retention_days', type: 'int' },
          { name: 'reprocess', type: 'boolean' },
          { name: 'workflow_id', type: 'varchar', length: '200' },
          { name: 'enabled', type: 'boolean' },
          { name: 'folder', type: 'varchar', length: '512', isNullable: true },
          { name: 'strategy', type: 'varchar', length: '16', isNullable: true },
          { name: 'move_to', type: 'varchar', length: '512', isNullable: true },
          { name: 'trusted_ca_pem', type: 'text', isNullable: true },
          { name: 'revision', type: 'int' },
          { name: 'created_at', type: 'datetime', precision: 3 },
          { name: 'updated_at', type: 'datetime', precision: 3 },
        ],
        indices: [{ name: 'idx_connectors_password_key', columnNames: ['password_key_id'] }],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('connectors');
  }
}
