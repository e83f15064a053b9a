import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';

// API tokens (hashed) and the audit log of changes (issue #15, docs/security.md).
export class Access1765238400000 implements MigrationInterface {
  name = 'Access1765238400000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'api_tokens',
        columns: [
          { name: 'id', type: 'varchar', length: '12', isPrimary: true },
          { name: 'name', type: 'varchar', length: '100' },
          { name: 'role', type: 'varchar', length: '16' },
          { name: 'secret_hash', type: 'varchar', length: '64' },
          { name: 'created_at', type: 'datetime', precision: 3 },
          { name: 'created_by', type: 'varchar', length: '200' },
          { name: 'expires_at', type: 'datetime', precision: 3, isNullable: true },
          { name: 'revoked_at', type: 'datetime', precision: 3, isNullable: true },
          { name: 'last_used_at', type: 'datetime', precision: 3, isNullable: true },
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'audit_log',
        columns: [
          { name: 'seq', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          { name: 'id', type: 'varchar', length: '36', isUnique: true },
          { name: 'at', type: 'datetime', precision: 3 },
          { name: 'actor', type: 'varchar', length: '200' },
          { name: 'peer', type: 'varchar', length: '100' },
          { name: 'action', type: 'varchar', length: '40' },
          { name: 'target_type', type: 'varchar', length: '20' },
          { name: 'target_id', type: 'varchar', length: '36' },
          { name: 'target_name', type: 'varchar', length: '100' },
          { name: 'detail', type: 'varchar', length: '1000' },
        ],
        indices: [{ name: 'idx_audit_log_target', columnNames: ['target_id', 'seq'] }],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('audit_log');
    await q.dropTable('api_tokens');
  }
}
