import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

// Connector settings move from one column each into one JSON document (settings_json),
// so a new setting needs no schema change (decision 0015). The mapping below is frozen
// as of this migration: it must keep reading rows written before it, whatever the
// settings catalogue says later.
const COLUMNS: ReadonlyArray<readonly [column: string, key: string, kind: 'text' | 'int' | 'bool' | 'nullable']> = [
  ['name', 'name', 'text'],
  ['protocol', 'protocol', 'text'],
  ['host', 'host', 'text'],
  ['port', 'port', 'int'],
  ['username', 'username', 'text'],
  ['security', 'security', 'text'],
  ['connect_timeout_ms', 'connectTimeoutMs', 'int'],
  ['fetch_timeout_ms', 'fetchTimeoutMs', 'int'],
  ['poll_interval_seconds', 'pollIntervalSeconds', 'int'],
  ['batch_size', 'batchSize', 'int'],
  ['retention_days', 'retentionDays', 'int'],
  ['reprocess', 'reprocess', 'bool'],
  ['workflow_id', 'workflowId', 'text'],
  ['enabled', 'enabled', 'bool'],
  ['folder', 'folder', 'nullable'],
  ['strategy', 'strategy', 'nullable'],
  ['move_to', 'moveTo', 'nullable'],
  ['trusted_ca_pem', 'trustedCaPem', 'nullable'],
];

export class ConnectorSettingsDocument1765065600000 implements MigrationInterface {
  name = 'ConnectorSettingsDocument1765065600000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumn('connectors', new TableColumn({ name: 'settings_json', type: 'text', isNullable: true }));
    const rows = (await q.query(`SELECT id, ${COLUMNS.map(([c]) => c).join(', ')} FROM connectors`)) as Array<Record<string, unknown>>;
    for (const row of rows) {
      const doc: Record<string, unknown> = {};
      for (const [column, key, kind] of COLUMNS) {
        const v = row[column];
        doc[key] = kind === 'int' ? Number(v) : kind === 'bool' ? Boolean(Number(v)) : kind === 'nullable' ? (v ?? null) : String(v);
      }
      await q.query('UPDATE connectors SET settings_json = ? WHERE id = ?', [JSON.stringify(doc), row['id']]);
    }
    await q.changeColumn('connectors', 'settings_json', new TableColumn({ name: 'settings_json', type: 'text', isNullable: false }));
    await q.dropColumns('connectors', COLUMNS.map(([column]) => column));
  }

  async down(): Promise<void> {
    throw new Error('connector settings cannot be moved back into columns; restore the backup taken before upgrading');
  }
}
