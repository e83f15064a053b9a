import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

// Workspaces (issue #24, docs/decisions/0023): what storage holds is owned by the workspace
// of its connector, and every read asks for the caller's. Everything stored so far is
// `default`'s. The columns are added in place (no table rebuild: emails and the log may be
// large). Events waiting in the outbox get their workspace too, so a consumer routing on
// it never sees an event without one: field 16 (EmailReceived.workspace) is appended to the
// encoded payload, which protobuf reads like any other order of fields. Frozen as of this
// migration. `storage_workspaces` keeps what each workspace has stored (counted in the
// transactions that store and purge) against its quota (from the workspaces topic).
const WORKSPACE_FIELD = Buffer.from([0x82, 0x01, 0x07, ...Buffer.from('default', 'ascii')]);

export class Workspaces1767916800000 implements MigrationInterface {
  name = 'Workspaces1767916800000';

  async up(q: QueryRunner): Promise<void> {
    for (const table of ['storage_connectors', 'emails', 'connector_log', 'trigger_outbox']) {
      await q.query(`ALTER TABLE ${table} ADD COLUMN workspace_id varchar(40) NOT NULL DEFAULT 'default'`);
    }
    await q.createIndex('storage_connectors', new TableIndex({ name: 'idx_storage_connectors_workspace', columnNames: ['workspace_id'] }));
    await q.createTable(
      new Table({
        name: 'storage_workspaces',
        columns: [
          { name: 'workspace_id', type: 'varchar', length: '40', isPrimary: true },
          { name: 'max_stored_bytes', type: 'bigint', default: 0 },
          { name: 'stored_bytes', type: 'bigint', default: 0 },
          { name: 'stored_emails', type: 'bigint', default: 0 },
          { name: 'updated_at', type: 'datetime', precision: 3, isNullable: true },
        ],
      }),
    );
    await q.query("INSERT INTO storage_workspaces (workspace_id, max_stored_bytes, stored_bytes, stored_emails) SELECT 'default', 0, COALESCE(SUM(size), 0), COUNT(*) FROM emails");
    const pending = (await q.query('SELECT id, payload FROM trigger_outbox WHERE published_at IS NULL')) as Array<{ id: number | string; payload: Buffer | Uint8Array }>;
    for (const row of pending) {
      await q.query('UPDATE trigger_outbox SET payload = ? WHERE id = ?', [Buffer.concat([Buffer.from(row.payload), WORKSPACE_FIELD]), row.id]);
    }
  }

  async down(): Promise<void> {
    throw new Error('workspaces cannot be undone; restore the backup taken before upgrading');
  }
}
