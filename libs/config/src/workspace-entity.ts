import { EntitySchema } from 'typeorm';

/** One customer of the installation (docs/decisions/0023). Quotas as one JSON document, like connector settings. */
export interface WorkspaceRow {
  id: string;
  displayName: string;
  /** ACTIVE or SUSPENDED. */
  state: string;
  suspendedReason: string | null;
  suspendedAt: Date | null;
  quotasJson: string;
  createdAt: Date;
  createdBy: string;
  updatedAt: Date;
}

export const WorkspaceEntity = new EntitySchema<WorkspaceRow>({
  name: 'Workspace',
  tableName: 'workspaces',
  columns: {
    id: { type: 'varchar', length: 40, primary: true },
    displayName: { name: 'display_name', type: 'varchar', length: 100 },
    state: { type: 'varchar', length: 16 },
    suspendedReason: { name: 'suspended_reason', type: 'varchar', length: 500, nullable: true },
    suspendedAt: { name: 'suspended_at', type: 'datetime', precision: 3, nullable: true },
    quotasJson: { name: 'quotas_json', type: 'text' },
    createdAt: { name: 'created_at', type: 'datetime', precision: 3 },
    createdBy: { name: 'created_by', type: 'varchar', length: 200 },
    updatedAt: { name: 'updated_at', type: 'datetime', precision: 3 },
  },
});
