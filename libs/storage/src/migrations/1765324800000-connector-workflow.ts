import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

// Storage takes a connector's workflow and reprocess switch from the connectors topic,
// not from the fetcher that stores (issue #15): a caller cannot name the workflow an
// email starts. Rows from before are filled by the config service's republish at boot;
// until then a store for them is refused as "not known yet" and retried.
export class ConnectorWorkflow1765324800000 implements MigrationInterface {
  name = 'ConnectorWorkflow1765324800000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumns('storage_connectors', [
      new TableColumn({ name: 'workflow_id', type: 'varchar', length: '200', default: "''" }),
      new TableColumn({ name: 'reprocess', type: 'boolean', default: false }),
    ]);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumns('storage_connectors', ['workflow_id', 'reprocess']);
  }
}
