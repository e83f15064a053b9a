import { EntitySchema } from 'typeorm';

/** One row of `connectors`, owned by the config service. */
export interface ConnectorRow {
  id: string;
  name: string;
  /** lower(name): uniqueness that behaves the same on SQLite and MariaDB collations. */
  nameKey: string;
  protocol: string;
  host: string;
  port: number;
  username: string;
  passwordCiphertext: string;
  passwordKeyId: string;
  security: string;
  connectTimeoutMs: number;
  fetchTimeoutMs: number;
  pollIntervalSeconds: number;
  batchSize: number;
  retentionDays: number;
  reprocess: boolean;
  workflowId: string;
  enabled: boolean;
  folder: string | null;
  strategy: string | null;
  moveTo: string | null;
  trustedCaPem: string | null;
  revision: number;
  createdAt: Date;
  updatedAt: Date;
}

export const ConnectorEntity = new EntitySchema<ConnectorRow>({
  name: 'Connector',
  tableName: 'connectors',
  columns: {
    id: { type: 'varchar', length: 36, primary: true },
    name: { type: 'varchar', length: 100 },
    nameKey: { name: 'name_key', type: 'varchar', length: 100, unique: true },
    protocol: { type: 'varchar', length: 8 },
    host: { type: 'varchar', length: 253 },
    port: { type: 'int' },
    username: { type: 'varchar', length: 320 },
    passwordCiphertext: { name: 'password_ciphertext', type: 'text' },
    passwordKeyId: { name: 'password_key_id', type: 'varchar', length: 64 },
    security: { type: 'varchar', length: 8 },
    connectTimeoutMs: { name: 'connect_timeout_ms', type: 'int' },
    fetchTimeoutMs: { name: 'fetch_timeout_ms', type: 'int' },
    pollIntervalSeconds: { name: 'poll_interval_seconds', type: 'int' },
    batchSize: { name: 'batch_size', type: 'int' },
    retentionDays: { name: 'retention_days', type: 'int' },
    reprocess: { type: 'boolean' },
    workflowId: { name: 'workflow_id', type: 'varchar', length: 200 },
    enabled: { type: 'boolean' },
    folder: { type: 'varchar', length: 512, nullable: true },
    strategy: { type: 'varchar', length: 16, nullable: true },
    moveTo: { name: 'move_to', type: 'varchar', length: 512, nullable: true },
    trustedCaPem: { name: 'trusted_ca_pem', type: 'text', nullable: true },
    revision: { type: 'int' },
    createdAt: { name: 'created_at', type: 'datetime', precision: 3 },
    updatedAt: { name: 'updated_at', type: 'datetime', precision: 3 },
  },
});

export interface TombstoneRow {
  id: string;
  purgeEmailsNow: boolean;
  deletedAt: Date;
}

export const TombstoneEntity = new EntitySchema<TombstoneRow>({
  name: 'ConnectorTombstone',
  tableName: 'connector_tombstones',
  columns: {
    id: { type: 'varchar', length: 36, primary: true },
    purgeEmailsNow: { name: 'purge_emails_now', type: 'boolean' },
    deletedAt: { name: 'deleted_at', type: 'datetime', precision: 3 },
  },
});
