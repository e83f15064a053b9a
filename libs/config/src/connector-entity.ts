import { EntitySchema } from 'typeorm';

/**
 * One row of `connectors`, owned by the config service: identity, uniqueness, the sealed
 * secrets and bookkeeping as columns; the settings as one JSON document
 * (connector-model's settingsToDocument).
 */
export interface ConnectorRow {
  id: string;
  /** The workspace that owns it; names are unique within it. */
  workspaceId: string;
  /** lower(name): uniqueness (per workspace) that behaves the same on SQLite and MariaDB collations. */
  nameKey: string;
  settingsJson: string;
  /** '' when the connector has no password (OAUTH2). */
  passwordCiphertext: string;
  passwordKeyId: string;
  /** The other secrets (connector-secrets.ts), sealed as one JSON value; null when none. */
  secretsCiphertext: string | null;
  secretsKeyId: string | null;
  /** Comma-separated names of the secrets in secretsCiphertext (not secret themselves). */
  secretKeys: string | null;
  revision: number;
  createdAt: Date;
  updatedAt: Date;
}

export const ConnectorEntity = new EntitySchema<ConnectorRow>({
  name: 'Connector',
  tableName: 'connectors',
  columns: {
    id: { type: 'varchar', length: 36, primary: true },
    workspaceId: { name: 'workspace_id', type: 'varchar', length: 40 },
    nameKey: { name: 'name_key', type: 'varchar', length: 100 },
    settingsJson: { name: 'settings_json', type: 'text' },
    passwordCiphertext: { name: 'password_ciphertext', type: 'text' },
    passwordKeyId: { name: 'password_key_id', type: 'varchar', length: 64 },
    secretsCiphertext: { name: 'secrets_ciphertext', type: 'text', nullable: true },
    secretsKeyId: { name: 'secrets_key_id', type: 'varchar', length: 64, nullable: true },
    secretKeys: { name: 'secret_keys', type: 'varchar', length: 200, nullable: true },
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
