import { Table, type MigrationInterface, type QueryRunner, type TableColumnOptions } from 'typeorm';

const dt = (name: string, nullable = false): TableColumnOptions => ({ name, type: 'datetime', precision: 3, isNullable: nullable });

// One migration for SQLite and MariaDB. The only driver difference: MariaDB's BLOB holds
// 64 KiB, so chunks use MEDIUMBLOB (16 MiB) there.
export class CreateStorage1764432000000 implements MigrationInterface {
  name = 'CreateStorage1764432000000';

  async up(q: QueryRunner): Promise<void> {
    const mysql = q.connection.options.type === 'mysql' || q.connection.options.type === 'mariadb';
    await q.createTable(
      new Table({
        name: 'emails',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'connector_id', type: 'varchar', length: '36' },
          { name: 'event_id', type: 'varchar', length: '36' },
          { name: 'source_kind', type: 'varchar', length: '8' },
          { name: 'folder', type: 'varchar', length: '512', isNullable: true },
          { name: 'uid_validity', type: 'bigint', isNullable: true },
          { name: 'uid', type: 'bigint', isNullable: true },
          { name: 'uidl', type: 'varchar', length: '255', isNullable: true },
          { name: 'occurrence', type: 'varchar', length: '128' },
          { name: 'message_id', type: 'varchar', length: '998' },
          { name: 'sha256', type: 'varchar', length: '64' },
          { name: 'size', type: 'bigint' },
          { name: 'chunk_count', type: 'int' },
          { name: 'metadata_json', type: mysql ? 'mediumtext' : 'text' },
          { name: 'subject', type: 'varchar', length: '998' },
          { name: 'parse_error', type: 'text', isNullable: true },
          dt('received_at'),
          dt('stored_at'),
        ],
        indices: [
          { name: 'idx_emails_connector_stored', columnNames: ['connector_id', 'stored_at', 'id'] },
          { name: 'idx_emails_stored', columnNames: ['stored_at'] },
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'email_chunks',
        columns: [
          { name: 'email_id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'seq', type: 'int', isPrimary: true },
          { name: 'data', type: mysql ? 'mediumblob' : 'blob' },
          dt('created_at'),
        ],
        indices: [{ name: 'idx_email_chunks_created', columnNames: ['created_at'] }],
      }),
    );
    await q.createTable(
      new Table({
        name: 'email_dedupe',
        columns: [
          { name: 'connector_id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'key_hash', type: 'varchar', length: '64', isPrimary: true },
          { name: 'kind', type: 'varchar', length: '8' },
          { name: 'email_id', type: 'varchar', length: '36' },
          { name: 'event_id', type: 'varchar', length: '36' },
          dt('created_at'),
        ],
        indices: [{ name: 'idx_email_dedupe_created', columnNames: ['created_at'] }],
      }),
    );
    await q.createTable(
      new Table({
        name: 'trigger_outbox',
        columns: [
          { name: 'id', type: mysql ? 'bigint' : 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          { name: 'event_id', type: 'varchar', length: '36', isUnique: true },
          { name: 'email_id', type: 'varchar', length: '36' },
          { name: 'connector_id', type: 'varchar', length: '36' },
          // The encoded EmailReceived event (protobuf), complete at store time.
          { name: 'payload', type: mysql ? 'mediumblob' : 'blob' },
          dt('created_at'),
          dt('published_at', true),
        ],
        indices: [{ name: 'idx_trigger_outbox_pending', columnNames: ['published_at', 'id'] }],
      }),
    );
    // One row whose lock orders outbox commits; see EmailStore.
    await q.createTable(new Table({ name: 'trigger_outbox_lock', columns: [{ name: 'id', type: 'int', isPrimary: true }] }));
    await q.query('INSERT INTO trigger_outbox_lock (id) VALUES (1)');
    await q.createTable(
      new Table({
        name: 'connector_log',
        columns: [
          { name: 'id', type: mysql ? 'bigint' : 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          { name: 'connector_id', type: 'varchar', length: '36' },
          dt('time'),
          { name: 'level', type: 'int' },
          { name: 'code', type: 'varchar', length: '64' },
          { name: 'message', type: 'text' },
        ],
        indices: [
          { name: 'idx_connector_log_connector', columnNames: ['connector_id', 'id'] },
          { name: 'idx_connector_log_time', columnNames: ['time'] },
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'storage_connectors',
        columns: [
          { name: 'connector_id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'name', type: 'varchar', length: '100' },
          { name: 'retention_days', type: 'int' },
          dt('deleted_at', true),
          { name: 'purge_now', type: 'boolean' },
          dt('updated_at'),
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['storage_connectors', 'connector_log', 'trigger_outbox_lock', 'trigger_outbox', 'email_dedupe', 'email_chunks', 'emails']) await q.dropTable(t);
  }
}
