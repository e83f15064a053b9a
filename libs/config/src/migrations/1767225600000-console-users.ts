import { Table, TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

// The web console (issue #11): its users (scrypt password hashes), and console sessions as
// API tokens marked with the signed-in user's name. Existing tokens are not sessions.
export class ConsoleUsers1767225600000 implements MigrationInterface {
  name = 'ConsoleUsers1767225600000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'console_users',
        columns: [
          { name: 'name', type: 'varchar', length: '64', isPrimary: true },
          { name: 'role', type: 'varchar', length: '16' },
          { name: 'password_hash', type: 'varchar', length: '200' },
          { name: 'created_at', type: 'datetime', precision: 3 },
          { name: 'created_by', type: 'varchar', length: '200' },
          { name: 'last_sign_in_at', type: 'datetime', precision: 3, isNullable: true },
        ],
      }),
    );
    await q.addColumn('api_tokens', new TableColumn({ name: 'console_user', type: 'varchar', length: '64', isNullable: true }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('api_tokens', 'console_user');
    await q.dropTable('console_users');
  }
}
