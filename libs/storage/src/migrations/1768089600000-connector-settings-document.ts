import type { MigrationInterface, QueryRunner } from 'typeorm';

// Issue #26: storage keeps a connector's settings as the registry publishes them — one
// JSON document (connector-model's settingsToDocument), as the config service stores them —
// instead of a column per setting it reads, so a setting storage comes to read needs no
// migration. The four columns become the document's first keys (the config service
// republishes every connector at boot, which fills in the rest). MEDIUMTEXT on MariaDB: the
// document carries the trusted CA bundle (up to 64 KiB, more once escaped in JSON).
// Frozen as of this migration.
const COLUMNS = [
  ['name', 'name'],
  ['workflow_id', 'workflowId'],
  ['reprocess', 'reprocess'],
  ['retention_days', 'retentionDays'],
] as const;

export class ConnectorSettingsDocument1768089600000 implements MigrationInterface {
  name = 'ConnectorSettingsDocument1768089600000';

  async up(q: QueryRunner): Promise<void> {
    const mysql = q.connection.options.type === 'mysql' || q.connection.options.type === 'mariadb';
    await q.query(`ALTER TABLE storage_connectors ADD COLUMN settings_json ${mysql ? 'mediumtext' : 'text'} NULL`);
    const rows = (await q.query(`SELECT connector_id, ${COLUMNS.map(([c]) => c).join(', ')} FROM storage_connectors`)) as Array<Record<string, unknown>>;
    for (const row of rows) {
      const doc = { name: String(row['name'] ?? ''), workflowId: String(row['workflow_id'] ?? ''), reprocess: Boolean(Number(row['reprocess'])), retentionDays: Number(row['retention_days']) };
      await q.query('UPDATE storage_connectors SET settings_json = ? WHERE connector_id = ?', [JSON.stringify(doc), row['connector_id']]);
    }
    for (const [column] of COLUMNS) await q.query(`ALTER TABLE storage_connectors DROP COLUMN ${column}`);
  }

  async down(): Promise<void> {
    throw new Error('storage keeps connector settings as a document from this version on; restore the backup taken before upgrading');
  }
}
