import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

// Workspaces (issue #24, docs/decisions/0023): everything that existed moves into `default`,
// which every installation has. Nothing is renamed for existing callers: connectors keep
// their ids and names, tokens keep working with the rights they had — operator, viewer and
// ingest tokens in `default`, admin tokens (which could do everything) as installation
// admins — and console users keep their roles likewise (memberships of `default`;
// admins become installation admins). Frozen as of this migration: it must keep reading rows
// written before it, whatever the code says later.
const UNLIMITED = JSON.stringify({ maxConnectors: 0, minPollIntervalSeconds: 0, maxConcurrentRuns: 0, connectionTestsPerMinute: 0, maxStoredBytes: 0 });

export class Workspaces1767916800000 implements MigrationInterface {
  name = 'Workspaces1767916800000';

  async up(q: QueryRunner): Promise<void> {
    const mysql = q.connection.options.type === 'mysql' || q.connection.options.type === 'mariadb';
    // A plain 'YYYY-MM-DD HH:MM:SS.mmm' string binds the same on both drivers.
    const now = new Date().toISOString().replace('T', ' ').replace('Z', '');
    await q.createTable(
      new Table({
        name: 'workspaces',
        columns: [
          { name: 'id', type: 'varchar', length: '40', isPrimary: true },
          { name: 'display_name', type: 'varchar', length: '100' },
          { name: 'state', type: 'varchar', length: '16' },
          { name: 'suspended_reason', type: 'varchar', length: '500', isNullable: true },
          { name: 'suspended_at', type: 'datetime', precision: 3, isNullable: true },
          { name: 'quotas_json', type: 'text' },
          { name: 'created_at', type: 'datetime', precision: 3 },
          { name: 'created_by', type: 'varchar', length: '200' },
          { name: 'updated_at', type: 'datetime', precision: 3 },
        ],
      }),
    );
    await q.query('INSERT INTO workspaces (id, display_name, state, quotas_json, created_at, created_by, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)', ['default', 'Default', 'ACTIVE', UNLIMITED, now, 'system', now]);

    // Connectors: names are unique per workspace now.
    await q.query("ALTER TABLE connectors ADD COLUMN workspace_id varchar(40) NOT NULL DEFAULT 'default'");
    const connectors = await q.getTable('connectors');
    const onlyNameKey = (columns: readonly string[]) => columns.length === 1 && columns[0] === 'name_key';
    for (const u of connectors?.uniques.filter((x) => onlyNameKey(x.columnNames)) ?? []) await q.dropUniqueConstraint('connectors', u);
    for (const i of connectors?.indices.filter((x) => x.isUnique && onlyNameKey(x.columnNames)) ?? []) await q.dropIndex('connectors', i);
    await q.createIndex('connectors', new TableIndex({ name: 'uq_connectors_workspace_name', columnNames: ['workspace_id', 'name_key'], isUnique: true }));

    // API tokens: admins act for the installation, everyone else in `default`.
    if (mysql) await q.query('ALTER TABLE api_tokens MODIFY role varchar(20) NOT NULL');
    await q.query('ALTER TABLE api_tokens ADD COLUMN workspace_id varchar(40) NULL');
    await q.query("UPDATE api_tokens SET role = 'installation-admin' WHERE role = 'admin' AND console_user IS NULL");
    await q.query("UPDATE api_tokens SET workspace_id = 'default' WHERE role <> 'installation-admin' AND console_user IS NULL");

    // Console users: roles become memberships (admins: installation admins).
    await q.createTable(
      new Table({
        name: 'console_memberships',
        columns: [
          { name: 'user_name', type: 'varchar', length: '64', isPrimary: true },
          { name: 'workspace_id', type: 'varchar', length: '40', isPrimary: true },
          { name: 'role', type: 'varchar', length: '16' },
          { name: 'created_at', type: 'datetime', precision: 3 },
          { name: 'created_by', type: 'varchar', length: '200' },
        ],
        indices: [{ name: 'idx_console_memberships_workspace', columnNames: ['workspace_id', 'user_name'] }],
      }),
    );
    await q.query("INSERT INTO console_memberships (user_name, workspace_id, role, created_at, created_by) SELECT name, 'default', role, created_at, created_by FROM console_users WHERE role <> 'admin'");
    await q.query('ALTER TABLE console_users ADD COLUMN installation_admin boolean NOT NULL DEFAULT 0');
    await q.query("UPDATE console_users SET installation_admin = 1 WHERE role = 'admin'");
    await q.dropColumn('console_users', 'role');

    // Audit entries: the installation's own (master keys) apart, everything was `default`'s.
    await q.query("ALTER TABLE audit_log ADD COLUMN workspace_id varchar(40) NOT NULL DEFAULT 'default'");
    await q.query("UPDATE audit_log SET workspace_id = '' WHERE action = 'KEYS_ROTATED'");
    await q.createIndex('audit_log', new TableIndex({ name: 'idx_audit_log_workspace', columnNames: ['workspace_id', 'seq'] }));
  }

  async down(): Promise<void> {
    throw new Error('workspaces cannot be undone (names may repeat across workspaces); restore the backup taken before upgrading');
  }
}
